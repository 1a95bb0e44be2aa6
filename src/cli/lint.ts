// `berth lint [Dockerfile…]`: the thin I/O shell around the pure linter in src/lint/. Reads
// each Dockerfile (or stdin for `-`), finds its configuration (--config, else
// .berth-lint.yaml or .hadolint.yaml next to the Dockerfile, else in the current directory),
// checks the build context for a .dockerignore when --context is given, runs ShellCheck over
// the shell-form RUNs of every file at once (unless --no-shellcheck or `shellcheck: false`;
// a missing shellcheck is a note on stderr, never a failure), prints the chosen format and
// sets the exit code: 1 when a finding reaches --failure-threshold, 2 on usage errors. Never
// prints a stack trace. The ShellCheck runner is loaded only when some RUN needs it.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type Command, Option } from "commander";
import type { FileReport } from "../lint/format/report.js";
import {
  CONFIG_FILE_NAME,
  exceedsThreshold,
  isDocsBaseUrl,
  LintConfigError,
  LintTargetError,
  type LoadedConfig,
  type PreparedLint,
  parseLintConfig,
  prepareLint,
  resolveRuleId,
  SEVERITIES,
  type Severity,
} from "../lint/index.js";
import type { ShellCheckComment } from "../lint/shellcheck.js";
import { CliError, ExitCode } from "./errors.js";

const TOOL_VERSION = "0.1.0";
const FORMATS = ["text", "json", "sarif", "checkstyle"] as const;
type LintFormat = (typeof FORMATS)[number];

interface LintFlags {
  format: LintFormat;
  failureThreshold?: Severity | "none";
  config?: string;
  context?: string;
  target?: string;
  buildArg: string[];
  ignore: string[];
  docsUrl?: string;
  /** False with --no-shellcheck. */
  shellcheck: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function readConfig(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new CliError(`cannot read config file ${path}`, ExitCode.Usage);
  }
  try {
    return parseLintConfig(text);
  } catch (err) {
    if (err instanceof LintConfigError)
      throw new CliError(`${path}: ${err.message}`, ExitCode.Usage);
    throw err;
  }
}

const CONFIG_NAMES = [CONFIG_FILE_NAME, ".hadolint.yaml", ".hadolint.yml"];

/**
 * Finds and parses configuration for one run: the explicit --config file, else the first
 * config file next to the Dockerfile, else in cwd. Each directory is searched, and each file
 * parsed, once per run: linting many Dockerfiles of one directory costs one lookup.
 */
class ConfigFinder {
  private readonly inDir = new Map<string, string | undefined>();
  private readonly parsed = new Map<string, LoadedConfig>();

  constructor(private readonly explicit: string | undefined) {}

  /** The config for a Dockerfile (`-` is stdin), if any. */
  configFor(dockerfile: string): LoadedConfig | undefined {
    if (this.explicit !== undefined) {
      if (!this.parsed.has(this.explicit) && !existsSync(this.explicit))
        throw new CliError(`config file ${this.explicit} does not exist`, ExitCode.Usage);
      return this.load(this.explicit);
    }
    const dirs =
      dockerfile === "-" ? [process.cwd()] : [dirname(resolve(dockerfile)), process.cwd()];
    for (const dir of dirs) {
      const path = this.configIn(dir);
      if (path !== undefined) return this.load(path);
    }
    return undefined;
  }

  private configIn(dir: string): string | undefined {
    if (this.inDir.has(dir)) return this.inDir.get(dir);
    const found = CONFIG_NAMES.map((name) => join(dir, name)).find((path) => existsSync(path));
    this.inDir.set(dir, found);
    return found;
  }

  private load(path: string): LoadedConfig {
    let config = this.parsed.get(path);
    if (config === undefined) {
      config = readConfig(path);
      this.parsed.set(path, config);
    }
    return config;
  }
}

function readDockerfile(path: string): string {
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch {
    throw new CliError(`cannot read Dockerfile ${path}: no such file`, ExitCode.Usage);
  }
}

function parseBuildArgs(pairs: string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliError(`--build-arg must be KEY=VALUE, got "${pair}"`, ExitCode.Usage);
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return args;
}

/**
 * One `berth lint` invocation: the flags, and what is the same for every Dockerfile (config
 * lookups, --ignore ids, the context directory), worked out once, when first needed, so
 * errors surface in the same order as if each file were checked on its own.
 */
class LintRun {
  private readonly configs: ConfigFinder;
  private extraIgnores: string[] | undefined;
  private contextDockerignore: boolean | undefined;

  constructor(
    private readonly flags: LintFlags,
    private readonly buildArgs: Record<string, string>,
  ) {
    this.configs = new ConfigFinder(flags.config);
  }

  lintFile(path: string): PreparedFile {
    const text = readDockerfile(path);
    const loaded = this.configs.configFor(path);
    const config = {
      ignore: [...(loaded?.ignore ?? []), ...this.ignoredRules()],
      severity: loaded?.severity ?? {},
      trustedRegistries: loaded?.trustedRegistries ?? [],
      requiredLabels: loaded?.requiredLabels ?? [],
    };
    try {
      const prepared = prepareLint(text, {
        config,
        buildArgs: this.buildArgs,
        target: this.flags.target,
        context: this.contextFacts(path),
      });
      return {
        path: path === "-" ? "<stdin>" : path,
        text,
        prepared,
        shellcheck: this.flags.shellcheck && loaded?.shellcheck !== false,
        threshold: loaded?.failureThreshold,
      };
    } catch (err) {
      if (err instanceof LintTargetError)
        throw new CliError(`${path}: ${err.message}`, ExitCode.Usage);
      throw err;
    }
  }

  /** Berth ids of the --ignore flags. */
  private ignoredRules(): string[] {
    this.extraIgnores ??= this.flags.ignore.flatMap((id) => {
      const ids = resolveRuleId(id);
      if (ids.length === 0 && !/^DL\d{4}$/i.test(id))
        throw new CliError(`--ignore names unknown rule "${id}"`, ExitCode.Usage);
      return ids;
    });
    return this.extraIgnores;
  }

  private contextFacts(dockerfile: string): { dockerignorePresent: boolean } | undefined {
    const dir = this.flags.context;
    if (dir === undefined) return undefined;
    if (this.contextDockerignore === undefined) {
      if (!existsSync(dir))
        throw new CliError(`build context ${dir} does not exist`, ExitCode.Usage);
      this.contextDockerignore = existsSync(join(dir, ".dockerignore"));
    }
    const perDockerfile = dockerfile === "-" ? "" : `${resolve(dockerfile)}.dockerignore`;
    return {
      dockerignorePresent:
        this.contextDockerignore || (perDockerfile !== "" && existsSync(perDockerfile)),
    };
  }
}

/** One Dockerfile, parsed and configured, waiting for ShellCheck's comments (if any). */
interface PreparedFile {
  readonly path: string;
  readonly text: string;
  readonly prepared: PreparedLint;
  /** Whether its RUNs are to be checked with ShellCheck. */
  readonly shellcheck: boolean;
  readonly threshold?: Severity;
}

const SHELLCHECK_MISSING =
  "berth: note: shellcheck is not installed, so RUN scripts were not checked with ShellCheck (install it, e.g. `apt-get install shellcheck`, or pass --no-shellcheck)\n";

/**
 * ShellCheck's comments for every file that wants them, from one batch over all their RUNs;
 * undefined for a file that is not checked (or when shellcheck is not installed: a note).
 */
async function shellCheckAll(
  files: readonly PreparedFile[],
): Promise<(readonly (readonly ShellCheckComment[])[] | undefined)[]> {
  const wanted = files.map((f) => (f.shellcheck ? f.prepared.shellCheckJobs() : []));
  const scripts = wanted.flatMap((jobs) => jobs.map((j) => j.script));
  if (scripts.length === 0) return files.map((f) => (f.shellcheck ? [] : undefined));
  const { runShellCheck, ShellCheckError } = await import("../lint/shellcheck-runner.js");
  let result: Awaited<ReturnType<typeof runShellCheck>>;
  try {
    result = await runShellCheck(scripts);
  } catch (err) {
    if (err instanceof ShellCheckError) throw new CliError(err.message, ExitCode.Failure);
    throw err;
  }
  if (!result.available) {
    process.stderr.write(SHELLCHECK_MISSING);
    return files.map(() => undefined);
  }
  let next = 0;
  return files.map((f, i) => {
    if (!f.shellcheck) return undefined;
    const comments = result.comments.slice(next, next + wanted[i].length);
    next += wanted[i].length;
    return comments;
  });
}

/** The chosen format's module is the only one loaded (a pre-commit hook pays for text only). */
async function render(
  format: LintFormat,
  reports: FileReport[],
  docsBaseUrl?: string,
): Promise<string> {
  switch (format) {
    case "json":
      return (await import("../lint/format/json.js")).formatJson(reports, docsBaseUrl);
    case "sarif":
      return (await import("../lint/format/sarif.js")).formatSarif(
        reports,
        TOOL_VERSION,
        docsBaseUrl,
      );
    case "checkstyle":
      return (await import("../lint/format/checkstyle.js")).formatCheckstyle(reports);
    default:
      return (await import("../lint/format/text.js")).formatText(reports);
  }
}

/** --docs-url, else BERTH_LINT_DOCS_URL, else none (docs are named by their source path). */
function docsBaseUrl(flags: LintFlags): string | undefined {
  const value = flags.docsUrl ?? process.env.BERTH_LINT_DOCS_URL;
  if (value === undefined || value === "") return undefined;
  if (!isDocsBaseUrl(value)) {
    throw new CliError(`docs URL must be an absolute http(s) URL, got "${value}"`, ExitCode.Usage);
  }
  return value;
}

async function run(files: string[] | undefined, flags: LintFlags): Promise<void> {
  const docsBase = docsBaseUrl(flags);
  const buildArgs = parseBuildArgs(flags.buildArg);
  const targets = files === undefined || files.length === 0 ? ["Dockerfile"] : files;
  const lintRun = new LintRun(flags, buildArgs);
  const prepared = targets.map((f) => lintRun.lintFile(f));
  const shellcheck = await shellCheckAll(prepared);
  const reports: FileReport[] = prepared.map((p, i) => ({
    path: p.path,
    text: p.text,
    findings: p.prepared.findings(shellcheck[i]),
  }));
  process.stdout.write(await render(flags.format, reports, docsBase));
  const failing = prepared.some((p, i) => {
    const threshold = flags.failureThreshold ?? p.threshold ?? "warning";
    return threshold !== "none" && exceedsThreshold(reports[i].findings, threshold);
  });
  process.exitCode = failing ? ExitCode.Findings : ExitCode.Ok;
}

export function register(program: Command): void {
  program
    .command("lint")
    .description("Check Dockerfiles against best practices (rules BL1001…, hadolint ids accepted)")
    .argument("[dockerfiles...]", "Dockerfiles to check (`-` for stdin; default: ./Dockerfile)")
    .addOption(
      new Option("--format <format>", "output format").choices([...FORMATS]).default("text"),
    )
    .addOption(
      new Option(
        "--failure-threshold <severity>",
        "exit 1 when a finding is at or above this severity (default warning)",
      ).choices([...SEVERITIES, "none"]),
    )
    .option(
      "-c, --config <file>",
      `configuration file (default: ${CONFIG_FILE_NAME} next to the Dockerfile or in cwd)`,
    )
    .option("--context <dir>", "build context directory (checks for a .dockerignore)")
    .option("--target <stage>", "stage that is built (default: the last)")
    .option(
      "--build-arg <KEY=VALUE>",
      "build argument used to resolve ARG values (repeatable)",
      collect,
      [],
    )
    .option("--ignore <rule>", "rule id to ignore, berth or hadolint (repeatable)", collect, [])
    .option(
      "--docs-url <url>",
      "base URL of the rule pages (docs/lint/) for JSON and SARIF links (env BERTH_LINT_DOCS_URL)",
    )
    .option(
      "--no-shellcheck",
      "do not check shell-form RUN scripts with ShellCheck (config: shellcheck: false)",
    )
    .action((files: string[] | undefined, flags: LintFlags) => run(files, flags));
}
