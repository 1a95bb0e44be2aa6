// `berth db import`: loads OSV records from osv.dev all.zip files or directories of OSV JSON
// into the local database. Incremental (a record replaces the stored one only when its
// `modified` is newer) and atomic: the new database is written to a temporary file in the
// same directory and renamed over the old one, so an interrupted import leaves the previous
// database untouched and usable. Never writes to the live database file in place.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import Database from "better-sqlite3";
import { baseEcosystem } from "../versions/index.js";
import { dbFilePath } from "./location.js";
import { normalizePackageName, type OsvRecord, osvRecordProblem } from "./record.js";
import { SCHEMA, SCHEMA_VERSION } from "./store.js";
import { readZip } from "./zip.js";

export interface ImportSummary {
  readonly added: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly invalid: number;
  readonly firstProblem?: string;
  readonly ecosystems: readonly string[];
}

export interface ImportOptions {
  /** Called every N records with a count, for progress output. */
  readonly onProgress?: (seen: number) => void;
  /** Label stored per ecosystem as the source of the import (defaults to the input paths). */
  readonly sourceLabel?: string;
}

/** Yields each JSON document's text from a zip file or a directory tree. */
export async function* osvDocuments(input: string): AsyncGenerator<{ name: string; text: string }> {
  const info = statSync(input, { throwIfNoEntry: false });
  if (!info) throw new Error(`${input}: no such file or directory`);
  if (info.isDirectory()) {
    yield* directoryDocuments(input);
    return;
  }
  if (input.endsWith(".json")) {
    yield { name: input, text: await readFile(input, "utf8") };
    return;
  }
  for await (const entry of readZip(input)) {
    if (entry.name.endsWith(".json")) yield { name: entry.name, text: entry.data.toString("utf8") };
  }
}

async function* directoryDocuments(dir: string): AsyncGenerator<{ name: string; text: string }> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* directoryDocuments(path);
    else if (e.name.endsWith(".json")) yield { name: path, text: await readFile(path, "utf8") };
    else if (e.name.endsWith(".zip")) yield* osvDocuments(path);
  }
}

interface AffectedKey {
  readonly ecosystem: string;
  readonly release: string;
  readonly name: string;
}

/** The (ecosystem, release, name) keys a record is indexed under. */
export function affectedKeys(record: OsvRecord): AffectedKey[] {
  const keys = new Map<string, AffectedKey>();
  for (const a of record.affected ?? []) {
    if (!a.package) continue;
    const ecosystem = baseEcosystem(a.package.ecosystem);
    const release = a.package.ecosystem.slice(ecosystem.length + 1);
    const name = normalizePackageName(ecosystem, a.package.name);
    keys.set(`${ecosystem}\u0000${release}\u0000${name}`, { ecosystem, release, name });
  }
  return [...keys.values()];
}

function isNewer(incoming: string, stored: string): boolean {
  return Date.parse(incoming) > Date.parse(stored);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes temp files `<prefix><pid>` left by writers that were killed (their process no longer
 * exists): imports here, database fetches in src/scan/db-artifact.ts.
 */
export function removeStaleTemps(dir: string, prefix: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid))
      rmSync(join(dir, name), { force: true });
  }
}

/** Imports every input into the database in `dir`, atomically. */
export async function importOsv(
  dir: string,
  inputs: readonly string[],
  options: ImportOptions = {},
): Promise<ImportSummary> {
  mkdirSync(dir, { recursive: true });
  const live = dbFilePath(dir);
  const temp = join(dir, `.${basename(live)}.import-${process.pid}`);
  removeStaleTemps(dir, `.${basename(live)}.import-`);
  rmSync(temp, { force: true });
  if (existsSync(live)) copyFileSync(live, temp);
  const db = new Database(temp);
  try {
    db.pragma("journal_mode = DELETE");
    db.pragma("synchronous = FULL");
    db.exec(SCHEMA);
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(
      String(SCHEMA_VERSION),
    );
    // Records imported here: the database no longer is exactly a fetched artifact.
    db.prepare("DELETE FROM meta WHERE key = 'origin'").run();
    const summary = await loadInto(db, inputs, options);
    db.close();
    renameSync(temp, live);
    return summary;
  } catch (err) {
    if (db.open) db.close();
    rmSync(temp, { force: true });
    throw err;
  }
}

async function loadInto(
  db: Database.Database,
  inputs: readonly string[],
  options: ImportOptions,
): Promise<ImportSummary> {
  const getModified = db.prepare("SELECT modified FROM records WHERE id = ?");
  const upsert = db.prepare(
    "INSERT OR REPLACE INTO records (id, modified, withdrawn, json) VALUES (?, ?, ?, ?)",
  );
  const dropKeys = db.prepare("DELETE FROM affected WHERE record_id = ?");
  const addKey = db.prepare(
    "INSERT INTO affected (ecosystem, release, name, record_id) VALUES (?, ?, ?, ?)",
  );
  const touch = db.prepare(
    "INSERT OR REPLACE INTO imports (ecosystem, imported_at, source) VALUES (?, ?, ?)",
  );
  let added = 0;
  let updated = 0;
  let unchanged = 0;
  let invalid = 0;
  let firstProblem: string | undefined;
  const ecosystems = new Set<string>();
  const store = (record: OsvRecord, text: string) => {
    const stored = getModified.get(record.id) as { modified: string } | undefined;
    for (const k of affectedKeys(record)) ecosystems.add(k.ecosystem);
    if (stored && !isNewer(record.modified, stored.modified)) {
      unchanged++;
      return;
    }
    if (stored) updated++;
    else added++;
    upsert.run(record.id, record.modified, record.withdrawn ? 1 : 0, text);
    dropKeys.run(record.id);
    for (const k of affectedKeys(record)) addKey.run(k.ecosystem, k.release, k.name, record.id);
  };
  const batch: { record: OsvRecord; text: string }[] = [];
  const flush = db.transaction(() => {
    for (const b of batch) store(b.record, b.text);
  });
  let seen = 0;
  for (const input of inputs) {
    for await (const doc of osvDocuments(input)) {
      seen++;
      let value: unknown;
      try {
        value = JSON.parse(doc.text);
      } catch {
        invalid++;
        firstProblem ??= `${doc.name}: not valid JSON`;
        continue;
      }
      const problem = osvRecordProblem(value);
      if (problem) {
        invalid++;
        firstProblem ??= `${doc.name}: ${problem}`;
        continue;
      }
      batch.push({ record: value as OsvRecord, text: JSON.stringify(value) });
      if (batch.length >= 2000) {
        flush();
        batch.length = 0;
        options.onProgress?.(seen);
      }
    }
  }
  flush();
  const now = new Date().toISOString();
  const label = options.sourceLabel ?? inputs.join(", ");
  db.transaction(() => {
    for (const e of ecosystems) touch.run(e, now, label);
  })();
  return { added, updated, unchanged, invalid, firstProblem, ecosystems: [...ecosystems].sort() };
}
