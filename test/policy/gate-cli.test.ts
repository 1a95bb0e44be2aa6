// `berth gate` as CI runs it (node bin/berth.js gate …) on hand-built OCI layouts: a compliant
// image passes every rule; images that each break one rule fail that rule only, naming the
// evidence; vulnerabilities are matched against the real OSV fixture records (allowlist, its
// expiry, ignoreUnfixed); SARIF validates against the SARIF 2.1.0 schema, JUnit parses, HTML is
// one self-contained file; bad policies and unreadable images exit 2 with one sentence.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AjvDraft04 from "ajv-draft-04";
import addFormatsModule from "ajv-formats";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BERTH_BIN, type BerthProcess, startBerth } from "../support/berth-process.js";
import { type CommandResult, run } from "../support/process-control.js";
import { importFixtureDb, unfixedSemverRecord } from "../support/scanning.js";
import {
  APP_LAYER,
  BASE_LAYER,
  type GateImage,
  GOOD_LABELS,
  npmPackage,
  randomFile,
  writeGateImage,
} from "./gate-images.js";

let work: string;
let base: GateImage;
let oldBase: GateImage;
const images: Record<string, GateImage> = {};
let policy: string;
let dbDir: string;

function gate(...args: string[]): Promise<CommandResult> {
  return run(process.execPath, [BERTH_BIN, "gate", ...args], {
    env: { ...process.env },
    timeoutMs: 120_000,
  });
}

interface Verdict {
  verdict: "pass" | "fail";
  rules: { rule: string; status: string; message: string; evidence: string[] }[];
}

async function verdictOf(
  image: string,
  extra: string[] = [],
): Promise<{ r: CommandResult; v: Verdict }> {
  const r = await gate(
    image,
    "--policy",
    policy,
    "--format",
    "json",
    "--db-dir",
    join(work, "no-db"),
    ...extra,
  );
  return { r, v: JSON.parse(r.stdout) as Verdict };
}

const failed = (v: Verdict) => v.rules.filter((r) => r.status === "fail").map((r) => r.rule);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-gate-cli-"));
  base = await writeGateImage(join(work, "base"), "1", { layers: [BASE_LAYER] });
  oldBase = await writeGateImage(join(work, "oldbase"), "1", {
    layers: [[randomFile("base/old.bin", "gate-old", 8 * 1024)]],
    created: "2020-01-01T00:00:00Z",
  });
  await writeGateImage(join(work, "unapproved"), "1", {
    layers: [[randomFile("base/other.bin", "gate-foreign", 8 * 1024)]],
  });
  const on = (
    layers: (typeof APP_LAYER)[],
    extra: Partial<Parameters<typeof writeGateImage>[2]> = {},
  ) => ({
    layers,
    labels: GOOD_LABELS,
    ...extra,
  });
  const specs: Record<string, Parameters<typeof writeGateImage>[2]> = {
    good: on([BASE_LAYER, APP_LAYER]),
    big: on([BASE_LAYER, [randomFile("app/big.bin", "gate-big", 45 * 1000)]]),
    inflated: on([BASE_LAYER, [{ path: "app/zeros.bin", content: Buffer.alloc(300 * 1000) }]]),
    nolabel: on([BASE_LAYER, APP_LAYER], { labels: { maintainer: GOOD_LABELS.maintainer } }),
    badlabel: on([BASE_LAYER, APP_LAYER], { labels: { ...GOOD_LABELS, version: "latest" } }),
    // Built on an unapproved (but fresh) base its annotation names: only baseImages fails.
    foreign: on([[randomFile("base/other.bin", "gate-foreign", 8 * 1024)], APP_LAYER], {
      annotations: { "org.opencontainers.image.base.name": `oci:${join(work, "unapproved")}:1` },
    }),
    annotated: on([[randomFile("base/other.bin", "gate-foreign", 8 * 1024)], APP_LAYER], {
      annotations: { "org.opencontainers.image.base.name": `oci:${join(work, "base")}:1` },
    }),
    arm: on([BASE_LAYER, APP_LAYER], { platform: { os: "linux", architecture: "arm64" } }),
    wasteful: on([BASE_LAYER, APP_LAYER, [randomFile("app/app.bin", "gate-app-2", 4 * 1024)]]),
    forbidden: on([BASE_LAYER, [...APP_LAYER, npmPackage("event-stream", "3.3.6", "MIT")]]),
    licence: on([BASE_LAYER, [...APP_LAYER, npmPackage("left-pad", "1.3.0", "WTFPL")]]),
    stale: on([[randomFile("base/old.bin", "gate-old", 8 * 1024)], APP_LAYER]),
    vulnerable: on([BASE_LAYER, [...APP_LAYER, npmPackage("lodash", "4.17.11", "MIT")]]),
  };
  for (const [name, spec] of Object.entries(specs)) {
    images[name] = await writeGateImage(join(work, name), "1", spec);
  }
  policy = join(work, "gate.yaml");
  await writeFile(
    policy,
    `maxSize: 40kB
maxUncompressedSize: 200kB
requiredLabels:
  maintainer: '@example\\.com$'
  version: '^\\d+\\.\\d+\\.\\d+$'
baseImages:
  - ${base.reference}
  - ${oldBase.reference}
efficiency:
  min: 0.9
forbiddenPackages: [event-stream]
forbiddenLicenses: [WTFPL]
maxBaseAge: 365d
platforms: [linux/amd64]
`,
  );
  dbDir = join(work, "db");
  await importFixtureDb(dbDir);
}, 180_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("berth gate, one rule at a time", () => {
  it("passes a compliant image on every rule, without a vulnerability database", async () => {
    const { r, v } = await verdictOf(images.good!.reference);
    expect(r.code, r.stderr).toBe(0);
    expect(v.verdict).toBe("pass");
    expect(v.rules.map((x) => x.rule)).toEqual([
      "maxSize",
      "maxUncompressedSize",
      "requiredLabels",
      "baseImages",
      "efficiency",
      "forbiddenPackages",
      "forbiddenLicenses",
      "maxBaseAge",
      "platforms",
    ]);
    expect(v.rules.every((x) => x.status === "pass")).toBe(true);
  }, 120_000);

  const cases: [string, string, RegExp][] = [
    ["big", "maxSize", /compressed size: \d+ bytes/],
    ["inflated", "maxUncompressedSize", /uncompressed size: \d+ bytes/],
    ["nolabel", "requiredLabels", /label version is missing/],
    ["badlabel", "requiredLabels", /version="latest" does not match/],
    ["foreign", "baseImages", /bottom layer: sha256:/],
    ["arm", "platforms", /the image offers: linux\/arm64/],
    ["wasteful", "efficiency", /efficiency 0\.\d+ is below 0\.9/],
    ["forbidden", "forbiddenPackages", /npm package event-stream 3\.3\.6/],
    ["licence", "forbiddenLicenses", /left-pad 1\.3\.0: WTFPL/],
    ["stale", "maxBaseAge", /created 2020-01-01/],
  ];
  for (const [name, rule, evidence] of cases) {
    it(`fails ${name} on ${rule} only, naming the evidence`, async () => {
      const { r, v } = await verdictOf(
        images[name]!.reference,
        name === "arm" ? ["--platform", "linux/arm64"] : [],
      );
      expect(r.code, r.stderr).toBe(1);
      expect(failed(v)).toEqual([rule]);
      const result = v.rules.find((x) => x.rule === rule)!;
      expect(result.evidence.join("\n")).toMatch(evidence);
    }, 120_000);
  }

  it("approves a base named by the org.opencontainers.image.base.name annotation", async () => {
    const { r, v } = await verdictOf(images.annotated!.reference);
    expect(r.code, r.stdout).toBe(0);
    expect(v.rules.find((x) => x.rule === "baseImages")?.message).toMatch(/annotation names/);
  }, 120_000);

  it("lints the Dockerfile at or above failOn", async () => {
    const lintPolicy = join(work, "lint.yaml");
    await writeFile(lintPolicy, "lint:\n  failOn: warning\n");
    const bad = join(work, "Dockerfile.bad");
    const good = join(work, "Dockerfile.good");
    await writeFile(bad, "FROM scratch\nMAINTAINER someone\nCOPY app.bin /app/\n");
    await writeFile(good, "FROM scratch\nCOPY app.bin /app/\n");
    const ref = images.good!.reference;
    const fail = await gate(ref, "--policy", lintPolicy, "--dockerfile", bad, "--format", "json");
    expect(fail.code).toBe(1);
    expect(JSON.parse(fail.stdout).rules[0].evidence[0]).toMatch(/line 2: BL3011 \(warning\)/);
    const pass = await gate(ref, "--policy", lintPolicy, "--dockerfile", good);
    expect(pass.code, pass.stdout).toBe(0);
    const missing = await gate(ref, "--policy", lintPolicy);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/lint rule needs --dockerfile/);
  }, 120_000);
});

describe("berth gate vulnerabilities", () => {
  async function withVulnerabilities(rule: string): Promise<Verdict & { code: number | null }> {
    const p = join(work, `vuln-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(p, rule);
    const r = await gate(
      images.vulnerable!.reference,
      "--policy",
      p,
      "--db-dir",
      dbDir,
      "--format",
      "json",
    );
    return { ...(JSON.parse(r.stdout) as Verdict), code: r.code };
  }

  it("fails on a critical CVE, passes once it is allowlisted, fails again when the entry expired", async () => {
    const strict = await withVulnerabilities("vulnerabilities:\n  max: {critical: 0, high: 0}\n");
    expect(strict.code).toBe(1);
    expect(strict.rules[0]?.evidence.join("\n")).toMatch(
      /CRITICAL GHSA-jf85-cpcp-j695 in lodash 4\.17\.11 \(fixed in 4\.17\.12\)/,
    );
    const allowed = await withVulnerabilities(
      "vulnerabilities:\n  max: {critical: 0, high: 0}\n  allowlist:\n    - id: CVE-2019-10744\n      expires: 2099-01-01\n",
    );
    expect(allowed.code, JSON.stringify(allowed)).toBe(0);
    const expired = await withVulnerabilities(
      "vulnerabilities:\n  max: {critical: 0, high: 0}\n  allowlist:\n    - id: GHSA-jf85-cpcp-j695\n      expires: 2020-01-01\n",
    );
    expect(expired.code).toBe(1);
    expect(expired.rules[0]?.evidence.join("\n")).toMatch(
      /allowlist entry GHSA-jf85-cpcp-j695 expired/,
    );
  }, 180_000);

  it("counts per severity up to max, and ignoreUnfixed leaves out findings without a fix", async () => {
    // The fixture records plus one of this test's own: semver 7.x, HIGH, no fixed version.
    const ownDb = await importFixtureDb(join(work, "own-db"), [
      unfixedSemverRecord("GHSA-bert-h000-0002"),
    ]);
    const image = await writeGateImage(join(work, "semver"), "1", {
      layers: [BASE_LAYER, [...APP_LAYER, npmPackage("semver", "7.5.1", "ISC")]],
      labels: GOOD_LABELS,
    });
    const judge = async (rule: string) => {
      const p = join(work, `unfixed-${Math.random().toString(36).slice(2)}.yaml`);
      await writeFile(p, rule);
      const r = await gate(image.reference, "--policy", p, "--db-dir", ownDb, "--format", "json");
      const v = JSON.parse(r.stdout) as Verdict;
      return { code: r.code, message: v.rules[0]!.message, evidence: v.rules[0]!.evidence };
    };
    const two = await judge("vulnerabilities:\n  max: {high: 1}\n");
    expect(two.code).toBe(1);
    expect(two.evidence).toEqual([
      "HIGH GHSA-bert-h000-0002 in semver 7.5.1 (no fix)",
      "HIGH GHSA-c2qf-rxjj-qqgw in semver 7.5.1 (fixed in 7.5.2)",
    ]);
    const ignored = await judge("vulnerabilities:\n  max: {high: 1}\n  ignoreUnfixed: true\n");
    expect(ignored.code, JSON.stringify(ignored)).toBe(0);
    const none = await judge("vulnerabilities:\n  max: {high: 0}\n  ignoreUnfixed: true\n");
    expect(none.code).toBe(1);
    expect(none.evidence).toEqual(["HIGH GHSA-c2qf-rxjj-qqgw in semver 7.5.1 (fixed in 7.5.2)"]);
  }, 180_000);

  it("needs the database only when the policy has a vulnerabilities rule", async () => {
    const p = join(work, "vuln-nodb.yaml");
    await writeFile(p, "vulnerabilities:\n  max: {critical: 0}\n");
    const r = await gate(images.good!.reference, "--policy", p, "--db-dir", join(work, "empty"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no vulnerability database/);
  }, 120_000);
});

describe("berth gate output formats", () => {
  const require = createRequire(import.meta.url);

  it("writes SARIF that validates against the SARIF 2.1.0 schema, one result per failed rule", async () => {
    const r = await gate(images.nolabel!.reference, "--policy", policy, "--format", "sarif");
    expect(r.code).toBe(1);
    const schemaPath = require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");
    const schema = JSON.parse(await readFile(schemaPath, "utf8")) as object;
    const ajv = new AjvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
    addFormatsModule.default(ajv);
    const validate = ajv.compile(schema);
    const doc = JSON.parse(r.stdout);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.runs[0].results.map((x: { ruleId: string }) => x.ruleId)).toEqual([
      "gate/requiredLabels",
    ]);
    expect(doc.runs[0].results[0].message.text).toMatch(/label version is missing/);
  }, 120_000);

  it("writes JUnit XML with one testcase per rule and a failure for the failed one", async () => {
    const r = await gate(images.nolabel!.reference, "--policy", policy, "--format", "junit");
    expect(r.code).toBe(1);
    const xml = new XMLParser({ ignoreAttributes: false }).parse(r.stdout);
    const suite = xml.testsuites.testsuite;
    expect(suite["@_tests"]).toBe("9");
    expect(suite["@_failures"]).toBe("1");
    const cases = suite.testcase as { "@_name": string; failure?: { "@_message": string } }[];
    expect(cases.filter((c) => c.failure).map((c) => c["@_name"])).toEqual(["requiredLabels"]);
  }, 120_000);

  it("writes one self-contained HTML file with sortable tables", async () => {
    const out = join(work, "gate.html");
    const r = await gate(
      images.nolabel!.reference,
      "--policy",
      policy,
      "--format",
      "html",
      "-o",
      out,
    );
    expect(r.code).toBe(1);
    const html = await readFile(out, "utf8");
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain("label version is missing");
    expect(html).toContain('addEventListener("click"');
    expect(html).not.toMatch(/\b(src|href)=/);
  }, 120_000);
});

describe("berth gate errors exit 2", () => {
  it.each([
    ["unknown key", "maxSise: 1MB\n", /unknown key "maxSise"/],
    ["bad size", "maxSize: huge\n", /maxSize: must be a positive size/],
    [
      "bad regex",
      "requiredLabels:\n  version: '('\n",
      /requiredLabels: version: invalid regular expression/,
    ],
    ["bad severity", "vulnerabilities:\n  max: {urgent: 0}\n", /unknown severity "urgent"/],
    ["bad platform", "platforms: [amd64]\n", /platforms: "amd64" is not a platform/],
  ])(
    "%s",
    async (_name, text, message) => {
      const p = join(work, `bad-${Math.random().toString(36).slice(2)}.yaml`);
      await writeFile(p, text);
      const r = await gate(images.good!.reference, "--policy", p);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
    60_000,
  );

  it("an unreadable image", async () => {
    const r = await gate(`oci:${join(work, "nowhere")}:1`, "--policy", policy);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});

describe("berth gate rules that need more than a layout", () => {
  let registry: BerthProcess | undefined;

  afterAll(async () => {
    await registry?.stop();
  });

  it("signedBy: an unsigned registry image fails only signedBy, the signed one passes every rule", async () => {
    registry = await startBerth({ env: { BERTH_LOG_LEVEL: "warn" } });
    const keyEnv = { ...process.env, COSIGN_PASSWORD: "pw" };
    const cli = (args: string[]) =>
      run(process.execPath, [BERTH_BIN, ...args], { env: keyEnv, timeoutMs: 120_000 });
    const keygen = await cli(["key", "generate", "--output-key-prefix", join(work, "gatekey")]);
    expect(keygen.code, keygen.stderr).toBe(0);
    const target = `${registry.host}/team/good:1`;
    const copied = await cli(["copy", images.good!.reference, target]);
    expect(copied.code, copied.stderr).toBe(0);
    const signedPolicy = join(work, "signed.yaml");
    await writeFile(signedPolicy, `${await readFile(policy, "utf8")}signedBy: [gatekey.pub]\n`);
    const unsigned = await gate(target, "--policy", signedPolicy, "--format", "json");
    expect(unsigned.code, unsigned.stderr).toBe(1);
    const before = JSON.parse(unsigned.stdout) as Verdict;
    expect(failed(before)).toEqual(["signedBy"]);
    expect(before.rules.find((r) => r.rule === "signedBy")?.message).toMatch(/no signatures/);
    const signed = await cli(["sign", "--key", join(work, "gatekey.key"), target]);
    expect(signed.code, signed.stderr).toBe(0);
    const after = await gate(target, "--policy", signedPolicy, "--format", "json");
    expect(after.code, after.stdout).toBe(0);
    expect((JSON.parse(after.stdout) as Verdict).rules.map((r) => r.status)).toEqual(
      Array(10).fill("pass"),
    );
    const otherKey = await cli(["key", "generate", "--output-key-prefix", join(work, "otherkey")]);
    expect(otherKey.code).toBe(0);
    const otherPolicy = join(work, "other-signer.yaml");
    await writeFile(otherPolicy, "signedBy: [otherkey.pub]\n");
    const wrong = await gate(target, "--policy", otherPolicy, "--format", "json");
    expect(wrong.code).toBe(1);
    expect((JSON.parse(wrong.stdout) as Verdict).rules[0]?.message).toMatch(
      /no signature verifies with the policy's keys/,
    );
  }, 240_000);

  it("efficiency.maxWastedBytes fails the wasteful image only", async () => {
    const p = join(work, "wasted.yaml");
    await writeFile(p, "efficiency:\n  maxWastedBytes: 1kB\n");
    const bad = await gate(images.wasteful!.reference, "--policy", p, "--format", "json");
    expect(bad.code).toBe(1);
    expect((JSON.parse(bad.stdout) as Verdict).rules[0]?.evidence.join("\n")).toMatch(
      /wasted \d+ bytes, more than 1000/,
    );
    const good = await gate(images.good!.reference, "--policy", p, "--format", "json");
    expect(good.code, good.stdout).toBe(0);
  }, 120_000);
});
