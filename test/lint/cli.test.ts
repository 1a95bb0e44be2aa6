// `berth lint` end to end: the real executable (bin/berth.js, from source) on files in a temp
// dir: exit codes, formats, config discovery, pragmas, --context, stdin, usage errors.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = join(import.meta.dirname, "..", "..", "bin", "berth.js");
const DIGEST = `sha256:${"a".repeat(64)}`;
let dir: string;

function berth(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, "lint", ...args], {
    cwd: dir,
    input,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const CLEAN = `FROM debian:12@${DIGEST}\nUSER app\nHEALTHCHECK NONE\nCMD ["app"]\n`;
const BAD = `FROM ubuntu:latest\nRUN apt-get update\nUSER app\nHEALTHCHECK NONE\n`;
const INFO_ONLY = `FROM debian:12\nUSER app\nHEALTHCHECK NONE\n`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "berth-lint-cli-"));
  write("clean/Dockerfile", CLEAN);
  write("bad/Dockerfile", BAD);
  write("info/Dockerfile", INFO_ONLY);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("berth lint", () => {
  it("exits 0 on a clean Dockerfile", () => {
    const r = berth(["clean/Dockerfile"]);
    expect(r.stdout).toContain("1 file checked, no problems.");
    expect(r.code).toBe(0);
  });

  it("prints file:line:column, the rule, and a source excerpt; exits 1 on warnings", () => {
    const r = berth(["bad/Dockerfile"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("bad/Dockerfile:1:6 warning BL1001 ");
    expect(r.stdout).toContain("    1 | FROM ubuntu:latest\n      |      ^^^^^^^^^^^^^");
    expect(r.stdout).toContain("bad/Dockerfile:2:5 warning BL2001 ");
  });

  it("honours --failure-threshold", () => {
    expect(berth(["info/Dockerfile"]).code).toBe(0);
    expect(berth(["info/Dockerfile", "--failure-threshold", "info"]).code).toBe(1);
    expect(berth(["bad/Dockerfile", "--failure-threshold", "error"]).code).toBe(0);
    expect(berth(["bad/Dockerfile", "--failure-threshold", "none"]).code).toBe(0);
  });

  it("writes json, sarif and checkstyle", () => {
    const json = JSON.parse(
      berth(["bad/Dockerfile", "clean/Dockerfile", "--format", "json"]).stdout,
    );
    expect(json.files).toHaveLength(2);
    expect(json.files[0].findings.map((f: { ruleId: string }) => f.ruleId)).toEqual([
      "BL1001",
      "BL2001",
      "BL2005",
    ]);
    const sarif = JSON.parse(berth(["bad/Dockerfile", "--format=sarif"]).stdout);
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe(
      "bad/Dockerfile",
    );
    const xml = berth(["bad/Dockerfile", "--format", "checkstyle"]).stdout;
    expect(xml).toContain('<error line="2" column="5" severity="warning"');
  });

  it("links rule docs only under a configured base URL (--docs-url)", () => {
    const plain = JSON.parse(berth(["bad/Dockerfile", "--format", "json"]).stdout);
    expect(plain.files[0].findings[0].docs).toBe("docs/lint/BL1001.md");
    const base = "https://code.example.net/berth/docs/lint";
    const sarif = JSON.parse(
      berth(["bad/Dockerfile", "--format", "sarif", "--docs-url", base]).stdout,
    );
    expect(sarif.runs[0].tool.driver.rules[0].helpUri).toBe(`${base}/BL1001.md`);
    const bad = berth(["bad/Dockerfile", "--format", "sarif", "--docs-url", "docs/lint"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("docs URL must be an absolute http(s) URL");
  });

  it("exits 2 on a missing file, a bad flag or a bad config", () => {
    const missing = berth(["nope/Dockerfile"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read Dockerfile nope/Dockerfile");
    expect(berth(["clean/Dockerfile", "--format", "yaml"]).code).toBe(2);
    write("badcfg/.berth-lint.yaml", "ignorez: []\n");
    write("badcfg/Dockerfile", CLEAN);
    const cfg = berth(["badcfg/Dockerfile"]);
    expect(cfg.code).toBe(2);
    expect(cfg.stderr).toContain('unknown config key "ignorez"');
    expect(berth(["clean/Dockerfile", "--config", "missing.yaml"]).code).toBe(2);
    const json = berth(["nope/Dockerfile", "--format", "json"]);
    expect(JSON.parse(json.stdout).error.exitCode).toBe(2);
  });

  it("finds .berth-lint.yaml next to the Dockerfile, and accepts --config and hadolint ids", () => {
    write("withcfg/Dockerfile", BAD);
    write("withcfg/.berth-lint.yaml", "ignore: [DL3007, BL2001]\noverride:\n  info: [DL3009]\n");
    const r = berth(["withcfg/Dockerfile"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("info BL2005");
    expect(r.stdout).not.toContain("BL1001");
    write("other.yaml", "failureThreshold: error\n");
    expect(berth(["bad/Dockerfile", "--config", "other.yaml"]).code).toBe(0);
    write("hl/Dockerfile", BAD);
    write("hl/.hadolint.yaml", "ignored: [DL3007]\n");
    expect(berth(["hl/Dockerfile"]).stdout).not.toContain("BL1001");
  });

  it("applies inline pragmas and --ignore", () => {
    write(
      "pragma/Dockerfile",
      `# hadolint ignore=DL3007\n${BAD.replace("RUN", "# berth-lint ignore=BL2001,BL2005\nRUN")}`,
    );
    const r = berth(["pragma/Dockerfile"]);
    expect(r.stdout).toContain("no problems");
    expect(r.code).toBe(0);
    expect(
      berth(["bad/Dockerfile", "--ignore", "DL3007", "--ignore", "BL2001", "--ignore", "BL2005"])
        .code,
    ).toBe(0);
    expect(berth(["bad/Dockerfile", "--ignore", "BL0000"]).code).toBe(2);
  });

  it("reports apt and wget under hadolint's ids; --ignore takes them and their former ids", () => {
    write("aptwget/Dockerfile", "FROM debian:12.5\nRUN apt update && wget https://x/y\nUSER app\n");
    const args = ["aptwget/Dockerfile", "--no-shellcheck", "--format", "json"];
    const ids = (r: { stdout: string }) =>
      (
        JSON.parse(r.stdout) as { files: { findings: { ruleId: string }[] }[] }
      ).files[0]!.findings.map((f) => f.ruleId);
    expect(ids(berth(args))).toEqual(expect.arrayContaining(["DL3027", "DL3047"]));
    for (const [apt, wget] of [
      ["DL3027", "DL3047"],
      ["BL2018", "BL2019"],
    ]) {
      const r = berth([...args, "--ignore", apt, "--ignore", wget]);
      expect(ids(r)).not.toContain("DL3027");
      expect(ids(r)).not.toContain("DL3047");
    }
  });

  it("checks the build context for a .dockerignore when --context is given", () => {
    mkdirSync(join(dir, "ctx"), { recursive: true });
    const without = berth(["clean/Dockerfile", "--context", "ctx"]);
    expect(without.code).toBe(1);
    expect(without.stdout).toContain("BL3014");
    write("ctx/.dockerignore", ".git\n");
    expect(berth(["clean/Dockerfile", "--context", "ctx"]).code).toBe(0);
    expect(berth(["clean/Dockerfile", "--context", "no-such-dir"]).code).toBe(2);
  });

  it("reads stdin for -, and uses --build-arg and --target", () => {
    const r = berth(["-"], "ARG BASE\nFROM $BASE\nUSER app\nHEALTHCHECK NONE\n");
    expect(r.code).toBe(0);
    const withArg = berth(
      ["-", "--build-arg", "BASE=node:latest"],
      "ARG BASE\nFROM $BASE\nUSER app\nHEALTHCHECK NONE\n",
    );
    expect(withArg.code).toBe(1);
    expect(withArg.stdout).toContain('"node:latest" uses :latest');
    const stages = `FROM debian:12@${DIGEST} AS test\nRUN sudo true\nFROM debian:12@${DIGEST}\nUSER app\nHEALTHCHECK NONE\n`;
    expect(
      berth(["-", "--target", "test", "--failure-threshold", "info"], stages).stdout,
    ).toContain("BL3005");
    expect(berth(["-", "--target", "nope"], stages).code).toBe(2);
  });

  it("lints Dockerfile in the current directory by default", () => {
    write("Dockerfile", CLEAN);
    expect(berth([]).code).toBe(0);
  });
});
