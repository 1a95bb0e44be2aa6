// BL2018 (hadolint DL3027) and BL2019 (hadolint DL3047): hadolint's messages and severities
// word for word, hadolint's wget condition, and its ids in pragmas and configuration.
import { describe, expect, it } from "vitest";
import { lintDockerfile, parseLintConfig, ruleById } from "../../src/lint/index.js";

const APT = "Do not use apt as it is meant to be a end-user tool, use apt-get or apt-cache instead";
const WGET =
  "Avoid use of wget without progress bar. Use `wget --progress=dot:giga <url>`.Or consider using `-q` or `-nv` (shorthands for `--quiet` or `--no-verbose`).";

function only(ruleId: string, text: string, config = "") {
  const findings = lintDockerfile(text, { config: parseLintConfig(config) });
  return findings.filter((f) => f.ruleId === ruleId);
}

describe("BL2018 / DL3027", () => {
  it("flags apt as a command with hadolint's message, never apt-get, apt-cache or the word", () => {
    const found = only("BL2018", "FROM debian:12\nRUN apt install -y curl\n");
    expect(found).toEqual([
      {
        ruleId: "BL2018",
        severity: "warning",
        message: APT,
        line: 2,
        column: 5,
        endLine: 2,
        endColumn: 24,
      },
    ]);
    expect(ruleById("BL2018")?.hadolint).toEqual(["DL3027"]);
    const clean = "FROM debian:12\nRUN apt-get install -y apt && apt-cache show apt && echo apt\n";
    expect(only("BL2018", clean)).toEqual([]);
  });

  it("is silenced by hadolint's id in a pragma and in .hadolint.yaml", () => {
    expect(only("BL2018", "FROM debian:12\n# hadolint ignore=DL3027\nRUN apt update\n")).toEqual(
      [],
    );
    expect(only("BL2018", "FROM debian:12\nRUN apt update\n", "ignored: [DL3027]")).toEqual([]);
  });
});

describe("BL2019 / DL3047", () => {
  const wget = (args: string) => only("BL2019", `FROM debian:12\nRUN wget ${args}\n`);

  it("follows hadolint's condition exactly", () => {
    for (const quiet of [
      "--progress=dot:giga u",
      "--progress bar u",
      "-q u",
      "--quiet u",
      "-nv u",
      "--no-verbose u",
      "-o log u",
      "--output-file=log u",
      "-a log u",
      "--append-output log u",
      "-qO- u",
      "-O f -q u",
    ]) {
      expect(wget(quiet), quiet).toEqual([]);
    }
    for (const noisy of ["u", "-O file u", "-c u", "--tries=3 u", "-N u"]) {
      const found = wget(noisy);
      expect(found, noisy).toHaveLength(1);
      expect(found[0]).toMatchObject({ severity: "warning", message: WGET, line: 2 });
    }
  });

  it("finds wget inside sh -c and exec form, not as a package name", () => {
    expect(only("BL2019", `FROM debian:12\nRUN sh -c "wget https://x/y"\n`)).toHaveLength(1);
    expect(only("BL2019", `FROM debian:12\nRUN ["wget", "https://x/y"]\n`)).toHaveLength(1);
    expect(only("BL2019", "FROM debian:12\nRUN apt-get install -y wget\n")).toEqual([]);
    expect(
      only("BL2019", "FROM debian:12\n# hadolint ignore=DL3047\nRUN wget https://x/y\n"),
    ).toEqual([]);
  });
});
