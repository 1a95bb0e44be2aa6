// DL3027 (apt) and DL3047 (wget without --progress) are hadolint's rules word for word
// (messages, severities, hadolint's wget condition), so they are reported under hadolint's ids;
// their former ids BL2018/BL2019 stay accepted as aliases in pragmas, config and --ignore.
import { describe, expect, it } from "vitest";
import { lintDockerfile, parseLintConfig, ruleById } from "../../src/lint/index.js";

const APT = "Do not use apt as it is meant to be a end-user tool, use apt-get or apt-cache instead";
const WGET =
  "Avoid use of wget without progress bar. Use `wget --progress=dot:giga <url>`.Or consider using `-q` or `-nv` (shorthands for `--quiet` or `--no-verbose`).";

function only(ruleId: string, text: string, config = "") {
  const findings = lintDockerfile(text, { config: parseLintConfig(config) });
  return findings.filter((f) => f.ruleId === ruleId);
}

describe("DL3027 (formerly BL2018)", () => {
  it("flags apt as a command with hadolint's message, never apt-get, apt-cache or the word", () => {
    const found = only("DL3027", "FROM debian:12\nRUN apt install -y curl\n");
    expect(found).toEqual([
      {
        ruleId: "DL3027",
        severity: "warning",
        message: APT,
        line: 2,
        column: 5,
        endLine: 2,
        endColumn: 24,
      },
    ]);
    expect(ruleById("DL3027")?.hadolint).toEqual(["DL3027"]);
    const clean = "FROM debian:12\nRUN apt-get install -y apt && apt-cache show apt && echo apt\n";
    expect(only("DL3027", clean)).toEqual([]);
  });

  it("is silenced by hadolint's id in a pragma and in .hadolint.yaml", () => {
    expect(only("DL3027", "FROM debian:12\n# hadolint ignore=DL3027\nRUN apt update\n")).toEqual(
      [],
    );
    expect(only("DL3027", "FROM debian:12\nRUN apt update\n", "ignored: [DL3027]")).toEqual([]);
  });

  it("is reported under hadolint's id, and the former id BL2018 still silences it", () => {
    const all = lintDockerfile("FROM debian:12\nRUN apt update\n").map((f) => f.ruleId);
    expect(all).toContain("DL3027");
    expect(all).not.toContain("BL2018");
    expect(ruleById("DL3027")?.formerIds).toEqual(["BL2018"]);
    expect(only("DL3027", "FROM debian:12\n# berth-lint ignore=BL2018\nRUN apt update\n")).toEqual(
      [],
    );
    expect(only("DL3027", "FROM debian:12\nRUN apt update\n", "ignore: [BL2018]")).toEqual([]);
    expect(only("DL3047", "FROM debian:12\nRUN wget u\n", "ignore: [BL2019]")).toEqual([]);
    expect(
      only("DL3027", "FROM debian:12\nRUN apt update\n", "severity: {BL2018: error}")[0]?.severity,
    ).toBe("error");
  });
});

describe("DL3047 (formerly BL2019)", () => {
  const wget = (args: string) => only("DL3047", `FROM debian:12\nRUN wget ${args}\n`);

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
    expect(only("DL3047", `FROM debian:12\nRUN sh -c "wget https://x/y"\n`)).toHaveLength(1);
    expect(only("DL3047", `FROM debian:12\nRUN ["wget", "https://x/y"]\n`)).toHaveLength(1);
    expect(only("DL3047", "FROM debian:12\nRUN apt-get install -y wget\n")).toEqual([]);
    expect(
      only("DL3047", "FROM debian:12\n# hadolint ignore=DL3047\nRUN wget https://x/y\n"),
    ).toEqual([]);
  });
});
