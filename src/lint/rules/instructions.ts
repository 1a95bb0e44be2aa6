// Rules about instructions and the image's configuration (BL3001–BL3014): ADD vs COPY,
// cache-friendly COPY order, USER, WORKDIR, exec-form CMD/ENTRYPOINT, duplicates, MAINTAINER,
// EXPOSE ports, HEALTHCHECK, and the build context's .dockerignore.
import { expand } from "../expand.js";
import type { InstructionInfo } from "../model.js";
import { commandName, type ShellCommand } from "../shell.js";
import { argsOf, pipArgs } from "./command-line.js";
import type { Check, RuleContext } from "./context.js";
import { copySources } from "./packages.js";

const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst)$/i;
const URL = /^(https?|ftp):\/\//i;
const GIT = /^(git@|git:\/\/)|\.git(#.*)?$/i;

function sourcesOf(
  info: InstructionInfo,
  ctx: RuleContext,
): { value: string; unresolved: boolean }[] {
  return copySources(info).map((s) => expand(s, info.scope, ctx.model.escape));
}

const addRules: Check = (ctx) => {
  for (const info of ctx.model.instructions) {
    if (info.keyword !== "ADD" || info.argsText.trimStart().startsWith("<<")) continue;
    const sources = sourcesOf(info, ctx);
    const checksum = info.flags.some((f) => f.name === "checksum");
    const urls = sources.filter((s) => URL.test(s.value) && !GIT.test(s.value));
    if (urls.length > 0 && !checksum) {
      ctx.report(
        "BL3002",
        info.span,
        `ADD downloads ${urls[0].value} without verifying it; use ADD --checksum=sha256:<digest> or download with curl in a RUN and check the hash.`,
      );
    }
    const local = sources.filter(
      (s) => !s.unresolved && !URL.test(s.value) && !GIT.test(s.value) && !ARCHIVE.test(s.value),
    );
    if (local.length > 0 && !info.flags.some((f) => f.name === "from")) {
      ctx.report(
        "BL3001",
        info.span,
        `Use COPY instead of ADD for local files (${local.map((s) => s.value).join(", ")}); ADD's extra URL and archive magic makes the build harder to follow.`,
      );
    }
  }
};

const MANIFEST =
  /(^|\/)(package(-lock)?\.json|package\*\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|requirements[^/]*\.txt|pyproject\.toml|poetry\.lock|Pipfile(\.lock)?|uv\.lock|go\.(mod|sum)|Gemfile(\.lock)?|composer\.(json|lock)|pom\.xml|build\.gradle(\.kts)?|Cargo\.(toml|lock)|[^/]*\.csproj|packages\.config|mix\.(exs|lock))$/;
const WHOLE_CONTEXT = new Set([".", "./", "*", "./*"]);

/** True when a command installs a project's dependencies from its manifest. */
function installsDependencies(c: ShellCommand): boolean {
  const name = commandName(c);
  const args = argsOf(c).filter((a) => !a.startsWith("-"));
  const sub = args[0] ?? "";
  switch (name) {
    case "npm":
      return sub === "ci" || (["install", "i"].includes(sub) && args.length === 1);
    case "yarn":
      return sub === "" || sub === "install";
    case "pnpm":
      return sub === "install" || sub === "i";
    case "poetry":
    case "pipenv":
    case "bundle":
    case "composer":
      return sub === "install" || sub === "sync";
    case "uv":
      return sub === "sync";
    case "go":
      return sub === "mod" && args[1] === "download";
    case "cargo":
      return sub === "fetch";
    case "dotnet":
      return sub === "restore";
    case "mvn":
      return args.includes("dependency:go-offline") || args.includes("dependency:resolve");
    default: {
      const pip = pipArgs(c);
      return (
        pip !== null &&
        pip[0] === "install" &&
        pip.some((a) => a === "-r" || a.startsWith("--requirement"))
      );
    }
  }
}

const copyBeforeInstall: Check = (ctx) => {
  for (const stage of ctx.model.stages) {
    let manifestCopied = false;
    let contextCopy: InstructionInfo | null = null;
    for (const info of stage.instructions) {
      if (
        (info.keyword === "COPY" || info.keyword === "ADD") &&
        !info.flags.some((f) => f.name === "from")
      ) {
        const sources = sourcesOf(info, ctx).map((s) => s.value);
        if (sources.some((s) => WHOLE_CONTEXT.has(s))) {
          if (!manifestCopied && contextCopy === null) contextCopy = info;
        } else if (sources.some((s) => MANIFEST.test(s))) manifestCopied = true;
      }
      if (
        info.run !== null &&
        contextCopy !== null &&
        info.run.commands.some(installsDependencies)
      ) {
        ctx.report(
          "BL3003",
          contextCopy.span,
          `The whole build context is copied before dependencies are installed (line ${info.span.line}), so any source change re-runs the install; copy the dependency manifests first, install, then COPY . .`,
        );
        break;
      }
    }
  }
};

const userRules: Check = (ctx) => {
  if (ctx.model.stages.length === 0) return;
  const users = ctx.imageInstructions.filter((i) => i.keyword === "USER");
  const last = users[users.length - 1];
  if (last === undefined) {
    ctx.report(
      "BL3005",
      ctx.model.stages[ctx.target].from.span,
      `The image sets no USER, so it runs as root unless its base image says otherwise; create an unprivileged user and add USER <name> at the end.`,
    );
    return;
  }
  const user = expand(last.argsText.trim(), last.scope, ctx.model.escape);
  if (user.unresolved) return;
  const name = user.value.split(":", 1)[0];
  if (name === "root" || name === "0") {
    ctx.report(
      "BL3004",
      last.span,
      `The last USER is root, so the container runs as root; switch to an unprivileged user (USER app or USER 10001) after the steps that need root.`,
    );
  }
};

const workdirRelative: Check = (ctx) => {
  for (const info of ctx.model.instructions) {
    if (info.keyword !== "WORKDIR") continue;
    const dir = expand(
      info.argsText.trim().replace(/^["']|["']$/g, ""),
      info.scope,
      ctx.model.escape,
    );
    if (dir.unresolved || dir.value === "") continue;
    if (
      dir.value.startsWith("/") ||
      /^[A-Za-z]:[\\/]/.test(dir.value) ||
      dir.value.startsWith("\\")
    )
      continue;
    ctx.report(
      "BL3006",
      info.span,
      `WORKDIR ${dir.value} is relative to whatever the previous WORKDIR was; use an absolute path such as /app.`,
    );
  }
};

const shellFormCmd: Check = (ctx) => {
  for (const info of ctx.model.instructions) {
    if ((info.keyword !== "CMD" && info.keyword !== "ENTRYPOINT") || info.execForm !== null)
      continue;
    const text = info.argsText.trim();
    if (text === "") continue;
    const why = text.startsWith("[")
      ? `${info.keyword} looks like JSON but is not valid JSON (use double quotes), so Docker runs it through /bin/sh -c`
      : `${info.keyword} in shell form runs under /bin/sh -c, so the process does not get SIGTERM and cannot shut down cleanly`;
    const words = text.startsWith("[") ? text : JSON.stringify(text.split(/\s+/));
    ctx.report(
      "BL3007",
      info.span,
      `${why}; write it in exec form, e.g. ${info.keyword} ${words.replace(/","/g, '", "')}.`,
    );
  }
};

const DUPLICATES: readonly [string, string][] = [
  ["CMD", "BL3008"],
  ["ENTRYPOINT", "BL3009"],
  ["HEALTHCHECK", "BL3010"],
];

const duplicates: Check = (ctx) => {
  for (const stage of ctx.model.stages) {
    for (const [keyword, id] of DUPLICATES) {
      const found = stage.instructions.filter((i) => i.keyword === keyword);
      const last = found[found.length - 1];
      for (const info of found.slice(0, -1)) {
        ctx.report(
          id,
          info.span,
          `This ${keyword} is overridden by the ${keyword} on line ${last.span.line} (only the last one in a stage counts); remove it.`,
        );
      }
    }
  }
};

const maintainer: Check = (ctx) => {
  for (const info of ctx.model.instructions) {
    if (info.keyword !== "MAINTAINER") continue;
    ctx.report(
      "BL3011",
      info.span,
      `MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors="${info.argsText.trim().replace(/"/g, '\\"')}".`,
    );
  }
};

function portProblem(spec: string): string | null {
  const m = /^(\d+)(?:-(\d+))?(?:\/([A-Za-z]+))?$/.exec(spec);
  if (m === null) return `"${spec}" is not a port, port range or port/protocol`;
  const [, a, b, proto] = m;
  const low = Number(a);
  const high = b === undefined ? low : Number(b);
  if (low < 1 || low > 65535 || high < 1 || high > 65535) return `port ${spec} is outside 1–65535`;
  if (high < low) return `range ${spec} ends before it starts`;
  if (proto !== undefined && !["tcp", "udp", "sctp"].includes(proto.toLowerCase()))
    return `protocol "${proto}" is not tcp, udp or sctp`;
  return null;
}

const exposePorts: Check = (ctx) => {
  for (const info of ctx.model.instructions) {
    if (info.keyword !== "EXPOSE") continue;
    for (const arg of info.args) {
      const value = expand(arg.value, info.scope, ctx.model.escape);
      if (value.unresolved) continue;
      const problem = portProblem(value.value);
      if (problem === null) continue;
      ctx.report(
        "BL3012",
        arg.span,
        `EXPOSE ${problem}; use a port between 1 and 65535, optionally with /tcp, /udp or /sctp.`,
      );
    }
  }
};

const healthcheckMissing: Check = (ctx) => {
  if (ctx.model.stages.length === 0) return;
  if (ctx.imageInstructions.some((i) => i.keyword === "HEALTHCHECK")) return;
  ctx.report(
    "BL3013",
    ctx.model.stages[ctx.target].from.span,
    `The final image has no HEALTHCHECK; add one (HEALTHCHECK CMD …) so orchestrators can tell a hung container from a healthy one, or HEALTHCHECK NONE to say so explicitly.`,
  );
};

const dockerignore: Check = (ctx) => {
  if (ctx.context === undefined || ctx.context.dockerignorePresent) return;
  const first = ctx.model.lines[0] ?? "";
  ctx.report(
    "BL3014",
    { line: 1, column: 1, endLine: 1, endColumn: first.length + 1 },
    `The build context has no .dockerignore, so .git, node_modules, secrets and build output are sent to the builder and can end up in COPY . layers; add a .dockerignore next to the context.`,
  );
};

const KNOWN_INSTRUCTIONS = new Set([
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
]);

const unknownInstruction: Check = (ctx) => {
  for (const info of ctx.model.instructions) {
    if (KNOWN_INSTRUCTIONS.has(info.keyword)) continue;
    ctx.report(
      "BL3015",
      info.span,
      `"${info.node.getInstruction()}" is not a Dockerfile instruction and fails the build; check the spelling (FROM, RUN, COPY, …) or continue the previous line with a trailing "${ctx.model.escape}".`,
    );
  }
};

export const instructionChecks: readonly Check[] = [
  unknownInstruction,
  addRules,
  copyBeforeInstall,
  userRules,
  workdirRelative,
  shellFormCmd,
  duplicates,
  maintainer,
  exposePorts,
  healthcheckMissing,
  dockerignore,
];
