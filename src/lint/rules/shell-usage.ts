// Rules about how RUN uses the shell (BL2014–BL2017, DL3047): pipes without pipefail (above
// all a download piped into a shell), sudo, cd instead of WORKDIR, RUNs that could be one
// layer, and wget filling the build log with its progress output.
import { type InstructionInfo, shellFor } from "../model.js";
import { commandName, type ShellCommand } from "../shell.js";
import { argsOf } from "./command-line.js";
import type { Check } from "./context.js";

const POSIX_SHELLS = /(^|\/)(sh|bash|ash|dash|zsh|ksh)$/;
const SHELL_NAMES = new Set(["sh", "bash", "ash", "dash", "zsh", "ksh"]);

function setsPipefail(c: ShellCommand): boolean {
  if (commandName(c) !== "set") return false;
  const args = argsOf(c);
  return args.some((a, k) => /^-[a-zA-Z]*o$/.test(a) && args[k + 1] === "pipefail");
}

const pipefail: Check = (ctx) => {
  for (const info of ctx.model.instructions) {
    const run = info.run;
    if (run === null || info.stage < 0) continue;
    // SHELL applies only to shell form; exec form runs exactly the argv it names.
    const shell = info.execForm === null ? shellFor(ctx.model, info) : null;
    if (shell !== null) {
      if (!POSIX_SHELLS.test(shell[0] ?? "")) continue;
      if (shell.some((a, k) => a === "pipefail" && /^-[a-zA-Z]*o$/.test(shell[k - 1] ?? "")))
        continue;
    }
    const commands = run.commands;
    let enabled = false;
    for (let k = 0; k < commands.length; k += 1) {
      const c = commands[k];
      if (setsPipefail(c)) enabled = true;
      if (enabled || c.connector === "|") continue;
      const next = commands[k + 1];
      if (next === undefined || next.connector !== "|" || next.pipeline !== c.pipeline) continue;
      let last = next;
      for (let j = k + 1; j < commands.length && commands[j].pipeline === c.pipeline; j += 1)
        last = commands[j];
      const download = ["curl", "wget"].includes(commandName(c));
      const intoShell = SHELL_NAMES.has(commandName(last));
      const fix =
        info.execForm === null
          ? `add SHELL ["/bin/bash", "-o", "pipefail", "-c"] before this RUN (or "set -o pipefail &&" where /bin/sh supports it)`
          : `start the script with "set -o pipefail;" (exec form ignores SHELL)`;
      const message =
        download && intoShell
          ? `"${commandName(c)} … | ${commandName(last)}" runs whatever arrived even when the download fails; ${fix}, and better, download to a file and verify its checksum first.`
          : `Only the last command of a pipe decides whether this RUN fails; ${fix}.`;
      ctx.report("BL2014", run.span(c.start, last.end), message);
    }
  }
};

const sudo: Check = (ctx) => {
  for (const info of ctx.model.instructions) {
    const run = info.run;
    if (run === null) continue;
    for (const c of run.commands) {
      if (!c.wrappers.includes("sudo") && commandName(c) !== "sudo") continue;
      ctx.report(
        "BL2015",
        run.span(c.start, c.end),
        `RUN already runs as the current USER; drop "sudo" (switch with USER root / USER app around the step instead).`,
      );
    }
  }
};

const runCd: Check = (ctx) => {
  for (const info of ctx.model.instructions) {
    const run = info.run;
    if (run === null) continue;
    const cd = run.commands.find((c) => commandName(c) === "cd" && c.subshell === 0);
    if (cd === undefined) continue;
    const dir = cd.words[1]?.text ?? "~";
    ctx.report(
      "BL2016",
      run.span(cd.start, cd.end),
      `Use WORKDIR ${dir.startsWith("/") ? dir : "/absolute/path"} instead of "cd ${dir}" in RUN; WORKDIR is clearer and applies to the following instructions.`,
    );
  }
};

function flagsKey(info: InstructionInfo): string {
  return info.flags.map((f) => `${f.name}=${f.value}`).join(" ");
}

const mergeRuns: Check = (ctx) => {
  for (const stage of ctx.model.stages) {
    const list = stage.instructions;
    for (let k = 1; k < list.length; k += 1) {
      const a = list[k - 1];
      const b = list[k];
      if (a.run === null || b.run === null || a.run.heredoc || b.run.heredoc) continue;
      if (a.execForm !== null || b.execForm !== null) continue;
      if (flagsKey(a) !== flagsKey(b)) continue;
      ctx.report(
        "BL2017",
        b.span,
        `This RUN directly follows the RUN on line ${a.span.line}; join them with "&&" to save a layer.`,
      );
    }
  }
};

// ---- wget without --progress (hadolint DL3047) ---------------------------------------

/** hadolint's DL3047 message, word for word (its missing space after "`." included). */
const WGET_MESSAGE =
  "Avoid use of wget without progress bar. Use `wget --progress=dot:giga <url>`.Or consider using `-q` or `-nv` (shorthands for `--quiet` or `--no-verbose`).";

const WGET_QUIETING_LONG = new Set([
  "progress",
  "quiet",
  "no-verbose",
  "output-file",
  "append-output",
]);
/** Short options that quiet wget's log: -q (quiet), -o (log to a file), -a (append to one). */
const WGET_QUIETING_SHORT = ["q", "o", "a"];

/**
 * hadolint's condition: wget names none of --progress, -q/--quiet, -nv/--no-verbose,
 * -o/--output-file, -a/--append-output. As in hadolint, a short-option cluster counts when
 * it contains one of the letters (`-qO-`), and a long option is matched by its name.
 */
export function wgetQuietsProgress(args: readonly string[]): boolean {
  return args.some((a) => {
    if (a.startsWith("--")) return WGET_QUIETING_LONG.has(a.slice(2).split("=", 1)[0]);
    if (!a.startsWith("-") || a.length < 2) return false;
    if (a === "-nv") return true;
    const letters = a.slice(1);
    return WGET_QUIETING_SHORT.some((letter) => letters.includes(letter));
  });
}

const wgetProgress: Check = (ctx) => {
  for (const info of ctx.model.instructions) {
    const run = info.run;
    if (run === null) continue;
    for (const c of run.commands) {
      if (commandName(c) !== "wget" || wgetQuietsProgress(argsOf(c))) continue;
      ctx.report("DL3047", run.span(c.start, c.end), WGET_MESSAGE);
    }
  }
};

export const shellUsageChecks: readonly Check[] = [pipefail, sudo, runCd, mergeRuns, wgetProgress];
