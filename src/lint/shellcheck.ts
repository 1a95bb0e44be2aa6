// ShellCheck for RUN, the way hadolint does it, pure half: which RUN instructions are checked,
// the script ShellCheck is given for each, and how its comments become findings on Dockerfile
// lines. The script is `#!<shell>`, then `export NAME=1` for every ARG/ENV name in scope (and
// the proxy variables Docker predefines), then the command; ShellCheck's SC2187 (ash checked
// as dash) and SC1090 (needs a directive) are excluded, as hadolint excludes them. Findings
// keep ShellCheck's ids (`SC2086`) and severities. Running the `shellcheck` program is the
// I/O shell's job (shellcheck-runner.ts); nothing here spawns or reads anything.
import { type DockerfileModel, type InstructionInfo, type RunScript, shellFor } from "./model.js";
import { isSeverity, type Severity } from "./types.js";

/** Docker's predefined build args, usable in RUN without an ARG line (hadolint's list). */
export const PREDEFINED_PROXY_ARGS = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "FTP_PROXY",
  "ftp_proxy",
  "NO_PROXY",
  "no_proxy",
];

/** ShellCheck codes never reported (hadolint's exclusions). */
export const EXCLUDED_CODES: readonly number[] = [2187, 1090];

/** Shells ShellCheck checks (ash as dash); any other SHELL (pwsh, cmd, zsh …) is skipped. */
const CHECKED_SHELLS = new Set(["sh", "bash", "dash", "ksh", "ash"]);

/** ShellCheck's json1 comment, as much of it as Berth reads. */
export interface ShellCheckComment {
  readonly line: number;
  readonly endLine: number;
  readonly column: number;
  readonly endColumn: number;
  readonly level: string;
  readonly code: number;
  readonly message: string;
}

/** One RUN to check: the script for ShellCheck and how to map its positions back. */
export interface ShellCheckJob {
  readonly instruction: InstructionInfo;
  /** The whole input: shebang, exports, then the body. */
  readonly script: string;
  /** Lines before the body (the shebang and the exports). */
  readonly headerLines: number;
  /** The command as Docker's shell gets it, and where it starts in the RUN's script. */
  readonly body: string;
  readonly bodyOffset: number;
  readonly run: RunScript;
}

/** The shell a RUN's script is checked as (`/bin/bash`), or null when it is not checked. */
export function checkedShell(model: DockerfileModel, info: InstructionInfo): string | null {
  const shell = shellFor(model, info);
  const program = shell === null ? "/bin/sh" : (shell[0] ?? "");
  const name = program.slice(program.lastIndexOf("/") + 1);
  return CHECKED_SHELLS.has(name) ? program : null;
}

const BARE_HEREDOC = /^\s*<<(-?)\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\2\s*$/;

/**
 * What the shell runs for a RUN: its script, except that `RUN <<EOF` with nothing else on the
 * line runs the heredoc's body. Null when the body is not a shell script (`#!/usr/bin/python3`).
 */
function bodyOf(run: RunScript): { body: string; offset: number } | null {
  const script = run.script;
  const firstEnd = script.indexOf("\n");
  const first = firstEnd === -1 ? script : script.slice(0, firstEnd);
  const heredoc = run.heredoc ? BARE_HEREDOC.exec(first) : null;
  if (heredoc === null) return { body: script, offset: 0 };
  const start = firstEnd + 1;
  const lines = script.slice(start).split("\n");
  const stripTabs = heredoc[1] === "-";
  const end = lines.findIndex((l) => (stripTabs ? l.replace(/^\t+/, "") : l) === heredoc[3]);
  const body = (end === -1 ? lines : lines.slice(0, end)).join("\n");
  if (body.startsWith("#!") && !/^#!\s*\S*\b(sh|bash|dash|ksh|ash)\b/.test(body)) return null;
  return { body, offset: start };
}

/** The shell-form RUN instructions of the file, each as a ShellCheck job. */
export function shellCheckJobs(model: DockerfileModel): ShellCheckJob[] {
  const jobs: ShellCheckJob[] = [];
  for (const info of model.instructions) {
    const run = info.run;
    if (run === null || info.execForm !== null || info.stage < 0) continue;
    const shell = checkedShell(model, info);
    if (shell === null) continue;
    const body = bodyOf(run);
    if (body === null || body.body.trim() === "") continue;
    const names = new Set([...PREDEFINED_PROXY_ARGS, ...info.scope.keys()]);
    const header = [`#!${shell}`, ...[...names].sort().map((n) => `export ${n}=1`)];
    jobs.push({
      instruction: info,
      script: `${header.join("\n")}\n${body.body}\n`,
      headerLines: header.length,
      body: body.body,
      bodyOffset: body.offset,
      run,
    });
  }
  return jobs;
}

/** ShellCheck's levels are Berth's severities (error, warning, info, style). */
function severityOf(level: string): Severity {
  return isSeverity(level) ? level : "error";
}

/** Offset in `body` of a 1-based line and json1 column (one column per code point). */
function bodyOffset(body: string, lineStarts: readonly number[], line: number, column: number) {
  const index = Math.min(Math.max(line, 1), lineStarts.length) - 1;
  const start = lineStarts[index];
  const end = index + 1 < lineStarts.length ? lineStarts[index + 1] - 1 : body.length;
  let offset = start;
  for (let c = 1; c < column && offset < end; c += 1) {
    offset += (body.codePointAt(offset) ?? 0) > 0xffff ? 2 : 1;
  }
  return offset;
}

export interface ShellCheckFinding {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

/** ShellCheck's comments on one job, as findings on the Dockerfile's lines. */
export function findingsOf(
  job: ShellCheckJob,
  comments: readonly ShellCheckComment[],
): ShellCheckFinding[] {
  const starts = [0];
  for (let i = 0; i < job.body.length; i += 1) if (job.body[i] === "\n") starts.push(i + 1);
  const out: ShellCheckFinding[] = [];
  for (const c of comments) {
    if (EXCLUDED_CODES.includes(c.code)) continue;
    const line = c.line - job.headerLines;
    if (line < 1) continue;
    const from = bodyOffset(job.body, starts, line, c.column);
    const to = Math.max(
      from + 1,
      bodyOffset(job.body, starts, c.endLine - job.headerLines, c.endColumn),
    );
    const span = job.run.span(job.bodyOffset + from, job.bodyOffset + to);
    out.push({ ruleId: `SC${c.code}`, severity: severityOf(c.level), message: c.message, ...span });
  }
  return out;
}
