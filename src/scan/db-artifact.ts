// The vulnerability database as an OCI artifact, so that it reaches an offline site the way
// Trivy's does with `--db-repository`, from Berth itself. One module for packing (`berth db
// push`), and for fetching, verifying and installing (`berth scan --db-repository`, `berth db
// pull` and the server's `scan.dbRepository` updater), so the CLI and the server share it.
//
// The artifact (docs/scan.md, "The database as an OCI artifact"):
//   manifest  application/vnd.oci.image.manifest.v1+json, artifactType DB_ARTIFACT_TYPE
//   config    the empty descriptor application/vnd.oci.empty.v1+json (`{}`)
//   layer     DB_LAYER_MEDIA_TYPE: the SQLite file `osv.sqlite`, gzip-compressed
//   annotations (manifest): created time, schema version, records per ecosystem (JSON), total
//             records, sources (JSON), newest import time, and the digest and size of the
//             uncompressed SQLite file.
//
// Fetching: a HEAD of the reference first; nothing is downloaded when its digest is the one
// the local database came from. Otherwise the manifest is fetched by that digest (bytes
// checked against it), its artifact type and schema version are checked, the layer is
// streamed (digest and size checked by the client), gunzipped into a temporary file in the
// database directory (never more bytes than announced), and the file must then match the
// annotated content digest, pass SQLite's integrity check, carry the expected schema version
// and hold exactly the annotated record counts. Only then is it fsynced and renamed over
// `osv.sqlite` (and the directory fsynced): a reader, or a process killed with SIGKILL at any
// point, sees the old database or the new one, never a half-written one. Temp files of
// killed fetches are removed by the next one.
// Signatures: `berth db push --key cosign.key` signs the pushed manifest digest with a
// cosign-compatible key (src/sign/, tag scheme `sha256-<hex>.sig`, so cosign verifies it
// too). A fetch given trusted public keys (`berth db pull --key`, `berth scan --db-key`, the
// server's `scan.dbRepositoryKey`) refuses, before any layer byte is read, a database whose
// manifest digest carries no signature that verifies with one of them.
// Never: write the live database in place, trust annotations the content does not confirm,
// or log credentials.
import { createHash, type KeyObject } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  createReadStream,
  createWriteStream,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import Database from "better-sqlite3";
import type { RegistryClient } from "../client/registry-client.js";
import {
  type Descriptor,
  EMPTY_JSON_DIGEST,
  EMPTY_JSON_SIZE,
  type ImageReference,
  MediaType,
} from "../oci/index.js";
import { signImage, verifyImage } from "../sign/image-signing.js";
import { removeStaleTemps } from "./osv/import.js";
import { dbFilePath } from "./osv/location.js";
import { type DbStatus, readStatus, SCHEMA_VERSION } from "./osv/store.js";

export const DB_ARTIFACT_TYPE = "application/vnd.berth.vulndb.v1";
export const DB_LAYER_MEDIA_TYPE = "application/vnd.berth.vulndb.sqlite.v1+gzip";

export const DbAnnotation = {
  created: "org.opencontainers.image.created",
  title: "org.opencontainers.image.title",
  schemaVersion: "dev.berth.vulndb.schema-version",
  records: "dev.berth.vulndb.records",
  totalRecords: "dev.berth.vulndb.total-records",
  sources: "dev.berth.vulndb.sources",
  importedAt: "dev.berth.vulndb.imported-at",
  contentDigest: "dev.berth.vulndb.content.digest",
  contentSize: "dev.berth.vulndb.content.size",
} as const;

/** The artifact refused, or the database could not be packed; the local database is untouched. */
export class DbArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DbArtifactError";
  }
}

/** Where the local database came from (kept in its `meta` table, key `origin`). */
export type DbOrigin =
  | { readonly kind: "import" }
  | {
      readonly kind: "repository";
      readonly reference: string;
      readonly digest: string;
      readonly created: string;
      readonly fetchedAt: string;
    };

export interface DbSummary {
  readonly schemaVersion: number;
  readonly totalRecords: number;
  readonly records: Readonly<Record<string, number>>;
  readonly sources: readonly string[];
  /** The newest import into the database (the age of its data), or null. */
  readonly importedAt: string | null;
}

export function summarize(status: DbStatus): DbSummary {
  const records: Record<string, number> = {};
  for (const e of status.ecosystems) records[e.ecosystem] = e.records;
  const sources = [
    ...new Set(status.ecosystems.map((e) => e.source).filter((s): s is string => !!s)),
  ].sort();
  const imports = status.ecosystems
    .map((e) => e.importedAt)
    .filter((t): t is string => !!t)
    .sort();
  return {
    schemaVersion: status.schemaVersion,
    totalRecords: status.totalRecords,
    records,
    sources,
    importedAt: imports.at(-1) ?? null,
  };
}

export function readOrigin(db: Database.Database): DbOrigin {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'origin'").get() as
    | { value: string }
    | undefined;
  if (!row) return { kind: "import" };
  try {
    return JSON.parse(row.value) as DbOrigin;
  } catch {
    return { kind: "import" };
  }
}

/** Summary and origin of the database in `dir`; undefined when there is none. */
export function describeDatabase(
  dir: string,
): { summary: DbSummary; origin: DbOrigin; status: DbStatus } | undefined {
  const path = dbFilePath(dir);
  if (!statSync(path, { throwIfNoEntry: false })) return undefined;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    checkSchema(db, path);
    const status = readStatus(db, path);
    return { summary: summarize(status), origin: readOrigin(db), status };
  } finally {
    db.close();
  }
}

function checkSchema(db: Database.Database, what: string): void {
  let version: { value: string } | undefined;
  try {
    version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      | { value: string }
      | undefined;
  } catch {
    throw new DbArtifactError(`${what} is not a Berth vulnerability database (no meta table)`);
  }
  if (!version || Number(version.value) !== SCHEMA_VERSION) {
    throw new DbArtifactError(
      `${what} has database schema ${version?.value ?? "none"}; this Berth reads schema ${SCHEMA_VERSION}`,
    );
  }
}

/** "3h", "2d": how long ago an ISO time was. */
export function ageOf(iso: string | null, now: Date = new Date()): string {
  if (!iso) return "unknown age";
  const ms = Math.max(0, now.getTime() - Date.parse(iso));
  const h = Math.floor(ms / 3_600_000);
  if (h < 1) return `${Math.floor(ms / 60_000)}m`;
  return h < 48 ? `${h}h` : `${Math.floor(h / 24)}d`;
}

// ---------------------------------------------------------------- packing and pushing

/** Streams bytes through while hashing them and counting them. */
class Meter extends Transform {
  readonly hash = createHash("sha256");
  bytes = 0;

  constructor(private readonly limit = Number.POSITIVE_INFINITY) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      done(new DbArtifactError(`the database is larger than the ${this.limit} bytes announced`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  digest(): string {
    return `sha256:${this.hash.digest("hex")}`;
  }
}

export interface PushedDatabase {
  readonly reference: string;
  readonly digest: string;
  readonly layer: Descriptor;
  readonly annotations: Readonly<Record<string, string>>;
  readonly summary: DbSummary;
  /** Where the signature was stored, when the push was signed. */
  readonly signature?: string;
}

export interface PushOptions {
  readonly now?: Date;
  /** Sign the pushed manifest with this private key (cosign simple signing, tag scheme). */
  readonly signWith?: KeyObject;
}

/**
 * Packs the database in `dir` and pushes it to `ref` (which needs a tag). A snapshot of the
 * file is taken first, so an import renaming a new database in meanwhile changes nothing.
 */
export async function pushDatabase(
  client: RegistryClient,
  ref: ImageReference,
  dir: string,
  options: PushOptions = {},
): Promise<PushedDatabase> {
  const now = options.now ?? new Date();
  const live = dbFilePath(dir);
  if (!statSync(live, { throwIfNoEntry: false })) {
    throw new DbArtifactError(
      `no vulnerability database in ${dir}: run "berth db import FILE.zip|DIR" first`,
    );
  }
  const work = await mkdtemp(join(tmpdir(), "berth-db-push-"));
  try {
    const snapshot = join(work, "osv.sqlite");
    copyFileSync(live, snapshot);
    const db = new Database(snapshot, { readonly: true, fileMustExist: true });
    let summary: DbSummary;
    try {
      checkSchema(db, live);
      summary = summarize(readStatus(db, live));
    } finally {
      db.close();
    }
    const layerFile = join(work, "layer.gz");
    const raw = new Meter();
    const compressed = new Meter();
    await pipeline(
      createReadStream(snapshot),
      raw,
      createGzip({ level: 9 }),
      compressed,
      createWriteStream(layerFile),
    );
    const layer: Descriptor = {
      mediaType: DB_LAYER_MEDIA_TYPE,
      digest: compressed.digest(),
      size: compressed.bytes,
      annotations: { [DbAnnotation.title]: "osv.sqlite" },
    };
    const annotations: Record<string, string> = {
      [DbAnnotation.created]: now.toISOString(),
      [DbAnnotation.schemaVersion]: String(summary.schemaVersion),
      [DbAnnotation.records]: JSON.stringify(summary.records),
      [DbAnnotation.totalRecords]: String(summary.totalRecords),
      [DbAnnotation.sources]: JSON.stringify(summary.sources),
      [DbAnnotation.contentDigest]: raw.digest(),
      [DbAnnotation.contentSize]: String(raw.bytes),
      ...(summary.importedAt ? { [DbAnnotation.importedAt]: summary.importedAt } : {}),
    };
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: DB_ARTIFACT_TYPE,
      config: { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST, size: EMPTY_JSON_SIZE },
      layers: [layer],
      annotations,
    };
    const repo = ref.repository;
    if (!(await client.hasBlob(repo, EMPTY_JSON_DIGEST))) {
      await client.uploadBlob(
        repo,
        { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST, size: EMPTY_JSON_SIZE },
        Readable.from([Buffer.from("{}")]),
      );
    }
    if (!(await client.hasBlob(repo, layer.digest))) {
      await client.uploadBlob(repo, layer, createReadStream(layerFile));
    }
    const bytes = Buffer.from(JSON.stringify(manifest));
    const digest = await client.putManifest(
      repo,
      ref.tag ?? "latest",
      bytes,
      MediaType.OciManifest,
    );
    let signature: string | undefined;
    if (options.signWith) {
      const [signed] = await signImage(
        client,
        { registry: ref.registry, repository: ref.repository, digest },
        options.signWith,
        { annotations: {}, bundle: false, referrersMode: "legacy", recursive: false },
      );
      signature = signed?.stored.reference;
    }
    return {
      reference: formatRef(ref),
      digest,
      layer,
      annotations,
      summary,
      ...(signature ? { signature } : {}),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function formatRef(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

// ---------------------------------------------------------------- fetching

export interface FetchResult {
  /** `updated`: a new database was installed; `current`: the local one is that digest already. */
  readonly outcome: "updated" | "current";
  readonly reference: string;
  readonly digest: string;
  readonly summary: DbSummary;
  readonly origin: DbOrigin;
}

interface ArtifactFacts {
  readonly layer: Descriptor;
  readonly created: string;
  readonly contentDigest: string;
  readonly contentSize: number;
  readonly records: Record<string, number>;
  readonly totalRecords: number;
}

/** Checks the manifest is a Berth database artifact this version can read. */
export function checkManifest(bytes: Buffer, what: string): ArtifactFacts {
  let doc: {
    artifactType?: unknown;
    layers?: unknown;
    annotations?: Record<string, unknown>;
  };
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new DbArtifactError(`${what} is not a JSON manifest`);
  }
  if (doc.artifactType !== DB_ARTIFACT_TYPE) {
    throw new DbArtifactError(
      `${what} is not a Berth vulnerability database (artifactType ${JSON.stringify(doc.artifactType ?? null)}, expected ${DB_ARTIFACT_TYPE})`,
    );
  }
  const layers = Array.isArray(doc.layers) ? (doc.layers as Descriptor[]) : [];
  const layer = layers.find((l) => l && l.mediaType === DB_LAYER_MEDIA_TYPE);
  if (layers.length !== 1 || !layer || typeof layer.digest !== "string") {
    throw new DbArtifactError(`${what} must have exactly one ${DB_LAYER_MEDIA_TYPE} layer`);
  }
  const a = doc.annotations ?? {};
  const text = (key: string): string => {
    const v = a[key];
    if (typeof v !== "string" || v === "") {
      throw new DbArtifactError(`${what} lacks the annotation ${key}`);
    }
    return v;
  };
  const schema = Number(text(DbAnnotation.schemaVersion));
  if (schema !== SCHEMA_VERSION) {
    throw new DbArtifactError(
      `${what} holds database schema ${text(DbAnnotation.schemaVersion)}; this Berth reads schema ${SCHEMA_VERSION}`,
    );
  }
  const contentDigest = text(DbAnnotation.contentDigest);
  if (!/^sha256:[0-9a-f]{64}$/.test(contentDigest)) {
    throw new DbArtifactError(`${what}: ${DbAnnotation.contentDigest} is not a sha256 digest`);
  }
  const contentSize = Number(text(DbAnnotation.contentSize));
  const totalRecords = Number(text(DbAnnotation.totalRecords));
  if (
    !Number.isSafeInteger(contentSize) ||
    contentSize <= 0 ||
    !Number.isSafeInteger(totalRecords)
  ) {
    throw new DbArtifactError(`${what}: the size or record count annotation is not a number`);
  }
  let records: Record<string, number>;
  try {
    records = JSON.parse(text(DbAnnotation.records)) as Record<string, number>;
  } catch {
    throw new DbArtifactError(`${what}: ${DbAnnotation.records} is not JSON`);
  }
  return {
    layer,
    created: text(DbAnnotation.created),
    contentDigest,
    contentSize,
    records,
    totalRecords,
  };
}

/** The digest the local database was fetched as, when it was fetched (not imported). */
function localDigest(dir: string): string | undefined {
  try {
    const d = describeDatabase(dir);
    return d?.origin.kind === "repository" ? d.origin.digest : undefined;
  } catch {
    return undefined;
  }
}

export interface FetchOptions {
  /** Download even when the local database is that digest already. */
  readonly force?: boolean;
  readonly now?: () => Date;
  /** Public keys one of which must have signed the artifact's manifest digest. */
  readonly trustedKeys?: readonly KeyObject[];
}

/** Refuses `digest` unless a signature on it verifies with one of `keys`. */
async function requireSignature(
  client: RegistryClient,
  ref: ImageReference,
  digest: string,
  keys: readonly KeyObject[],
  what: string,
): Promise<void> {
  const { verdicts } = await verifyImage(
    client,
    { registry: ref.registry, repository: ref.repository, digest },
    [...keys],
    {},
  );
  const signatures = verdicts.filter((v) => v.kind === "signature");
  if (signatures.some((v) => v.verified)) return;
  throw new DbArtifactError(
    signatures.length === 0
      ? `${what} is not signed, and a signature by the configured key is required`
      : `${what} has no signature by the configured key (${signatures.map((v) => v.reason).join("; ")})`,
  );
}

/** Fetches the database at `ref` into `dir` when it differs from the local one. */
export async function fetchDatabase(
  client: RegistryClient,
  ref: ImageReference,
  dir: string,
  options: FetchOptions = {},
): Promise<FetchResult> {
  const now = options.now ?? (() => new Date());
  const reference = formatRef(ref);
  const repo = ref.repository;
  let digest = ref.digest;
  if (!digest) {
    const head = await client.headManifest(repo, ref.tag ?? "latest");
    if (!head) throw new DbArtifactError(`${reference} does not exist`);
    digest = head.digest;
  }
  // Checked even when the local copy is that digest: the key may be new since it was fetched.
  if (options.trustedKeys && options.trustedKeys.length > 0) {
    await requireSignature(client, ref, digest, options.trustedKeys, `${reference}@${digest}`);
  }
  mkdirSync(dir, { recursive: true });
  if (!options.force && localDigest(dir) === digest) {
    const local = describeDatabase(dir)!;
    return { outcome: "current", reference, digest, summary: local.summary, origin: local.origin };
  }
  const manifest = await client.getManifest(repo, digest);
  const facts = checkManifest(manifest.bytes, `${reference}@${digest}`);
  const origin: DbOrigin = {
    kind: "repository",
    reference,
    digest,
    created: facts.created,
    fetchedAt: now().toISOString(),
  };
  const summary = await installLayer(client, repo, facts, dir, origin, `${reference}@${digest}`);
  return { outcome: "updated", reference, digest, summary, origin };
}

const FETCH_PREFIX = `.${basename(dbFilePath("."))}.fetch-`;

async function installLayer(
  client: RegistryClient,
  repo: string,
  facts: ArtifactFacts,
  dir: string,
  origin: DbOrigin,
  what: string,
): Promise<DbSummary> {
  removeStaleTemps(dir, FETCH_PREFIX);
  const temp = join(dir, `${FETCH_PREFIX}${process.pid}`);
  rmSync(temp, { force: true });
  try {
    const meter = new Meter(facts.contentSize);
    const blob = await client.getBlob(repo, facts.layer);
    try {
      await pipeline(blob, createGunzip(), meter, createWriteStream(temp, { mode: 0o644 }));
    } catch (err) {
      if (err instanceof DbArtifactError) throw err;
      throw new DbArtifactError(
        `${what}: the database layer is corrupt: ${(err as Error).message}`,
      );
    }
    const got = meter.digest();
    if (got !== facts.contentDigest || meter.bytes !== facts.contentSize) {
      throw new DbArtifactError(
        `${what}: the database content is ${got} (${meter.bytes} bytes), the artifact announces ${facts.contentDigest} (${facts.contentSize} bytes)`,
      );
    }
    const summary = verifyAndStamp(temp, facts, origin, what);
    const fd = openSync(temp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, dbFilePath(dir));
    syncDirectory(dir);
    return summary;
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** Integrity, schema and record counts of the downloaded file; then records its origin. */
function verifyAndStamp(
  path: string,
  facts: ArtifactFacts,
  origin: DbOrigin,
  what: string,
): DbSummary {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (err) {
    throw new DbArtifactError(`${what}: not an SQLite database: ${(err as Error).message}`);
  }
  try {
    let check: string;
    try {
      check = String(db.pragma("integrity_check", { simple: true }));
    } catch (err) {
      throw new DbArtifactError(`${what}: not an SQLite database: ${(err as Error).message}`);
    }
    if (check !== "ok") throw new DbArtifactError(`${what}: SQLite integrity check: ${check}`);
    checkSchema(db, what);
    let status: DbStatus;
    try {
      status = readStatus(db, path);
    } catch (err) {
      throw new DbArtifactError(`${what}: unreadable database: ${(err as Error).message}`);
    }
    const summary = summarize(status);
    const announced = JSON.stringify(sortedEntries(facts.records));
    const actual = JSON.stringify(sortedEntries(summary.records));
    if (announced !== actual || summary.totalRecords !== facts.totalRecords) {
      throw new DbArtifactError(
        `${what}: the database holds ${summary.totalRecords} records ${actual}, the artifact announces ${facts.totalRecords} ${announced}`,
      );
    }
    db.pragma("journal_mode = DELETE");
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('origin', ?)").run(
      JSON.stringify(origin),
    );
    return summary;
  } finally {
    db.close();
  }
}

function sortedEntries(records: Record<string, number>): [string, number][] {
  return Object.entries(records).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
