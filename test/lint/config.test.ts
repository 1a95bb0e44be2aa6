// `.berth-lint.yaml` parsing: berth and hadolint spellings, rule-id mapping, clear errors.
import { describe, expect, it } from "vitest";
import {
  LintConfigError,
  lintDockerfile,
  parseLintConfig,
  resolveRuleId,
} from "../../src/lint/index.js";

describe("parseLintConfig", () => {
  it("reads berth keys", () => {
    const c = parseLintConfig(`
ignore: [BL1002]
severity:
  BL1001: error
trustedRegistries: [registry.example.com]
requiredLabels: [org.opencontainers.image.source]
failureThreshold: error
`);
    expect(c.ignore).toEqual(["BL1002"]);
    expect(c.severity).toEqual({ BL1001: "error" });
    expect(c.trustedRegistries).toEqual(["registry.example.com"]);
    expect(c.requiredLabels).toEqual(["org.opencontainers.image.source"]);
    expect(c.failureThreshold).toBe("error");
  });

  it("reads a .hadolint.yaml and maps DL ids to berth rules", () => {
    const c = parseLintConfig(`
ignored: [DL3006, DL3027]
override:
  error: [DL3003]
  info: [DL4006]
label-schema:
  maintainer: text
failure-threshold: info
strict-labels: true
`);
    expect(c.ignore).toEqual(["BL1001", "DL3027"]);
    expect(c.severity).toEqual({ BL2016: "error", BL2014: "info" });
    expect(c.requiredLabels).toEqual(["maintainer"]);
    expect(c.failureThreshold).toBe("info");
  });

  it("names the bad key or value", () => {
    expect(() => parseLintConfig("ignorez: [BL1001]")).toThrow(/unknown config key "ignorez"/);
    expect(() => parseLintConfig("ignore: [BL9999]")).toThrow(/unknown rule "BL9999"/);
    expect(() => parseLintConfig("severity: {BL1001: fatal}")).toThrow(/severity.BL1001/);
    expect(() => parseLintConfig("ignore: BL1001")).toThrow(LintConfigError);
    expect(() => parseLintConfig("a: [")).toThrow(/not valid YAML/);
  });

  it("an empty file is an empty config", () => {
    expect(parseLintConfig("").ignore).toEqual([]);
  });
});

describe("config applied by lintDockerfile", () => {
  it("ignores and re-grades rules", () => {
    const text = "FROM ubuntu\nUSER app\nHEALTHCHECK NONE\n";
    expect(lintDockerfile(text).map((f) => [f.ruleId, f.severity])).toEqual([
      ["BL1001", "warning"],
    ]);
    const config = parseLintConfig("override:\n  error: [DL3007]\n");
    expect(lintDockerfile(text, { config }).map((f) => f.severity)).toEqual(["error"]);
    expect(lintDockerfile(text, { config: parseLintConfig("ignore: [DL3006]") })).toEqual([]);
  });

  it("resolves hadolint ids that share one berth rule", () => {
    expect(resolveRuleId("dl3006")).toEqual(["BL1001"]);
    expect(resolveRuleId("DL3032")).toEqual(["BL2012"]);
    expect(resolveRuleId("DL3040")).toEqual(["BL2012"]);
    expect(resolveRuleId("DL3027")).toEqual(["DL3027"]);
    expect(resolveRuleId("bl2018")).toEqual(["DL3027"]); // the former id, an alias
    expect(resolveRuleId("DL3047")).toEqual(["DL3047"]);
    expect(resolveRuleId("BL2019")).toEqual(["DL3047"]);
    expect(resolveRuleId("DL3010")).toEqual([]);
  });

  it("rejects an unknown --target stage", () => {
    expect(() => lintDockerfile("FROM scratch AS a\n", { target: "b" })).toThrow(
      /target stage "b"/,
    );
  });
});
