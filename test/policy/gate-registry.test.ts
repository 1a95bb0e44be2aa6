// One quality-gate policy, evaluated by `berth gate` (CI) and by a real Berth registry (the
// project's gate policy, images pushed with skopeo) on the same hand-built images: the
// push-decidable rules (maxSize, requiredLabels, baseImages, platforms) get identical verdicts,
// a refused push answers DENIED naming each failed rule, the verdict of every push (accepted
// or refused) is recorded and shown by the API, indexes are judged on their platforms,
// signatures and other artifacts are never gated. Also `berth admin gate set/show/rm` and the
// gate-policy API's 400 (bad policy, naming the key) and 403 (not a project admin).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PUSH_DECIDABLE } from "../../src/policy/gate.js";
import { berth, berthOk } from "../cli/berth-cli.js";
import { RECORDS_DIR } from "../scan/fixtures.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { type CommandResult, run } from "../support/process-control.js";
import {
  APP_LAYER,
  BASE_LAYER,
  type GateImage,
  type GateImageSpec,
  GOOD_LABELS,
  randomFile,
  writeGateImage,
  writeGateIndex,
} from "./gate-images.js";

const PASSWORD = "gate-registry-admin-1";
const CREDS = `admin:${PASSWORD}`;
const DEV_CREDS = "dev:gate-registry-dev-1";
const adminEnv = { BERTH_USERNAME: "admin", BERTH_PASSWORD: PASSWORD };

let server: BerthProcess;
let work: string;
let policyFile: string;

interface RuleResult {
  rule: string;
  status: string;
  message: string;
  evidence: string[];
}
interface Verdict {
  verdict: "pass" | "fail";
  digest: string;
  rules: RuleResult[];
}

function skopeo(args: string[]): Promise<CommandResult> {
  return run("skopeo", args, { timeoutMs: 120_000 });
}

function pushImage(image: GateImage, name: string, all = false): Promise<CommandResult> {
  return skopeo([
    "copy",
    ...(all ? ["--all"] : []),
    "--dest-tls-verify=false",
    "--dest-creds",
    CREDS,
    image.reference,
    `docker://${server.host}/team/${name}:1`,
  ]);
}

function admin(...args: string[]): Promise<CommandResult> {
  return berth(["admin", "--server", server.url, ...args], { env: adminEnv });
}

async function api(
  method: string,
  path: string,
  body?: unknown,
  creds = CREDS,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(creds).toString("base64")}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function cliVerdict(image: GateImage, platform?: string): Promise<Verdict> {
  const r = await berth([
    "gate",
    image.reference,
    "--policy",
    policyFile,
    "--format",
    "json",
    "--creds",
    CREDS,
    ...(platform ? ["--platform", platform] : []),
  ]);
  expect([0, 1], r.stderr).toContain(r.code);
  return JSON.parse(r.stdout) as Verdict;
}

async function recorded(name: string, digest: string): Promise<Verdict> {
  const r = await api(
    "GET",
    `/projects/team/repositories/${encodeURIComponent(`team/${name}`)}/artifacts/${digest}/gate`,
  );
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json as Verdict;
}

const statuses = (v: Verdict, rules: (r: string) => boolean) =>
  Object.fromEntries(v.rules.filter((r) => rules(r.rule)).map((r) => [r.rule, r.status]));
const pushRule = (r: string) => PUSH_DECIDABLE.has(r as never);

const on = (layers: GateImageSpec["layers"], extra: Partial<GateImageSpec> = {}) => ({
  layers,
  labels: GOOD_LABELS,
  ...extra,
});

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-gate-registry-"));
  server = await startBerth({
    env: {
      BERTH_AUTH: "token",
      BERTH_ADMIN_PASSWORD: PASSWORD,
      BERTH_LOG_LEVEL: "warn",
    },
  });
  await berthOk(["admin", "--server", server.url, "project", "create", "team"], { env: adminEnv });
  const base = await writeGateImage(join(work, "base"), "1", { layers: [BASE_LAYER] });
  const pushed = await pushImage(base, "base");
  expect(pushed.code, pushed.stderr).toBe(0);
  policyFile = join(work, "gate.yaml");
  await writeFile(
    policyFile,
    `maxSize: 40kB
maxUncompressedSize: 10MB
requiredLabels:
  maintainer: '@example\\.com$'
  version: '^\\d+\\.\\d+\\.\\d+$'
baseImages:
  - ${server.host}/team/base:1
platforms: [linux/amd64]
`,
  );
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("berth admin gate and the gate-policy API", () => {
  it("set names the rules enforced at push and those that are not; show prints the file", async () => {
    const set = await admin("gate", "set", "team", policyFile);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).toMatch(
      /enforced at push: maxSize, requiredLabels, baseImages, platforms; not decidable at push: maxUncompressedSize/,
    );
    const show = await admin("gate", "show", "team");
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("maxSize: 40kB");
    expect(show.stderr).toMatch(/set by admin at/);
    const json = await admin("--format", "json", "gate", "show", "team");
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      project: "team",
      pushRules: ["maxSize", "requiredLabels", "baseImages", "platforms"],
    });
  }, 60_000);

  it("a bad policy is refused naming the key: CLI exit 2, API 400; nothing is replaced", async () => {
    const bad = join(work, "bad.yaml");
    await writeFile(bad, "maxSise: 1MB\n");
    const r = await admin("gate", "set", "team", bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown key "maxSise"/);
    const put = await api("PUT", "/projects/team/gate-policy", { policy: "maxSise: 1MB\n" });
    expect(put.status).toBe(400);
    expect(JSON.stringify(put.json)).toMatch(/unknown key \\"maxSise\\"/);
    const nested = await api("PUT", "/projects/team/gate-policy", {
      policy: "vulnerabilities:\n  max: {critical: 0}\n  ignoreUnfixd: true\n",
    });
    expect(nested.status).toBe(400);
    expect(JSON.stringify(nested.json)).toMatch(/ignoreUnfixd/);
    const get = await api("GET", "/projects/team/gate-policy");
    expect((get.json as { policy: string }).policy).toContain("maxSize: 40kB");
  }, 60_000);

  it("a developer of the project may read the policy but not change or remove it (403)", async () => {
    const [user, password] = DEV_CREDS.split(":") as [string, string];
    await berthOk(["admin", "--server", server.url, "user", "create", user, "--password-stdin"], {
      env: adminEnv,
      input: `${password}\n`,
    });
    await berthOk(["admin", "--server", server.url, "member", "add", "team", user, "developer"], {
      env: adminEnv,
    });
    expect((await api("GET", "/projects/team/gate-policy", undefined, DEV_CREDS)).status).toBe(200);
    const put = await api(
      "PUT",
      "/projects/team/gate-policy",
      { policy: "maxSize: 1GB\n" },
      DEV_CREDS,
    );
    expect(put.status).toBe(403);
    const del = await api("DELETE", "/projects/team/gate-policy", undefined, DEV_CREDS);
    expect(del.status).toBe(403);
    const get = await api("GET", "/projects/team/gate-policy");
    expect((get.json as { policy: string }).policy).toContain("maxSize: 40kB");
  }, 60_000);
});

describe("one policy, the same verdicts in CI and at push", () => {
  const foreignLayer = [randomFile("base/other.bin", "gate-foreign", 8 * 1024)];
  const cases: [name: string, spec: GateImageSpec, failing: string[], platform?: string][] = [
    ["good", on([BASE_LAYER, APP_LAYER]), []],
    ["big", on([BASE_LAYER, [randomFile("app/big.bin", "gate-big", 45 * 1000)]]), ["maxSize"]],
    [
      "nolabel",
      on([BASE_LAYER, APP_LAYER], { labels: { maintainer: GOOD_LABELS.maintainer } }),
      ["requiredLabels"],
    ],
    [
      "badlabel",
      on([BASE_LAYER, APP_LAYER], { labels: { ...GOOD_LABELS, version: "latest" } }),
      ["requiredLabels"],
    ],
    ["foreign", on([foreignLayer, APP_LAYER]), ["baseImages"]],
    [
      "arm",
      on([BASE_LAYER, APP_LAYER], { platform: { os: "linux", architecture: "arm64" } }),
      ["platforms"],
      "linux/arm64",
    ],
    [
      "twofold",
      on([foreignLayer, [randomFile("app/big.bin", "gate-big", 45 * 1000)]], { labels: {} }),
      ["maxSize", "requiredLabels", "baseImages"],
    ],
  ];

  for (const [name, spec, failing, platform] of cases) {
    it(`${name}: ${failing.length ? `refused on ${failing.join(", ")}` : "accepted"}, as berth gate says`, async () => {
      const image = await writeGateImage(join(work, name), "1", spec);
      const cli = await cliVerdict(image, platform);
      expect(cli.rules.filter((r) => r.status === "fail").map((r) => r.rule)).toEqual(failing);
      const push = await pushImage(image, name);
      if (failing.length === 0) {
        expect(push.code, push.stderr).toBe(0);
      } else {
        expect(push.code).not.toBe(0);
        expect(push.stderr).toMatch(/denied/i);
        expect(push.stderr).toMatch(/quality gate of project \\?"team\\?" refuses this image/);
        for (const rule of failing) expect(push.stderr).toContain(`${rule}: `);
        for (const rule of ["maxSize", "requiredLabels", "baseImages", "platforms"]) {
          if (!failing.includes(rule)) expect(push.stderr).not.toContain(`${rule}: `);
        }
      }
      const stored = await recorded(name, image.digest);
      expect(stored.verdict).toBe(failing.length ? "fail" : "pass");
      expect(statuses(stored, pushRule)).toEqual(statuses(cli, pushRule));
      // The rule the registry cannot decide at push is undecided there, decided by the CLI.
      expect(statuses(stored, (r) => r === "maxUncompressedSize")).toEqual({
        maxUncompressedSize: "undecided",
      });
      expect(statuses(cli, (r) => r === "maxUncompressedSize")).toEqual({
        maxUncompressedSize: "pass",
      });
      for (const r of stored.rules.filter((x) => x.status === "fail")) {
        const mine = cli.rules.find((x) => x.rule === r.rule)!;
        expect(r.evidence).toEqual(mine.evidence);
      }
    }, 180_000);
  }
});

describe("indexes and artifacts", () => {
  it("an index offering every required platform is accepted; one lacking linux/amd64 is refused", async () => {
    const good = await writeGateIndex(join(work, "multi"), "1", [
      on([BASE_LAYER, APP_LAYER], { platform: { os: "linux", architecture: "amd64" } }),
      on([BASE_LAYER, APP_LAYER], { platform: { os: "linux", architecture: "arm64" } }),
    ]);
    const cliGood = await cliVerdict(good, "linux/amd64");
    expect(cliGood.verdict).toBe("pass");
    const ok = await pushImage(good, "multi", true);
    expect(ok.code, ok.stderr).toBe(0);
    const storedGood = await recorded("multi", good.digest);
    expect(storedGood.verdict).toBe("pass");
    expect(statuses(storedGood, (r) => r === "platforms")).toEqual({ platforms: "pass" });

    const armOnly = await writeGateIndex(join(work, "armonly"), "1", [
      on([BASE_LAYER, APP_LAYER], { platform: { os: "linux", architecture: "arm64" } }),
      on([BASE_LAYER, APP_LAYER], { platform: { os: "linux", architecture: "s390x" } }),
    ]);
    const cliArm = await cliVerdict(armOnly, "linux/arm64");
    expect(cliArm.rules.filter((r) => r.status === "fail").map((r) => r.rule)).toEqual([
      "platforms",
    ]);
    const refused = await pushImage(armOnly, "armonly", true);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("platforms: missing required platform(s): linux/amd64");
    const storedArm = await recorded("armonly", armOnly.digest);
    expect(statuses(storedArm, (r) => r === "platforms")).toEqual(
      statuses(cliArm, (r) => r === "platforms"),
    );
  }, 240_000);

  it("an index whose platform image breaks a rule is refused at that image", async () => {
    const index = await writeGateIndex(join(work, "halfbad"), "1", [
      on([BASE_LAYER, APP_LAYER], { platform: { os: "linux", architecture: "amd64" } }),
      on([BASE_LAYER, APP_LAYER], {
        platform: { os: "linux", architecture: "arm64" },
        labels: { maintainer: "nobody" },
      }),
    ]);
    const r = await pushImage(index, "halfbad", true);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/requiredLabels: .*label version is missing/);
  }, 180_000);

  it("signatures (tag scheme and referrers) and other artifacts are never gated", async () => {
    const keyEnv = { COSIGN_PASSWORD: "pw" };
    await berthOk(["key", "generate", "--output-key-prefix", join(work, "k")], { env: keyEnv });
    const target = `${server.host}/team/good:1`;
    const key = join(work, "k.key");
    await berthOk(["sign", "--creds", CREDS, "--key", key, target], { env: keyEnv });
    await berthOk(
      ["sign", "--creds", CREDS, "--key", key, "--registry-referrers-mode", "oci-1-1", target],
      { env: keyEnv },
    );
    const v = await berth(["verify", "--creds", CREDS, "--key", join(work, "k.pub"), target]);
    expect(v.code, v.stderr).toBe(0);
    await berthOk(["db", "import", "--db-dir", join(work, "db"), RECORDS_DIR]);
    await berthOk([
      "db",
      "push",
      "--creds",
      CREDS,
      "--db-dir",
      join(work, "db"),
      `${server.host}/team/osv-db:latest`,
    ]);
  }, 180_000);

  it("after berth admin gate rm the refused image is accepted", async () => {
    const removed = await admin("gate", "rm", "team");
    expect(removed.code, removed.stderr).toBe(0);
    const show = await admin("gate", "show", "team");
    expect(show.code).toBe(1);
    expect(show.stderr).toMatch(/has no gate policy/);
    const image = await writeGateImage(join(work, "big"), "1", cases2big());
    const push = await pushImage(image, "big");
    expect(push.code, push.stderr).toBe(0);
  }, 120_000);
});

function cases2big(): GateImageSpec {
  return on([BASE_LAYER, [randomFile("app/big.bin", "gate-big", 45 * 1000)]]);
}
