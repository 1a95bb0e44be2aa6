// `berth analyze IMG`: dive-class layer analysis from any transport — per-layer sizes and
// changes, dive's efficiency / wasted bytes / user wasted percent, a tree view, and every
// waste explained with the layer, instruction (and Dockerfile line) that caused it and a fix.
// CI mode: `--lowest-efficiency`, `--highest-wasted-bytes`, `--highest-user-wasted-percent`
// (or a dive `.dive-ci` file) exit 1 when crossed. Thin shell: all logic is in src/analyze/.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import {
  AnalyzeError,
  analysisToJson,
  analyzeImage,
  buildTree,
  evaluateThresholds,
  type ImageAnalysis,
  parseBytesThreshold,
  parseDiveCiFile,
  parseRatio,
  type RuleResult,
  renderReport,
  stageNames,
  ThresholdError,
  type Thresholds,
} from "../analyze/index.js";
import { formatPlatform, type Platform, parsePlatform } from "../oci/index.js";
import {
  openImageSource,
  parseTransportSpec,
  type ResolvedImage,
  resolveImage,
} from "../transport/index.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson, printLines } from "./output.js";
import {
  addRegistryFlags,
  asCliError,
  cliAction,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";

interface AnalyzeFlags extends RegistryFlags {
  platform?: string;
  dockerfile?: string;
  target?: string;
  format: string;
  tree?: boolean;
  layer?: string;
  lowestEfficiency?: string;
  highestWastedBytes?: string;
  highestUserWastedPercent?: string;
  ciConfig?: string;
}

const HELP_AFTER = `
Numbers as dive defines them: efficiency is the bytes the image needs ÷ the bytes its layers
store; wasted bytes are the bytes of every path stored by more than one layer (written again,
or deleted by a later layer); user wasted percent is the part of those wasted bytes stored by
the layers above the first ÷ those layers' bytes (a ratio from 0 to 1; thresholds are ratios
too: 0.1 means 10%). Without --dockerfile Berth cannot tell which layers are the base image's,
so it never blames the base image; with it, layers before the Dockerfile's first instruction
are the base image's. Every waste is explained with the layer (and, with --dockerfile, the line) that
caused it and a fix; with --dockerfile the Dockerfile is also linted (berth lint's rules) and
each lint finding is tied to the layer its line built, each waste to the lint findings of its
instruction.

Examples:
  berth analyze docker.io/library/nginx:1.27      a registry image (bare: name the registry)
  berth analyze docker-archive:app.tar --dockerfile Dockerfile
                                                  tie each waste to its Dockerfile line
  berth analyze oci:./layout:1.0 --layer 3        what layer 3 added (+), changed (~), removed (-)
  berth analyze localhost:5000/app:1.0 --format json > analysis.json
  berth analyze "$IMAGE" --lowest-efficiency 0.95 --highest-wasted-bytes 20MB
                                                  CI gate: exit 1 when a threshold is crossed
  berth analyze "$IMAGE" --ci-config .dive-ci     the same thresholds from a dive CI file

Exit codes: 0 ok, 1 a CI threshold was crossed, 2 bad usage or unreadable input, 3 failure.`;

export function register(program: Command): void {
  const command = program
    .command("analyze")
    .description(
      "analyze an image's layers: wasted bytes, efficiency, and what to change in the Dockerfile",
    )
    .argument("<image>", "REF, docker://REF, oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE")
    .option("--platform <os/arch[/variant]>", "which image of a multi-arch index to analyze")
    .option(
      "--dockerfile <path>",
      "the Dockerfile the image was built from (maps layers to lines, lints it)",
    )
    .option("--target <stage>", "the Dockerfile stage that produced the image (default: last)")
    .option("--tree", "print the merged filesystem as a tree")
    .option("--layer <n>", "print only what layer N added, modified and removed, as a tree")
    .option("--lowest-efficiency <ratio>", "CI: fail when efficiency is below RATIO (e.g. 0.95)")
    .option("--highest-wasted-bytes <size>", "CI: fail when wasted bytes exceed SIZE (e.g. 20MB)")
    .option(
      "--highest-user-wasted-percent <ratio>",
      "CI: fail when wasted ÷ user bytes exceeds RATIO (e.g. 0.10)",
    )
    .option("--ci-config <file>", "CI: read thresholds from a dive .dive-ci file (flags win)")
    .addOption(formatOption())
    .addHelpText("after", HELP_AFTER);
  addRegistryFlags(command).action(cliAction(analyze));
}

/** What the flags ask for, validated before the image is opened. */
interface AnalyzeRequest {
  readonly thresholds: Thresholds;
  readonly layer?: number;
  readonly platform?: Platform;
  readonly dockerfile?: { text: string; target?: string };
}

async function analyze(image: string, flags: AnalyzeFlags): Promise<void> {
  const request = await requestFrom(flags);
  const source = await naming(image, () =>
    openImageSource(image, { registry: registryOptionsFrom(flags) }),
  );
  try {
    const resolved = await naming(image, () =>
      resolveImage(source, { platform: request.platform }),
    );
    checkResolved(image, resolved, request);
    const analysis = await analyzeImage(source, resolved, { dockerfile: request.dockerfile }).catch(
      (err) => {
        if (err instanceof AnalyzeError) throw new CliError(err.message, ExitCode.Failure);
        throw err;
      },
    );
    const failed = report(analysis, request, flags);
    if (failed) process.exitCode = ExitCode.Findings;
  } finally {
    await source.close();
  }
}

async function requestFrom(flags: AnalyzeFlags): Promise<AnalyzeRequest> {
  const thresholds = await thresholdsFrom(flags);
  const layer = flags.layer === undefined ? undefined : parseLayerIndex(flags.layer);
  const platform = flags.platform === undefined ? undefined : parsePlatformFlag(flags.platform);
  if (flags.target !== undefined && flags.dockerfile === undefined) {
    throw new CliError(
      "--target needs --dockerfile (the file whose stage it names)",
      ExitCode.Usage,
    );
  }
  if (flags.dockerfile === undefined) return { thresholds, layer, platform };
  const text = await readTextFile(flags.dockerfile, "the Dockerfile");
  if (flags.target !== undefined) checkTarget(text, flags.target);
  return { thresholds, layer, platform, dockerfile: { text, target: flags.target } };
}

/** Flags that only the resolved image can check: `--platform` and `--layer`. */
function checkResolved(image: string, resolved: ResolvedImage, request: AnalyzeRequest): void {
  const { platform, layer } = request;
  if (platform && !resolved.index && !samePlatform(platform, resolved.platform)) {
    throw new CliError(
      `${image} is a single-platform image for ${formatPlatform(resolved.platform)}, not ${formatPlatform(platform)}`,
      ExitCode.Usage,
    );
  }
  if (layer !== undefined && layer >= resolved.layers.length) {
    throw new CliError(
      `--layer ${layer} is out of range: the image has ${resolved.layers.length} layers (0-${resolved.layers.length - 1})`,
      ExitCode.Usage,
    );
  }
}

/** Prints the report (or JSON); true when a CI threshold was crossed. */
function report(analysis: ImageAnalysis, request: AnalyzeRequest, flags: AnalyzeFlags): boolean {
  const { thresholds, layer } = request;
  const ci = hasThresholds(thresholds)
    ? evaluateThresholds(analysis.totals, thresholds)
    : undefined;
  const wantsTree = flags.tree === true || layer !== undefined;
  const tree = wantsTree
    ? { entries: buildTree(analysis.filesystem, { layer }), options: { layer } }
    : undefined;
  if (flags.format === "json") printJson(analysisToJson(analysis, { ci, tree }));
  else printLines(renderReport(analysis, { ci, tree }));
  return ci?.some((r: RuleResult) => !r.passed) ?? false;
}

async function thresholdsFrom(flags: AnalyzeFlags): Promise<Thresholds> {
  try {
    const thresholds: Thresholds = flags.ciConfig
      ? parseDiveCiFile(await readTextFile(flags.ciConfig, "the CI config"))
      : {};
    if (flags.lowestEfficiency !== undefined) {
      thresholds.lowestEfficiency = parseRatio(flags.lowestEfficiency, "--lowest-efficiency");
    }
    if (flags.highestWastedBytes !== undefined) {
      thresholds.highestWastedBytes = parseBytesThreshold(
        flags.highestWastedBytes,
        "--highest-wasted-bytes",
      );
    }
    if (flags.highestUserWastedPercent !== undefined) {
      thresholds.highestUserWastedPercent = parseRatio(
        flags.highestUserWastedPercent,
        "--highest-user-wasted-percent",
      );
    }
    return thresholds;
  } catch (err) {
    if (err instanceof ThresholdError) throw new CliError(err.message, ExitCode.Usage);
    throw err;
  }
}

function hasThresholds(t: Thresholds): boolean {
  return (
    t.lowestEfficiency !== undefined ||
    t.highestWastedBytes !== undefined ||
    t.highestUserWastedPercent !== undefined
  );
}

function checkTarget(dockerfileText: string, target: string): void {
  const names = stageNames(dockerfileText);
  if (names.includes(target.toLowerCase())) return;
  const known = names.length > 0 ? `its stages are ${names.join(", ")}` : "it has no named stages";
  throw new CliError(
    `--target ${target} is not a stage of the Dockerfile: ${known}`,
    ExitCode.Usage,
  );
}

function parsePlatformFlag(text: string): Platform {
  try {
    return parsePlatform(text);
  } catch {
    throw new CliError(
      `--platform must be os/arch[/variant] (e.g. linux/arm64), got "${text}"`,
      ExitCode.Usage,
    );
  }
}

function samePlatform(wanted: Platform, actual: Platform): boolean {
  return wanted.os === actual.os && wanted.architecture === actual.architecture;
}

function parseLayerIndex(text: string): number {
  if (!/^\d+$/.test(text)) {
    throw new CliError(
      `--layer must be a layer number (0 is the base), got "${text}"`,
      ExitCode.Usage,
    );
  }
  return Number(text);
}

async function readTextFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "unreadable";
    throw new CliError(`cannot read ${what} ${path}: ${reason}`, ExitCode.Usage);
  }
}

/**
 * Runs a step that reads the image; a failure that does not already name the image (a tar
 * error inside an archive, say) is prefixed with it. The exit code stays the one the error
 * deserves (2 for unreadable input, 3 for a failed operation).
 */
async function naming<T>(image: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const cli = asCliError(err);
    const reason = FILE_ERRORS[(err as NodeJS.ErrnoException).code ?? ""];
    if (reason) throw new CliError(`cannot read ${image}: ${reason}`, ExitCode.Usage);
    if (namesOf(image).some((name) => cli.message.includes(name))) throw cli;
    throw new CliError(`cannot read ${image}: ${cli.message}`, cli.exitCode);
  }
}

const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "it is a directory, not an archive",
  ENOTDIR: "a part of the path is not a directory",
};

/** The ways an error message may already name the image: as typed, or its path or reference. */
function namesOf(image: string): string[] {
  const names = [image, image.replace(/^[a-z-]+:(\/\/)?/, "")];
  try {
    const spec = parseTransportSpec(image);
    if (spec.kind !== "registry") names.push(spec.path);
  } catch {
    // Not a valid spec: the error says so and quotes it.
  }
  return names.filter((name) => name !== "");
}
