// `berth scan TARGET`: catalog an image (any transport), a directory (`fs:PATH`) or an SBOM
// (`sbom:FILE`), match against the local OSV database and report, with Trivy's flags:
// --severity, --ignore-unfixed, --exit-code, --ignorefile, --vex, --pkg-types, --format, -o.
// Exit code: N from --exit-code when findings remain after filtering, else 0; 2 for bad usage
// or a bad target (unknown flag value, missing fs: path or sbom: file); 3 when the scan fails.
import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { ScanTargetError } from "../scan/catalogers/errors.js";
import { parsePackageTypes } from "../scan/match/filter.js";
import { IgnoreFileError, parseIgnoreFile } from "../scan/match/ignore.js";
import { parseOpenVex, VexError } from "../scan/match/vex.js";
import { resolveDbDir } from "../scan/osv/location.js";
import { NoDatabaseError } from "../scan/osv/store.js";
import { renderScan, SCAN_FORMATS, type ScanFormat } from "../scan/report/index.js";
import { allFindings } from "../scan/result.js";
import { scan } from "../scan/scan.js";
import { SEVERITIES, type Severity } from "../scan/severity/index.js";
import { fetchLine, updateFromRepository } from "./db.js";
import { CliError, ExitCode } from "./errors.js";
import {
  addRegistryFlags,
  asCliError,
  collect,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";
import { ttyProgress } from "./scan-progress.js";

interface ScanFlags extends RegistryFlags {
  severity?: string;
  ignoreUnfixed?: boolean;
  exitCode?: string;
  ignorefile?: string;
  vex?: string;
  pkgTypes?: string;
  format: string;
  output?: string;
  dbDir?: string;
  dbRepository?: string;
  dbKey?: string[];
  platform?: string;
}

function usage(message: string): CliError {
  return new CliError(message, ExitCode.Usage);
}

export function parseSeverities(value: string | undefined): Severity[] | undefined {
  if (!value) return undefined;
  return value.split(",").map((s) => {
    const upper = s.trim().toUpperCase();
    if (!(SEVERITIES as readonly string[]).includes(upper)) {
      throw usage(`unknown severity "${s}" (use ${SEVERITIES.join(",")})`);
    }
    return upper as Severity;
  });
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw usage(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export function writeOutput(text: string, output?: string): void {
  if (output) {
    try {
      writeFileSync(output, text);
    } catch (err) {
      throw usage(`cannot write ${output}: ${(err as Error).message}`);
    }
  } else process.stdout.write(text);
}

export function register(program: Command): void {
  const command = program
    .command("scan")
    .description(
      "find known vulnerabilities in an image, a directory (fs:PATH) or an SBOM (sbom:FILE)",
    )
    .argument(
      "<target>",
      "image (docker://, oci:, oci-archive:, docker-archive:, REF), fs:PATH (a root filesystem or a source tree: its lock files are read too) or sbom:FILE",
    )
    .option("--severity <list>", "only these severities, e.g. CRITICAL,HIGH")
    .option("--ignore-unfixed", "hide vulnerabilities without a fixed version")
    .option("--exit-code <n>", "exit with this code when vulnerabilities are found", "0")
    .option(
      "--ignorefile <file>",
      "ids to ignore (.trivyignore or YAML, with expiry dates and reasons)",
    )
    .option("--vex <file>", "OpenVEX document: not_affected statements suppress findings")
    .option("--pkg-types <list>", "package types to scan: os,library", "os,library")
    .option("-f, --format <format>", `report format: ${SCAN_FORMATS.join(", ")}`, "table")
    .option("-o, --output <file>", "write the report to a file")
    .option("--db-dir <dir>", "vulnerability database directory")
    .option(
      "--db-repository <ref>",
      "first fetch the database from this OCI artifact (berth db push), when its digest changed",
    )
    .option(
      "--db-key <file>",
      "with --db-repository: require a signature by this cosign public key (repeatable)",
      collect,
      [],
    )
    .option("--platform <os/arch>", "platform to pick from a multi-platform image");
  addRegistryFlags(command).action(async (target: string, flags: ScanFlags) => {
    if (!(SCAN_FORMATS as readonly string[]).includes(flags.format)) {
      throw usage(`unknown format "${flags.format}" (use ${SCAN_FORMATS.join(", ")})`);
    }
    const exitCode = Number(flags.exitCode ?? "0");
    if (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255)
      throw usage("--exit-code must be 0-255");
    let pkgTypes: ReturnType<typeof parsePackageTypes>;
    let ignoreRules: ReturnType<typeof parseIgnoreFile> | undefined;
    let vex: ReturnType<typeof parseOpenVex> | undefined;
    try {
      pkgTypes = parsePackageTypes(flags.pkgTypes ?? "os,library");
      if (flags.ignorefile)
        ignoreRules = parseIgnoreFile(flags.ignorefile, readText(flags.ignorefile, "ignore file"));
      if (flags.vex) vex = parseOpenVex(readText(flags.vex, "VEX file"));
    } catch (err) {
      if (err instanceof CliError) throw err;
      const prefix =
        err instanceof IgnoreFileError
          ? `${flags.ignorefile}: `
          : err instanceof VexError
            ? `${flags.vex}: `
            : "";
      throw usage(`${prefix}${(err as Error).message}`);
    }
    const severities = parseSeverities(flags.severity);
    if (flags.dbRepository) {
      const dir = resolveDbDir(flags.dbDir);
      const fetched = await updateFromRepository(
        flags.dbRepository,
        dir,
        flags,
        false,
        flags.dbKey,
      );
      process.stderr.write(`berth: ${fetchLine(fetched, dir)}`);
    }
    const progress = ttyProgress();
    let result: Awaited<ReturnType<typeof scan>>;
    try {
      result = await scan(target, {
        dbDir: resolveDbDir(flags.dbDir),
        platform: flags.platform,
        transport: { registry: registryOptionsFrom(flags) },
        pkgTypes,
        filter: { severities, ignoreUnfixed: flags.ignoreUnfixed, ignoreRules, vex },
        onProgress: (m) => progress.update(m),
      });
    } catch (err) {
      if (err instanceof NoDatabaseError) throw new CliError(err.message, ExitCode.Failure);
      if (err instanceof ScanTargetError) throw usage(err.message);
      throw asCliError(err);
    } finally {
      progress.done();
    }
    for (const w of result.warnings) process.stderr.write(`berth: warning: ${w}\n`);
    writeOutput(renderScan(result, flags.format as ScanFormat), flags.output);
    if (allFindings(result).length > 0 && exitCode !== 0) process.exitCode = exitCode;
  });
}
