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
  parseBytesThreshold,
  parseDiveCiFile,
  parseRatio,
  type RuleResult,
  renderReport,
  ThresholdError,
  type Thresholds,
} from "../analyze/index.js";
import { openImageSource, resolveImage } from "../transport/index.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson, printLines } from "./output.js";
import {
  addRegistryFlags,
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

export function register(program: Command): void {
  const command = program
    .command("analyze")
    .description(
      "analyze an image's layers: wasted bytes, efficiency, and what to change in the Dockerfile",
    )
    .argument("<image>", "REF, docker://REF, oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE")
    .option("--platform <os/arch[/variant]>", "which image of a multi-arch index to analyze")
    .option("--dockerfile <path>", "the Dockerfile the image was built from (maps layers to lines)")
    .option("--target <stage>", "the Dockerfile stage that produced the image (default: last)")
    .option("--tree", "print the merged filesystem as a tree")
    .option("--layer <n>", "with --tree: show only what layer N added, modified and removed")
    .option("--lowest-efficiency <ratio>", "CI: fail when efficiency is below RATIO (e.g. 0.95)")
    .option("--highest-wasted-bytes <size>", "CI: fail when wasted bytes exceed SIZE (e.g. 20MB)")
    .option(
      "--highest-user-wasted-percent <ratio>",
      "CI: fail when wasted ÷ user bytes exceeds RATIO (e.g. 0.10)",
    )
    .option("--ci-config <file>", "CI: read thresholds from a dive .dive-ci file (flags win)")
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExit codes: 0 ok, 1 a CI threshold was crossed, 2 bad usage, 3 failure.\n" +
        "Example:\n  berth analyze oci:./layout:1.0 --dockerfile Dockerfile --lowest-efficiency 0.95",
    );
  addRegistryFlags(command).action(
    cliAction(async (image: string, flags: AnalyzeFlags) => {
      const thresholds = await thresholdsFrom(flags);
      const layer = flags.layer === undefined ? undefined : parseLayerIndex(flags.layer);
      const dockerfile = flags.dockerfile
        ? { text: await readDockerfile(flags.dockerfile), target: flags.target }
        : undefined;
      const source = await openImageSource(image, { registry: registryOptionsFrom(flags) });
      try {
        const resolved = await resolveImage(source, { platform: flags.platform });
        if (layer !== undefined && layer >= resolved.layers.length) {
          throw new CliError(
            `--layer ${layer} is out of range: the image has ${resolved.layers.length} layers (0-${resolved.layers.length - 1})`,
            ExitCode.Usage,
          );
        }
        const analysis = await analyzeImage(source, resolved, { dockerfile }).catch((err) => {
          if (err instanceof AnalyzeError) throw new CliError(err.message, ExitCode.Failure);
          throw err;
        });
        const ci = hasThresholds(thresholds)
          ? evaluateThresholds(analysis.totals, thresholds)
          : undefined;
        const wantsTree = flags.tree === true || layer !== undefined;
        const tree = wantsTree
          ? { entries: buildTree(analysis.filesystem, { layer }), options: { layer } }
          : undefined;
        if (flags.format === "json") printJson(analysisToJson(analysis, { ci, tree }));
        else printLines(renderReport(analysis, { ci, tree }));
        if (ci?.some((r: RuleResult) => !r.passed)) process.exitCode = ExitCode.Findings;
      } finally {
        await source.close();
      }
    }),
  );
}

async function thresholdsFrom(flags: AnalyzeFlags): Promise<Thresholds> {
  try {
    const thresholds: Thresholds = flags.ciConfig
      ? parseDiveCiFile(await readFile(flags.ciConfig, "utf8"))
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

function parseLayerIndex(text: string): number {
  if (!/^\d+$/.test(text)) {
    throw new CliError(
      `--layer must be a layer number (0 is the base), got "${text}"`,
      ExitCode.Usage,
    );
  }
  return Number(text);
}

async function readDockerfile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    throw new CliError(`cannot read the Dockerfile ${path}`, ExitCode.Usage);
  }
}
