// Entry point of the `berth` command. Builds the commander program from one module per
// command (src/cli/<command>.ts, each exporting `register(program)`), runs it, and turns
// any error into one sentence on stderr and a stable exit code. Never prints a stack trace
// unless BERTH_DEBUG is set.
import { Command, CommanderError } from "commander";
import { CliError, ExitCode } from "./errors.js";

type CommandModule = { register(program: Command): void };

/**
 * Every top-level command and the module that defines it. Modules are imported lazily: a
 * run of `berth copy` loads only the copy command (and what it needs), which keeps start-up
 * fast and the resident memory of `berth serve` free of the scanner, linter and analyzer.
 */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  lint: () => import("./lint.js"),
  build: () => import("./build.js"),
  serve: () => import("./serve.js"),
  analyze: () => import("./analyze.js"),
  scan: () => import("./scan.js"),
  gate: () => import("./gate.js"),
  sbom: () => import("./sbom.js"),
  db: () => import("./db.js"),
  admin: () => import("./admin.js"),
  copy: () => import("./copy.js"),
  inspect: () => import("./inspect.js"),
  manifest: () => import("./manifest.js"),
  config: () => import("./config.js"),
  digest: () => import("./digest.js"),
  ls: () => import("./ls.js"),
  catalog: () => import("./catalog.js"),
  tag: () => import("./tag.js"),
  delete: () => import("./delete.js"),
  referrers: () => import("./referrers.js"),
  index: () => import("./image-index.js"),
  save: () => import("./save.js"),
  load: () => import("./load.js"),
  mirror: () => import("./mirror.js"),
  login: () => import("./login.js"),
  logout: () => import("./logout.js"),
  key: () => import("./key.js"),
  sign: () => import("./sign.js"),
  verify: () => import("./verify.js"),
  attest: () => import("./attest.js"),
  "verify-attestation": () => import("./verify-attestation.js"),
  tree: () => import("./tree.js"),
  download: () => import("./download.js"),
};

const ALIASES: Record<string, string> = { cp: "copy", rm: "delete" };

/**
 * The command named on the command line (`berth [help] NAME …`); "none" for `--version`,
 * which needs no command; undefined when every command is needed (help, unknown names).
 */
function requestedCommand(args: string[]): string | undefined {
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) return "none";
  const words = args.filter((a) => !a.startsWith("-"));
  const first = words[0] === "help" ? words[1] : words[0];
  if (first === undefined) return undefined;
  const name = ALIASES[first] ?? first;
  return name in COMMANDS ? name : undefined;
}

async function buildProgram(args: string[]): Promise<Command> {
  const program = new Command()
    .name("berth")
    .description(
      "Berth: a self-hosted OCI registry with Harbor-class management, and a CLI for images.",
    )
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  const only = requestedCommand(args);
  const names = only === "none" ? [] : only ? [only] : Object.keys(COMMANDS);
  const modules = await Promise.all(names.map((name) => COMMANDS[name]!()));
  for (const mod of modules) mod.register(program);
  return program;
}

/** A reader that stops early (`berth ls REPO | head`) is not an error: exit quietly. */
function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(process.exitCode ?? ExitCode.Ok);
      throw err;
    });
  }
}

function wantsJson(argv: string[]): boolean {
  const i = argv.indexOf("--format");
  return (i !== -1 && argv[i + 1] === "json") || argv.includes("--format=json");
}

/**
 * cosign spells its boolean flags `--new-bundle-format=false`; commander's booleans take no
 * value. Rewrites those spellings to `--flag` / `--no-flag` so both styles work.
 */
const COSIGN_BOOLEAN_FLAGS = ["--new-bundle-format"];

function normalizeBooleanFlags(argv: string[]): string[] {
  return argv.map((arg) => {
    const [flag, value] = arg.split("=", 2);
    if (flag === undefined || !COSIGN_BOOLEAN_FLAGS.includes(flag)) return arg;
    if (value === "true") return flag;
    if (value === "false") return `--no-${flag.slice(2)}`;
    return arg;
  });
}

async function main(rawArgv: string[]): Promise<void> {
  exitQuietlyOnClosedPipe();
  const argv = normalizeBooleanFlags(rawArgv);
  try {
    const program = await buildProgram(argv.slice(2));
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
      return;
    }
    const exitCode = err instanceof CliError ? err.exitCode : ExitCode.Failure;
    const message = err instanceof Error ? err.message : String(err);
    if (wantsJson(argv)) {
      process.stdout.write(`${JSON.stringify({ error: { message, exitCode } })}\n`);
    } else {
      process.stderr.write(`berth: ${message}\n`);
    }
    if (process.env.BERTH_DEBUG && err instanceof Error && err.stack) {
      process.stderr.write(`${err.stack}\n`);
    }
    process.exitCode = exitCode;
  }
}

await main(process.argv);
