// `berth sbom TARGET --format cyclonedx|spdx-json`: the software bill of materials alone
// (no vulnerability database needed), for an image, a directory (`fs:PATH`) or to convert an
// existing SBOM (`sbom:FILE`).
import type { Command } from "commander";
import { ScanTargetError } from "../scan/catalogers/errors.js";
import { memorySource } from "../scan/match/index.js";
import { renderSbom, SBOM_FORMATS } from "../scan/report/index.js";
import { collectInventory, evaluateInventory } from "../scan/scan.js";
import { CliError, ExitCode } from "./errors.js";
import {
  addRegistryFlags,
  asCliError,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";
import { attachSbom } from "./sbom-attach.js";
import { writeOutput } from "./scan.js";
import { ttyProgress } from "./scan-progress.js";

interface SbomFlags extends RegistryFlags {
  format: string;
  output?: string;
  platform?: string;
  attach?: boolean;
}

export function register(program: Command): void {
  const command = program
    .command("sbom")
    .description("write the software bill of materials of an image, fs:PATH or sbom:FILE")
    .argument(
      "<target>",
      "image (docker://, oci:, oci-archive:, docker-archive:, REF), fs:PATH or sbom:FILE",
    )
    .option("-f, --format <format>", `SBOM format: ${SBOM_FORMATS.join(", ")}`, "cyclonedx")
    .option("-o, --output <file>", "write the SBOM to a file")
    .option("--platform <os/arch>", "platform to pick from a multi-platform image")
    .option("--attach", "also attach the SBOM to the registry image as an OCI 1.1 referrer")
    .addHelpText(
      "after",
      "\nExample:\n  berth sbom 127.0.0.1:5000/team/app:1.0 --format spdx-json --attach",
    );
  addRegistryFlags(command).action(async (target: string, flags: SbomFlags) => {
    if (!(SBOM_FORMATS as readonly string[]).includes(flags.format)) {
      throw new CliError(
        `unknown SBOM format "${flags.format}" (use ${SBOM_FORMATS.join(", ")})`,
        ExitCode.Usage,
      );
    }
    const progress = ttyProgress();
    let inventory: Awaited<ReturnType<typeof collectInventory>>;
    try {
      inventory = await collectInventory(target, {
        platform: flags.platform,
        transport: { registry: registryOptionsFrom(flags) },
        onProgress: (m) => progress.update(m),
      });
    } catch (err) {
      if (err instanceof ScanTargetError) throw new CliError(err.message, ExitCode.Usage);
      throw asCliError(err);
    } finally {
      progress.done();
    }
    for (const w of inventory.warnings) process.stderr.write(`berth: warning: ${w}\n`);
    const result = evaluateInventory(inventory, memorySource([]));
    const format = flags.format as (typeof SBOM_FORMATS)[number];
    const document = renderSbom(result, format);
    if (flags.attach) {
      const attached = await attachSbom(target, format, document, flags).catch((err: unknown) => {
        throw asCliError(err);
      });
      process.stderr.write(`Attached the SBOM to ${target} as referrer ${attached}\n`);
    }
    writeOutput(document, flags.output);
  });
}
