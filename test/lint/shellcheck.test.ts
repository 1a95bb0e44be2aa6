// ShellCheck in `berth lint`, with Debian's real `shellcheck`: the script each RUN is checked
// as (hadolint's `#!<shell>` + exported ARG/ENV names + the command), findings mapped back to
// Dockerfile lines and columns across continuations and heredocs, ShellCheck's ids and
// severities, pragmas and config that silence them, --no-shellcheck / `shellcheck: false`,
// many scripts batched over a few processes, and a clear note (exit code unchanged) when
// shellcheck is not on PATH.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Finding, parseLintConfig, prepareLint } from "../../src/lint/index.js";
import { buildModel } from "../../src/lint/model.js";
import { shellCheckJobs } from "../../src/lint/shellcheck.js";
import { runShellCheck } from "../../src/lint/shellcheck-runner.js";

const BIN = join(import.meta.dirname, "..", "..", "bin", "berth.js");
let dir: string;

/** Lints with the real shellcheck, as the CLI does. */
async function lintWithShellCheck(text: string, config = ""): Promise<Finding[]> {
  const prepared = prepareLint(text, { config: parseLintConfig(config) });
  const jobs = prepared.shellCheckJobs();
  const result = await runShellCheck(jobs.map((j) => j.script));
  if (!result.available) throw new Error("shellcheck must be installed for these tests");
  return prepared.findings(result.comments);
}

const shellcheckOnly = (findings: Finding[]) => findings.filter((f) => f.ruleId.startsWith("SC"));

function berth(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, "lint", ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "berth-lint-shellcheck-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("the script ShellCheck is given", () => {
  it("is #!<shell>, an export per ARG/ENV name in scope and Docker's proxy args, then the command", () => {
    const model = buildModel(
      [
        "ARG GLOBAL=1",
        "FROM debian:12",
        "ARG VERSION=2",
        "ENV APP_HOME=/app",
        "RUN echo $VERSION \\",
        "    $APP_HOME",
        'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
        "RUN echo $GLOBAL",
        'RUN ["echo", "exec form is not checked"]',
        'SHELL ["pwsh", "-Command"]',
        "RUN Write-Host hi",
        "",
      ].join("\n"),
    );
    const jobs = shellCheckJobs(model);
    expect(jobs.map((j) => j.instruction.span.line)).toEqual([5, 8]);
    const proxies = [
      "FTP_PROXY",
      "HTTPS_PROXY",
      "HTTP_PROXY",
      "NO_PROXY",
      "ftp_proxy",
      "http_proxy",
      "https_proxy",
      "no_proxy",
    ];
    const exports = (names: string[]) => names.map((n) => `export ${n}=1`);
    expect(jobs[0].script).toBe(
      [
        "#!/bin/sh",
        ...exports(["APP_HOME", ...proxies.slice(0, 4), "VERSION", ...proxies.slice(4)]),
        "echo $VERSION     $APP_HOME",
        "",
      ].join("\n"),
    );
    // A global ARG is not in scope inside a stage that does not re-declare it.
    expect(jobs[1].script.split("\n")[0]).toBe("#!/bin/bash");
    expect(jobs[1].script).not.toContain("export GLOBAL=1");
    expect(jobs[1].script.endsWith("\necho $GLOBAL\n")).toBe(true);
  });

  it("is the heredoc's body for RUN <<EOF", () => {
    const model = buildModel("FROM debian:12\nRUN <<EOF\nset -e\necho $1\nEOF\n");
    const [job] = shellCheckJobs(model);
    expect(job.body).toBe("set -e\necho $1");
  });
});

describe("ShellCheck findings", () => {
  it("keep ShellCheck's ids and severities and point at the Dockerfile's line and column", async () => {
    const text = [
      "FROM debian:12",
      "ARG VERSION=1",
      "RUN echo $VERSION $UNSET && \\",
      "    for f in $(ls *.txt); do echo $f; done",
      "RUN <<EOF",
      "cd /tmp",
      "EOF",
      "",
    ].join("\n");
    const found = shellcheckOnly(await lintWithShellCheck(text)).map((f) => [
      f.ruleId,
      f.severity,
      f.line,
      f.column,
      f.endColumn,
    ]);
    expect(found).toEqual([
      // $VERSION is an exported ARG with a plain value: not flagged; $UNSET is.
      ["SC2086", "info", 3, 19, 25],
      ["SC2045", "error", 4, 14, 25],
      ["SC2035", "info", 4, 19, 20],
      ["SC2086", "info", 4, 35, 37],
      ["SC2164", "warning", 6, 1, 8],
    ]);
    const [first] = shellcheckOnly(await lintWithShellCheck(text));
    expect(first.message).toBe("Double quote to prevent globbing and word splitting.");
  });

  it("are silenced by pragmas and config, and re-graded by config", async () => {
    const text = "FROM debian:12\n# hadolint ignore=SC2086\nRUN echo $A\nRUN echo $B\n";
    expect(shellcheckOnly(await lintWithShellCheck(text)).map((f) => f.line)).toEqual([4]);
    const global = "FROM debian:12\n# berth-lint global ignore=SC2086\nRUN echo $A\n";
    expect(shellcheckOnly(await lintWithShellCheck(global))).toEqual([]);
    expect(shellcheckOnly(await lintWithShellCheck(text, "ignored: [SC2086]"))).toEqual([]);
    const regraded = await lintWithShellCheck(text, "override:\n  error: [SC2086]\n");
    expect(shellcheckOnly(regraded).map((f) => f.severity)).toEqual(["error"]);
  });

  it("come back in order from many scripts spread over several processes", async () => {
    const scripts = Array.from(
      { length: 150 },
      (_, i) => `#!/bin/sh\n${"\n".repeat(i % 7)}echo $V${i}\n`,
    );
    const result = await runShellCheck(scripts);
    expect(result.available).toBe(true);
    if (!result.available) return;
    expect(result.comments).toHaveLength(150);
    result.comments.forEach((comments, i) => {
      expect(
        comments.map((c) => [c.code, c.line]),
        `script ${i}`,
      ).toEqual([[2086, 2 + (i % 7)]]);
    });
  });
});

describe("berth lint and ShellCheck", () => {
  const DOCKERFILE = `FROM debian:12@sha256:${"a".repeat(64)}\nRUN echo $UNSET\nUSER app\nHEALTHCHECK NONE\n`;

  it("reports SC ids in every format, and --no-shellcheck or shellcheck: false turns it off", () => {
    write("on/Dockerfile", DOCKERFILE);
    const on = berth(["on/Dockerfile"]);
    expect(on.stderr).toBe("");
    expect(on.code).toBe(0); // SC2086 is info: below the default threshold (warning)
    expect(on.stdout).toContain(
      "on/Dockerfile:2:10 info SC2086 Double quote to prevent globbing and word splitting.",
    );
    const json = JSON.parse(berth(["--format", "json", "on/Dockerfile"]).stdout);
    expect(json.files[0].findings).toEqual([
      expect.objectContaining({
        ruleId: "SC2086",
        line: 2,
        docs: "https://www.shellcheck.net/wiki/SC2086",
      }),
    ]);
    const sarif = JSON.parse(berth(["--format", "sarif", "on/Dockerfile"]).stdout);
    const run = sarif.runs[0];
    expect(run.tool.driver.rules[run.results[0].ruleIndex].id).toBe("SC2086");
    expect(berth(["--failure-threshold", "info", "on/Dockerfile"]).code).toBe(1);

    const off = berth(["--no-shellcheck", "on/Dockerfile"]);
    expect(off.code).toBe(0);
    expect(off.stdout).toBe("1 file checked, no problems.\n");
    write("off/Dockerfile", DOCKERFILE);
    write("off/.berth-lint.yaml", "shellcheck: false\n");
    expect(berth(["off/Dockerfile"]).stdout).toBe("1 file checked, no problems.\n");
    write("bad/Dockerfile", DOCKERFILE);
    write("bad/.berth-lint.yaml", "shellcheck: sometimes\n");
    const bad = berth(["bad/Dockerfile"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('config key "shellcheck" must be true or false');
  });

  it("notes on stderr, and changes no exit code, when shellcheck is not on PATH", () => {
    write("missing/Dockerfile", `${DOCKERFILE}RUN apt-get update\n`);
    const emptyPath = mkdtempSync(join(tmpdir(), "berth-no-shellcheck-"));
    try {
      const without = berth(["missing/Dockerfile"], { PATH: emptyPath });
      const disabled = berth(["--no-shellcheck", "missing/Dockerfile"]);
      expect(without.stderr).toBe(
        "berth: note: shellcheck is not installed, so RUN scripts were not checked with ShellCheck (install it, e.g. `apt-get install shellcheck`, or pass --no-shellcheck)\n",
      );
      expect(without.code).toBe(1); // BL2001/BL2005 (warnings), as without ShellCheck
      expect(without.code).toBe(disabled.code);
      expect(without.stdout).toBe(disabled.stdout);
      expect(disabled.stderr).toBe("");
      const json = berth(["--format", "json", "missing/Dockerfile"], { PATH: emptyPath });
      expect(JSON.parse(json.stdout).files[0].findings.length).toBeGreaterThan(0);
      expect(json.stderr).toContain("shellcheck is not installed");
    } finally {
      rmSync(emptyPath, { recursive: true, force: true });
    }
  });
});
