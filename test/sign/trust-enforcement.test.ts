// Per-project trust policies enforced by a real Berth (token auth on) against real clients:
// in enforce mode podman and skopeo pulls of unsigned images fail with the policy's message
// and signed ones pass; signatures themselves stay pullable; an index passes when it or all
// its platform images are signed; replacing the trusted key takes effect at once; report
// mode lets pulls through and audits them; the artifact API lists each signature's verdict.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachmentTag } from "../../src/sign/attached.js";
import { berth, berthOk } from "../cli/berth-cli.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { type ContainerStorage, privateContainerStorage } from "../support/container-tools.js";
import { type CommandResult, run } from "../support/process-control.js";
import { syntheticImageLayout, twoPlatformIndexLayout } from "../support/synthetic-images.js";

const ADMIN_PASSWORD = "trust-admin-pass-1";
const CREDS = `admin:${ADMIN_PASSWORD}`;
const keyEnv = { COSIGN_PASSWORD: "pw" };

let server: BerthProcess;
let work: string;
let adminEnv: NodeJS.ProcessEnv;
const digests: Record<string, string> = {};

/** skopeo/podman that report failure instead of throwing: refusals are what we test. */
function skopeo(args: string[]): Promise<CommandResult> {
  return run("skopeo", args, { timeoutMs: 120_000 });
}

function podman(storage: ContainerStorage, args: string[]): Promise<CommandResult> {
  return run(
    "podman",
    [...storage.globalFlags, "--cgroup-manager", "cgroupfs", "--events-backend", "file", ...args],
    { env: storage.env, timeoutMs: 180_000 },
  );
}

function ref(name: string): string {
  return `${server.host}/team/${name}:1.0`;
}

async function push(name: string, seed: string): Promise<void> {
  const layout = await syntheticImageLayout(join(work, name), "1.0", {
    label: seed,
    layers: [{ seed, size: 8 * 1024 }],
  });
  await berthOk(["copy", "--creds", CREDS, layout.reference, ref(name)]);
  digests[name] = layout.manifest.digest;
}

async function trustSet(mode: string, ...keys: string[]): Promise<void> {
  const args = ["admin", "--server", server.url, "trust", "set", "team", "--mode", mode];
  for (const k of keys) args.push("--key", join(work, `${k}.pub`));
  await berthOk(args, { env: adminEnv });
}

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(CREDS).toString("base64")}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-trust-"));
  await mkdir(join(work, "home"), { recursive: true });
  adminEnv = { BERTH_USERNAME: "admin", BERTH_PASSWORD: ADMIN_PASSWORD };
  server = await startBerth({
    env: {
      BERTH_AUTH: "token",
      BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BERTH_AUTO_CREATE_PROJECTS: "true",
      BERTH_LOG_LEVEL: "warn",
    },
  });
  for (const k of ["k1", "k2"])
    await berthOk(["key", "generate", "--output-key-prefix", join(work, k)], { env: keyEnv });
  await push("signed", "signed");
  await push("unsigned", "unsigned");
  await berthOk(["sign", "--creds", CREDS, "--key", join(work, "k1.key"), ref("signed")], {
    env: keyEnv,
  });
  const multi = await twoPlatformIndexLayout(join(work, "multi"), "1.0", "trustmulti");
  await berthOk(["copy", "--all", "--creds", CREDS, multi.reference, ref("multi")]);
  digests.multi = multi.index.digest;
  // Only the platform images are signed, not the index: --recursive semantics still pass.
  for (const { image } of multi.images) {
    await berthOk(
      [
        "sign",
        "--creds",
        CREDS,
        "--key",
        join(work, "k1.key"),
        `${server.host}/team/multi@${image.manifest.digest}`,
      ],
      { env: keyEnv },
    );
  }
  await trustSet("enforce", "k1");
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("enforce mode", () => {
  it("skopeo: an unsigned image is refused with the policy's message, a signed one is served", async () => {
    const refused = await skopeo([
      "inspect",
      "--tls-verify=false",
      "--creds",
      CREDS,
      `docker://${ref("unsigned")}`,
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /trust policy of project \\?"team\\?" requires a valid signature/,
    );
    const ok = await skopeo([
      "inspect",
      "--tls-verify=false",
      "--creds",
      CREDS,
      `docker://${ref("signed")}`,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).Digest).toBe(digests.signed);
  });

  it("podman: pull of the unsigned image fails, the signed one and the index of signed platforms pass", async () => {
    const storage = await privateContainerStorage();
    try {
      const refused = await podman(storage, [
        "pull",
        "--tls-verify=false",
        "--creds",
        CREDS,
        ref("unsigned"),
      ]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/trust policy/);
      const ok = await podman(storage, [
        "pull",
        "--tls-verify=false",
        "--creds",
        CREDS,
        ref("signed"),
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      const multi = await podman(storage, [
        "pull",
        "--tls-verify=false",
        "--creds",
        CREDS,
        "--arch",
        "arm64",
        ref("multi"),
      ]);
      expect(multi.code, multi.stderr).toBe(0);
    } finally {
      await storage.remove();
    }
  });

  it("signatures stay pullable, so verifiers can fetch them", async () => {
    const sig = `docker://${server.host}/team/signed:${attachmentTag(digests.signed!, "sig")}`;
    const r = await skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", CREDS, sig]);
    expect(r.code, r.stderr).toBe(0);
    const v = await berth([
      "verify",
      "--creds",
      CREDS,
      "--key",
      join(work, "k1.pub"),
      ref("signed"),
    ]);
    expect(v.code, v.stderr).toBe(0);
  });

  it("the artifact API lists each signature with its verdict against the trusted keys", async () => {
    const r = await api(
      "GET",
      `/api/v1/projects/team/repositories/${encodeURIComponent("team/signed")}/artifacts/1.0/signatures`,
    );
    expect(r.status).toBe(200);
    const body = r.json as {
      signed: boolean;
      signatures: Array<{ verified: boolean; format: string; keyFingerprint?: string }>;
    };
    expect(body.signed).toBe(true);
    expect(body.signatures[0]).toMatchObject({ verified: true, format: "simplesigning" });
    const policy = await api("GET", "/api/v1/projects/team/trust");
    expect((policy.json as { keys: Array<{ fingerprint: string }> }).keys[0]?.fingerprint).toBe(
      body.signatures[0]?.keyFingerprint,
    );
  });

  it("refuses bad policies with 400 and changes nothing", async () => {
    expect(
      (await api("PUT", "/api/v1/projects/team/trust", { mode: "enforce", keys: [] })).status,
    ).toBe(400);
    const garbage = await api("PUT", "/api/v1/projects/team/trust", {
      mode: "enforce",
      keys: ["not a key"],
    });
    expect(garbage.status).toBe(400);
    expect(JSON.stringify(garbage.json)).toMatch(/keys\[0\]/);
    expect((await api("PUT", "/api/v1/projects/team/trust", { mode: "strict" })).status).toBe(400);
    expect(((await api("GET", "/api/v1/projects/team/trust")).json as { mode: string }).mode).toBe(
      "enforce",
    );
  });
});

describe("key rotation and report mode", () => {
  it("replacing the trusted key takes effect at once", async () => {
    await trustSet("enforce", "k2");
    const refused = await skopeo([
      "inspect",
      "--tls-verify=false",
      "--creds",
      CREDS,
      `docker://${ref("signed")}`,
    ]);
    expect(refused.code).not.toBe(0);
    await berthOk(["sign", "--creds", CREDS, "--key", join(work, "k2.key"), ref("signed")], {
      env: keyEnv,
    });
    const ok = await skopeo([
      "inspect",
      "--tls-verify=false",
      "--creds",
      CREDS,
      `docker://${ref("signed")}`,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("report mode serves unsigned images and audits the pull; the refusals are audited too", async () => {
    await trustSet("report", "k2");
    const ok = await skopeo([
      "inspect",
      "--tls-verify=false",
      "--creds",
      CREDS,
      `docker://${ref("unsigned")}`,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const shown = await berthOk(
      ["admin", "--server", server.url, "--format", "json", "trust", "show", "team"],
      { env: adminEnv },
    );
    expect(JSON.parse(shown.stdout).mode).toBe("report");
    let entries: Array<{
      action: string;
      outcome: string;
      detail?: string | Record<string, unknown>;
    }> = [];
    for (let i = 0; i < 50; i++) {
      const audit = await api("GET", "/api/v1/projects/team/audit?page_size=100");
      entries = (audit.json as { items: typeof entries }).items.filter((e) =>
        JSON.stringify(e.detail ?? "").includes("trust"),
      );
      if (
        entries.some((e) => e.outcome === "success") &&
        entries.some((e) => e.outcome === "failure")
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(entries.some((e) => e.action === "pull" && e.outcome === "failure")).toBe(true);
    expect(entries.some((e) => e.action === "pull" && e.outcome === "success")).toBe(true);
    const all = await api("GET", "/api/v1/projects/team/audit?page_size=100");
    expect(JSON.stringify(all.json)).toContain("trust.update");
  });

  it("off mode gates nothing", async () => {
    await trustSet("off");
    const ok = await skopeo([
      "inspect",
      "--tls-verify=false",
      "--creds",
      CREDS,
      `docker://${ref("unsigned")}`,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
  });
});
