// `berth db import|status|update`: manage the local OSV vulnerability database
// (`--db-dir`, BERTH_DB_DIR, or ${XDG_CACHE_HOME:-~/.cache}/berth/db). `update --source`
// takes a directory or zip path, or an http(s) URL of an OSV all.zip, which is downloaded to a
// temporary file (streamed, never buffered) and imported atomically.
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { type ImportSummary, importOsv } from "../scan/osv/import.js";
import { resolveDbDir } from "../scan/osv/location.js";
import { NoDatabaseError, OsvStore } from "../scan/osv/store.js";
import { CliError, ExitCode } from "./errors.js";
import { ttyProgress } from "./scan-progress.js";

interface DbFlags {
  dbDir?: string;
  format?: string;
}

function summaryLine(s: ImportSummary, dir: string): string {
  const invalid = s.invalid ? `, ${s.invalid} invalid skipped (first: ${s.firstProblem})` : "";
  return `imported into ${dir}: ${s.added} added, ${s.updated} updated, ${s.unchanged} unchanged${invalid}; ecosystems: ${s.ecosystems.join(", ") || "none"}\n`;
}

async function runImport(dir: string, inputs: string[], label?: string): Promise<ImportSummary> {
  const progress = ttyProgress();
  try {
    return await importOsv(dir, inputs, {
      sourceLabel: label,
      onProgress: (n) => progress.update(`importing: ${n} records read`),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      (err as Error).message,
      code === "ENOENT" || /no such file|not a zip/.test((err as Error).message)
        ? ExitCode.Usage
        : ExitCode.Failure,
    );
  } finally {
    progress.done();
  }
}

function age(iso: string | null): string {
  if (!iso) return "-";
  const ms = Date.now() - Date.parse(iso);
  const h = Math.floor(ms / 3_600_000);
  return h < 48 ? `${h}h` : `${Math.floor(h / 24)}d`;
}

async function download(url: string, dir: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new CliError(
      `cannot fetch ${url}: ${(err as Error).cause ?? (err as Error).message}`,
      ExitCode.Failure,
    );
  }
  if (!response.ok || !response.body)
    throw new CliError(`cannot fetch ${url}: HTTP ${response.status}`, ExitCode.Failure);
  const file = join(dir, "download.zip");
  await pipeline(
    Readable.fromWeb(response.body as import("node:stream/web").ReadableStream),
    createWriteStream(file),
  );
  return file;
}

export function register(program: Command): void {
  const db = program.command("db").description("manage the local OSV vulnerability database");

  db.command("import")
    .description("load OSV records from osv.dev all.zip files or directories of OSV JSON")
    .argument("<inputs...>", "all.zip files, OSV JSON files or directories")
    .option("--db-dir <dir>", "database directory (default: $BERTH_DB_DIR or ~/.cache/berth/db)")
    .action(async (inputs: string[], flags: DbFlags) => {
      const dir = resolveDbDir(flags.dbDir);
      process.stdout.write(summaryLine(await runImport(dir, inputs), dir));
    });

  db.command("status")
    .description("show the database's ecosystems, record counts and age")
    .option("--db-dir <dir>", "database directory")
    .option("--format <format>", "table or json", "table")
    .action(async (flags: DbFlags) => {
      const dir = resolveDbDir(flags.dbDir);
      let store: OsvStore;
      try {
        store = OsvStore.open(dir);
      } catch (err) {
        if (err instanceof NoDatabaseError) throw new CliError(err.message, ExitCode.Failure);
        throw err;
      }
      const status = store.status();
      store.close();
      if (flags.format === "json") {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      const lines = [`database: ${status.path}`, `records: ${status.totalRecords}`, ""];
      const rows = status.ecosystems.map((e) => [
        e.ecosystem,
        String(e.records),
        String(e.withdrawn),
        e.newestModified ?? "-",
        `${age(e.importedAt)} ago`,
      ]);
      const header = ["ECOSYSTEM", "RECORDS", "WITHDRAWN", "NEWEST MODIFIED", "IMPORTED"];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      for (const r of [header, ...rows])
        lines.push(
          r
            .map((c, i) => c.padEnd(widths[i]))
            .join("  ")
            .trimEnd(),
        );
      process.stdout.write(`${lines.join("\n")}\n`);
    });

  db.command("update")
    .description(
      "refresh the database from an OSV source (URL of an all.zip, a zip file or a directory)",
    )
    .requiredOption("--source <url|dir>", "where to get OSV records")
    .option("--db-dir <dir>", "database directory")
    .action(async (flags: DbFlags & { source: string }) => {
      const dir = resolveDbDir(flags.dbDir);
      if (!/^https?:\/\//.test(flags.source)) {
        process.stdout.write(summaryLine(await runImport(dir, [flags.source], flags.source), dir));
        return;
      }
      const temp = await mkdtemp(join(tmpdir(), "berth-osv-"));
      try {
        const file = await download(flags.source, temp);
        process.stdout.write(summaryLine(await runImport(dir, [file], flags.source), dir));
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    });
}
