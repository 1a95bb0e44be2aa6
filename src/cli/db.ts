// `berth db import|status|update|push|pull`: manage the local OSV vulnerability database
// (`--db-dir`, BERTH_DB_DIR, or ${XDG_CACHE_HOME:-~/.cache}/berth/db). `update --source`
// takes a directory or zip path, or an http(s) URL of an OSV all.zip, which is downloaded to a
// temporary file (streamed, never buffered) and imported atomically. `push REF` packs the
// database as an OCI artifact and `pull REF` (and `berth scan --db-repository REF`) fetch it,
// verified, through src/scan/db-artifact.ts — the same code the server's updater runs.
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import {
  ageOf,
  DbArtifactError,
  describeDatabase,
  type FetchResult,
  fetchDatabase,
  pushDatabase,
} from "../scan/db-artifact.js";
import { type ImportSummary, importOsv } from "../scan/osv/import.js";
import { resolveDbDir } from "../scan/osv/location.js";
import { NoDatabaseError, OsvStore } from "../scan/osv/store.js";
import { CliError, ExitCode } from "./errors.js";
import { addRegistryFlags, asCliError, collect, type RegistryFlags } from "./registry-flags.js";
import { clientFor, registryReference } from "./registry-ref.js";
import { ttyProgress } from "./scan-progress.js";
import { privateKeyFromFile, publicKeysFromFiles } from "./signing-keys.js";

interface DbFlags extends RegistryFlags {
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

/** One sentence for a fetch: what happened, where from, and how old the data is. */
export function fetchLine(r: FetchResult, dir: string): string {
  const what =
    r.outcome === "updated"
      ? `vulnerability database updated in ${dir} from ${r.reference}@${r.digest}`
      : `vulnerability database in ${dir} is current (${r.reference}@${r.digest})`;
  return `${what}: ${r.summary.totalRecords} records, data ${ageOf(r.summary.importedAt)} old\n`;
}

/**
 * Fetches the database at `reference` into `dir` (a no-op when the digest is unchanged).
 * With `keyFiles`, the artifact must carry a signature by one of those public keys.
 */
export async function updateFromRepository(
  reference: string,
  dir: string,
  flags: RegistryFlags,
  force = false,
  keyFiles: readonly string[] = [],
): Promise<FetchResult> {
  const ref = registryReference(reference);
  const trustedKeys = keyFiles.length > 0 ? publicKeysFromFiles([...keyFiles]) : undefined;
  const client = clientFor(ref, flags);
  try {
    return await fetchDatabase(client, ref, dir, { force, trustedKeys });
  } catch (err) {
    if (err instanceof DbArtifactError) {
      throw new CliError(`${err.message}; the local database is unchanged`, ExitCode.Failure);
    }
    const cli = asCliError(err);
    throw new CliError(
      `cannot fetch the vulnerability database ${reference}: ${cli.message}`,
      cli.exitCode,
    );
  } finally {
    await client.close();
  }
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
      const described = describeDatabase(dir);
      const origin = described?.origin ?? { kind: "import" as const };
      const summary = described?.summary;
      if (flags.format === "json") {
        const doc = {
          ...status,
          sources: summary?.sources ?? [],
          records: summary?.records ?? {},
          importedAt: summary?.importedAt ?? null,
          ageSeconds: summary?.importedAt
            ? Math.max(0, Math.floor((Date.now() - Date.parse(summary.importedAt)) / 1000))
            : null,
          origin,
        };
        process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
        return;
      }
      const lines = [
        `database: ${status.path}`,
        `records: ${status.totalRecords}`,
        `data age: ${ageOf(summary?.importedAt ?? null)} (newest import ${summary?.importedAt ?? "-"})`,
        origin.kind === "repository"
          ? `origin: ${origin.reference}@${origin.digest} (pushed ${origin.created}, fetched ${origin.fetchedAt})`
          : `origin: imported from ${(summary?.sources ?? []).join(", ") || "-"}`,
        "",
      ];
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

  const push = db
    .command("push")
    .description("pack the local database as an OCI artifact and push it (for offline sites)")
    .argument("<ref>", "REGISTRY/REPO:TAG, e.g. registry.example/security/osv-db:latest")
    .option("--db-dir <dir>", "database directory")
    .option("--key <file>", "sign the pushed artifact with this cosign private key")
    .option("--format <format>", "text or json", "text")
    .addHelpText(
      "after",
      "\nWith --key, fetchers given the public key (berth db pull --key, berth scan --db-key,\nthe server's scan.dbRepositoryKey) refuse a database without that signature.\n\nServers fetch it with scan.dbRepository, the CLI with berth scan --db-repository REF or\nberth db pull REF; see docs/scan.md.\n\nExample:\n  berth db push 127.0.0.1:5000/security/osv-db:latest",
    );
  addRegistryFlags(push).action(async (reference: string, flags: DbFlags & { key?: string }) => {
    const dir = resolveDbDir(flags.dbDir);
    const ref = registryReference(reference);
    if (ref.digest) throw new CliError("push to a tag, not a digest", ExitCode.Usage);
    const signWith = flags.key ? await privateKeyFromFile(flags.key) : undefined;
    const client = clientFor(ref, flags);
    try {
      const pushed = await pushDatabase(client, ref, dir, signWith ? { signWith } : {});
      if (flags.format === "json") {
        process.stdout.write(`${JSON.stringify(pushed, null, 2)}\n`);
        return;
      }
      const counts = Object.entries(pushed.summary.records)
        .map(([e, n]) => `${e} ${n}`)
        .join(", ");
      process.stdout.write(
        `pushed the vulnerability database to ${pushed.reference}@${pushed.digest}: ${pushed.summary.totalRecords} records (${counts || "none"}), ${pushed.layer.size} bytes compressed${pushed.signature ? `; signed (${pushed.signature})` : ""}\n`,
      );
    } catch (err) {
      if (err instanceof DbArtifactError) throw new CliError(err.message, ExitCode.Failure);
      throw asCliError(err);
    } finally {
      await client.close();
    }
  });

  const pull = db
    .command("pull")
    .description("fetch a database pushed with berth db push (only when its digest changed)")
    .argument("<ref>", "REGISTRY/REPO:TAG or REGISTRY/REPO@DIGEST")
    .option("--db-dir <dir>", "database directory")
    .option("--force", "download even when the local database is that digest already")
    .option(
      "--key <file>",
      "require a signature by this cosign public key (repeatable: any one of them)",
      collect,
      [],
    )
    .option("--format <format>", "text or json", "text");
  addRegistryFlags(pull).action(
    async (reference: string, flags: DbFlags & { force?: boolean; key: string[] }) => {
      const dir = resolveDbDir(flags.dbDir);
      const result = await updateFromRepository(
        reference,
        dir,
        flags,
        flags.force === true,
        flags.key,
      );
      if (flags.format === "json") process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(fetchLine(result, dir));
    },
  );
}
