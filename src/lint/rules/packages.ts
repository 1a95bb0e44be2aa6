// Rules about package managers inside RUN (BL2001–BL2013, DL3027): apt-get, apk, pip, npm,
// yum/dnf, and `apt` where apt-get belongs.
// They read tokenised shell commands (never substrings). Rules about what stays in the image
// (caches, lists) only apply to stages that end up in the target image: a builder stage's
// caches never reach it.
import type { InstructionInfo, RunScript } from "../model.js";
import { commandName, type ShellCommand } from "../shell.js";
import {
  argsOf,
  type CommandLine,
  hasFlag,
  isCommand,
  pipArgs,
  removesPath,
  splitArgs,
} from "./command-line.js";
import type { Check, RuleContext } from "./context.js";

interface RunInstruction {
  readonly info: InstructionInfo;
  readonly run: RunScript;
}

/** Each context's RUNs (all, and those of the image's stages): listed once, read by 12 checks. */
const RUNS = new WeakMap<RuleContext, { all: RunInstruction[]; image: RunInstruction[] }>();

function runs(ctx: RuleContext, imageOnly = false): readonly RunInstruction[] {
  let listed = RUNS.get(ctx);
  if (listed === undefined) {
    listed = { all: [], image: [] };
    for (const info of ctx.model.instructions) {
      if (info.run === null || info.stage < 0) continue;
      const entry = { info, run: info.run };
      listed.all.push(entry);
      if (ctx.imageStages.has(info.stage)) listed.image.push(entry);
    }
    RUNS.set(ctx, listed);
  }
  return imageOnly ? listed.image : listed.all;
}

function hasCacheMount(run: RunScript, prefixes: readonly string[]): boolean {
  return run.mounts.some(
    (m) =>
      m.type === "cache" &&
      prefixes.some(
        (p) =>
          m.target === p ||
          m.target.startsWith(`${p}/`) ||
          p.startsWith(`${m.target.replace(/\/$/, "")}/`),
      ),
  );
}

function spanOfCommand(run: RunScript, c: ShellCommand) {
  return run.span(c.start, c.end);
}

// ---- apt-get -------------------------------------------------------------------------

const APT_VALUE_OPTIONS = new Set([
  "-o",
  "-c",
  "-t",
  "--option",
  "--config-file",
  "--target-release",
]);
const APT_INSTALLS = new Set([
  "install",
  "upgrade",
  "dist-upgrade",
  "full-upgrade",
  "build-dep",
  "source",
  "reinstall",
]);

function aptLine(c: ShellCommand): CommandLine | null {
  if (!isCommand(c, ["apt-get", "apt"])) return null;
  return splitArgs(argsOf(c), APT_VALUE_OPTIONS);
}

function aptSubcommand(c: ShellCommand): string | null {
  return aptLine(c)?.operands[0] ?? null;
}

const aptUpdateAlone: Check = (ctx) => {
  for (const { info, run } of runs(ctx)) {
    const subs = run.commands.map(aptSubcommand);
    const update = run.commands.find((_, k) => subs[k] === "update");
    if (update === undefined || subs.some((s) => s !== null && APT_INSTALLS.has(s))) continue;
    ctx.report(
      "BL2001",
      spanOfCommand(run, update),
      `"apt-get update" runs in a RUN without an install (line ${info.span.line}); its cached layer goes stale and later installs use old lists. Write "apt-get update && apt-get install -y …" in one RUN.`,
    );
  }
};

const aptInstall: Check = (ctx) => {
  for (const { run } of runs(ctx)) {
    for (const c of run.commands) {
      const line = aptLine(c);
      if (line === null || line.operands[0] !== "install") continue;
      const span = spanOfCommand(run, c);
      const yes = hasFlag(line, "y", ["--yes", "--assume-yes"]);
      if (!yes && !line.options.some((o) => /Assume-Yes=(true|1|yes)/i.test(o))) {
        ctx.report(
          "BL2002",
          span,
          `"${commandName(c)} install" without -y waits for an answer that never comes in a build; add -y.`,
        );
      }
      const noRecommends =
        hasFlag(line, null, ["--no-install-recommends"]) ||
        argsOf(c).some((a) => /Install-Recommends=(false|0|no)/i.test(a));
      if (!noRecommends) {
        ctx.report(
          "BL2003",
          span,
          `"${commandName(c)} install" pulls in recommended packages; add --no-install-recommends to keep the image small.`,
        );
      }
      const unpinned = line.operands
        .slice(1)
        .filter((p) => !p.includes("=") && !p.endsWith(".deb") && !p.startsWith("$"));
      if (unpinned.length > 0) {
        ctx.report(
          "BL2004",
          span,
          `Pin package versions (${unpinned.map((p) => `${p}=<version>`).join(", ")}) so rebuilds install the same packages.`,
        );
      }
    }
  }
};

const aptListsRemoved: Check = (ctx) => {
  for (const { run } of runs(ctx, true)) {
    const install = run.commands.find((c) => {
      const sub = aptSubcommand(c);
      return sub === "update" || sub === "install";
    });
    if (install === undefined) continue;
    if (removesPath(run.commands, ["/var/lib/apt/lists"])) continue;
    if (hasCacheMount(run, ["/var/lib/apt/lists"])) continue;
    ctx.report(
      "BL2005",
      spanOfCommand(run, install),
      `The apt package lists stay in this layer; end the same RUN with "&& rm -rf /var/lib/apt/lists/*" (or use RUN --mount=type=cache,target=/var/lib/apt).`,
    );
  }
};

// ---- apk -----------------------------------------------------------------------------

const APK_VALUE_OPTIONS = new Set([
  "-X",
  "--repository",
  "-p",
  "--root",
  "--arch",
  "-t",
  "--virtual",
  "--keys-dir",
  "--repositories-file",
  "--cache-dir",
]);

function apkAdd(c: ShellCommand): CommandLine | null {
  if (!isCommand(c, ["apk"])) return null;
  const line = splitArgs(argsOf(c), APK_VALUE_OPTIONS);
  return line.operands[0] === "add" ? line : null;
}

const apkCache: Check = (ctx) => {
  for (const { run } of runs(ctx, true)) {
    if (removesPath(run.commands, ["/var/cache/apk"]) || hasCacheMount(run, ["/var/cache/apk"]))
      continue;
    for (const c of run.commands) {
      const line = apkAdd(c);
      if (line === null || hasFlag(line, null, ["--no-cache"])) continue;
      ctx.report(
        "BL2006",
        spanOfCommand(run, c),
        `"apk add" keeps its package index in the image; use "apk add --no-cache …".`,
      );
    }
  }
};

const apkPins: Check = (ctx) => {
  for (const { run } of runs(ctx)) {
    for (const c of run.commands) {
      const line = apkAdd(c);
      if (line === null) continue;
      const unpinned = line.operands
        .slice(1)
        .filter((p) => !/[=~<>]/.test(p) && !p.endsWith(".apk") && !p.startsWith("$"));
      if (unpinned.length === 0) continue;
      ctx.report(
        "BL2007",
        spanOfCommand(run, c),
        `Pin package versions (${unpinned.map((p) => `${p}=<version>`).join(", ")}) so rebuilds install the same packages.`,
      );
    }
  }
};

// ---- pip -----------------------------------------------------------------------------

const PIP_VALUE_OPTIONS = new Set([
  "-r",
  "--requirement",
  "-c",
  "--constraint",
  "-e",
  "--editable",
  "-i",
  "--index-url",
  "--extra-index-url",
  "-f",
  "--find-links",
  "-t",
  "--target",
  "--prefix",
  "--root",
  "--trusted-host",
  "--platform",
  "--python-version",
  "--implementation",
  "--abi",
  "--src",
  "--progress-bar",
  "--cache-dir",
  "--only-binary",
  "--no-binary",
]);

function pipInstall(c: ShellCommand): CommandLine | null {
  const args = pipArgs(c);
  if (args === null) return null;
  const line = splitArgs(args, PIP_VALUE_OPTIONS);
  return line.operands[0] === "install" ? line : null;
}

const pipCache: Check = (ctx) => {
  for (const { info, run } of runs(ctx, true)) {
    if (info.scope.has("PIP_NO_CACHE_DIR") || hasCacheMount(run, ["/root/.cache/pip"])) continue;
    for (const c of run.commands) {
      const line = pipInstall(c);
      if (line === null || hasFlag(line, null, ["--no-cache-dir"])) continue;
      if (c.assignments.some((a) => a.startsWith("PIP_NO_CACHE_DIR="))) continue;
      ctx.report(
        "BL2008",
        spanOfCommand(run, c),
        `"pip install" keeps its download cache in the image; add --no-cache-dir (or set ENV PIP_NO_CACHE_DIR=1).`,
      );
    }
  }
};

function pipPinned(spec: string): boolean {
  return (
    /[=<>~!@]/.test(spec) ||
    spec.startsWith(".") ||
    spec.startsWith("/") ||
    spec.includes("/") ||
    /\.(whl|tar\.gz|zip)$/.test(spec) ||
    spec.startsWith("$")
  );
}

const pipPins: Check = (ctx) => {
  for (const { run } of runs(ctx)) {
    for (const c of run.commands) {
      const line = pipInstall(c);
      if (line === null) continue;
      const upgrade = hasFlag(line, "U", ["--upgrade"]);
      const unpinned = line.operands
        .slice(1)
        .filter((p) => !pipPinned(p) && !(upgrade && ["pip", "setuptools", "wheel"].includes(p)));
      if (unpinned.length === 0) continue;
      ctx.report(
        "BL2009",
        spanOfCommand(run, c),
        `Pin versions (${unpinned.map((p) => `${p}==<version>`).join(", ")}) or install from a requirements file with pins.`,
      );
    }
  }
};

// ---- npm -----------------------------------------------------------------------------

const NPM_INSTALL = new Set([
  "install",
  "i",
  "in",
  "ins",
  "inst",
  "insta",
  "instal",
  "isnt",
  "isnta",
  "isntal",
  "isntall",
  "add",
]);
const NPM_VALUE_OPTIONS = new Set([
  "--prefix",
  "--registry",
  "--cache",
  "-w",
  "--workspace",
  "--omit",
  "--include",
  "--tag",
  "--loglevel",
  "--userconfig",
  "--only",
]);
const LOCKFILE = /(^|\/)(package-lock\.json|npm-shrinkwrap\.json|package\*\.json|package\*)$/;

function npmInstall(c: ShellCommand): CommandLine | null {
  if (!isCommand(c, ["npm"])) return null;
  const line = splitArgs(argsOf(c), NPM_VALUE_OPTIONS);
  return NPM_INSTALL.has(line.operands[0] ?? "") ? line : null;
}

/** Sources of COPY/ADD instructions (not --from) before `info` in its stage chain. */
function copiedSources(ctx: RuleContext, info: InstructionInfo): string[] {
  const sources: string[] = [];
  const chain: number[] = [];
  for (
    let s: number | null = info.stage;
    s !== null && !chain.includes(s);
    s = ctx.model.stages[s].parent
  )
    chain.unshift(s);
  for (const s of chain) {
    for (const other of ctx.model.stages[s].instructions) {
      if (other === info) return sources;
      if (
        (other.keyword !== "COPY" && other.keyword !== "ADD") ||
        other.flags.some((f) => f.name === "from")
      )
        continue;
      sources.push(...copySources(other));
    }
  }
  return sources;
}

/** The source operands of a COPY/ADD (JSON or shell form), without the destination. */
export function copySources(info: InstructionInfo): string[] {
  const json = info.argsText.trim().startsWith("[") ? parseJsonArray(info.argsText) : null;
  const args = json ?? info.args.map((a) => a.value);
  return args.slice(0, -1);
}

function parseJsonArray(text: string): string[] | null {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) && v.every((x) => typeof x === "string") ? v : null;
  } catch {
    return null;
  }
}

const WHOLE_CONTEXT = new Set([".", "./", "*", "./*"]);

const npmCi: Check = (ctx) => {
  for (const { info, run } of runs(ctx)) {
    for (const c of run.commands) {
      const line = npmInstall(c);
      if (line === null || line.operands.length > 1 || hasFlag(line, "g", ["--global"])) continue;
      const sources = copiedSources(ctx, info);
      if (!sources.some((s) => LOCKFILE.test(s) || WHOLE_CONTEXT.has(s))) continue;
      ctx.report(
        "BL2010",
        spanOfCommand(run, c),
        `"npm ${line.operands[0]}" may rewrite the lockfile and resolve different versions; use "npm ci" for a clean, reproducible install from package-lock.json.`,
      );
    }
  }
};

function npmPinned(spec: string): boolean {
  const body = spec.startsWith("@") ? spec.slice(1) : spec;
  return (
    body.includes("@") ||
    /^[./~$]/.test(spec) ||
    spec.includes(":") ||
    (!spec.startsWith("@") && spec.includes("/")) ||
    spec.endsWith(".tgz")
  );
}

const npmPins: Check = (ctx) => {
  for (const { run } of runs(ctx)) {
    for (const c of run.commands) {
      const line = npmInstall(c);
      if (line === null) continue;
      const unpinned = line.operands.slice(1).filter((p) => !npmPinned(p));
      if (unpinned.length === 0) continue;
      ctx.report(
        "BL2011",
        spanOfCommand(run, c),
        `Pin versions (${unpinned.map((p) => `${p}@<version>`).join(", ")}) so rebuilds install the same packages.`,
      );
    }
  }
};

// ---- yum / dnf -----------------------------------------------------------------------

const RPM_MANAGERS = ["yum", "dnf", "microdnf", "dnf5"];
const RPM_INSTALLS = new Set([
  "install",
  "groupinstall",
  "localinstall",
  "reinstall",
  "update",
  "upgrade",
]);
const RPM_VALUE_OPTIONS = new Set([
  "--setopt",
  "--enablerepo",
  "--disablerepo",
  "--installroot",
  "--releasever",
  "-c",
  "--config",
  "-x",
  "--exclude",
]);

function rpmLine(c: ShellCommand): CommandLine | null {
  if (!isCommand(c, RPM_MANAGERS)) return null;
  return splitArgs(argsOf(c), RPM_VALUE_OPTIONS);
}

const rpmClean: Check = (ctx) => {
  for (const { run } of runs(ctx, true)) {
    const install = run.commands.find((c) => RPM_INSTALLS.has(rpmLine(c)?.operands[0] ?? ""));
    if (install === undefined) continue;
    const cleaned =
      run.commands.some((c) => {
        const line = rpmLine(c);
        return line !== null && line.operands[0] === "clean" && line.operands[1] === "all";
      }) ||
      removesPath(run.commands, ["/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5"]) ||
      hasCacheMount(run, ["/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5"]);
    if (cleaned) continue;
    const name = commandName(install);
    ctx.report(
      "BL2012",
      spanOfCommand(run, install),
      `"${name} ${rpmLine(install)?.operands[0]}" leaves its metadata cache in the layer; end the same RUN with "&& ${name} clean all".`,
    );
  }
};

const rpmYes: Check = (ctx) => {
  for (const { run } of runs(ctx)) {
    for (const c of run.commands) {
      if (!isCommand(c, ["yum", "dnf", "dnf5"])) continue;
      const line = rpmLine(c);
      if (line === null || !RPM_INSTALLS.has(line.operands[0] ?? "")) continue;
      if (hasFlag(line, "y", ["--assumeyes"])) continue;
      ctx.report(
        "BL2013",
        spanOfCommand(run, c),
        `"${commandName(c)} ${line.operands[0]}" without -y waits for confirmation; add -y.`,
      );
    }
  }
};

// ---- apt (hadolint DL3027) ------------------------------------------------------------

/** hadolint's DL3027 message, word for word. */
const APT_MESSAGE =
  "Do not use apt as it is meant to be a end-user tool, use apt-get or apt-cache instead";

/** `apt` (the interactive front end) run by a RUN, wherever in the script. */
const aptFrontEnd: Check = (ctx) => {
  for (const { run } of runs(ctx)) {
    for (const c of run.commands) {
      if (commandName(c) === "apt") ctx.report("DL3027", spanOfCommand(run, c), APT_MESSAGE);
    }
  }
};

export const packageChecks: readonly Check[] = [
  aptUpdateAlone,
  aptInstall,
  aptListsRemoved,
  apkCache,
  apkPins,
  pipCache,
  pipPins,
  npmCi,
  npmPins,
  rpmClean,
  rpmYes,
  aptFrontEnd,
];
