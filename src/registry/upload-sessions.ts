// Blob upload sessions: start, append chunks in order, report status, complete with a
// digest, cancel, and purge the abandoned. Session state (repository, bytes acknowledged)
// lives in the database so uploads survive a restart; the bytes live in the BlobStore.
//
// Hashing happens while the bytes are written. For a chunked upload the running sha256 Hash
// object is kept in memory between chunks; Node cannot serialise a Hash, so after a restart
// (or on another replica, or after a failed chunk) the held bytes are re-hashed once from
// storage before the next chunk. Requests on one session are serialised by a per-session
// lock, so two racing PATCHes cannot interleave their bytes.
//
// Decisions: a completing PUT whose digest does not match the bytes discards the session (as
// CNCF distribution does): the client must start again. A failed or aborted chunk leaves the
// session at its last acknowledged offset; the partial bytes are overwritten by the next one.
// Never: acknowledge bytes before they are in storage, or let a blob become visible before
// its digest was verified and its bytes were made durable.
import { createHash, type Hash, randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import {
  createUploadSession,
  type Database,
  deleteUploadSession,
  findUploadSession,
  finishBlobDeletion,
  type OutboxActor,
  pinBlob,
  recordBlobInRepository,
  setUploadReceived,
  staleUploadSessions,
  type UploadSessionRow,
} from "../meta/index.js";
import type { Digest, DigestAlgorithm } from "../oci/index.js";
import type { BlobStore } from "../storage/index.js";
import { ByteMeter } from "./byte-meter.js";
import { RegistryError } from "./errors.js";
import { uploadRange } from "./http.js";

/** An inclusive byte range from a `Content-Range` header. */
export interface ChunkRange {
  start: number;
  end: number;
}

export interface ChunkBody {
  source: Readable;
  /** From `Content-Range`, when the client sent one. */
  range?: ChunkRange;
  /** From `Content-Length`, when the client sent one. */
  declaredLength?: number;
}

/** Called with the blob's size after its digest is verified, before it is committed. */
export type BeforeCommit = (size: number) => Promise<void>;

/** How uploads cooperate with garbage collection (see pin()). */
export interface UploadGcSettings {
  /** How long a pin protects a blob row while its bytes are committed (ms). */
  pinMs: number;
  /** A GC claim older than this (ms) was left by a GC that died: the upload finishes it. */
  staleClaimMs: number;
}

export const DEFAULT_UPLOAD_GC: UploadGcSettings = { pinMs: 10 * 60_000, staleClaimMs: 30_000 };

interface HashState {
  hash: Hash;
  offset: number;
}

export function uploadLocation(repository: string, id: string): string {
  return `/v2/${repository}/blobs/uploads/${id}`;
}

export class UploadSessions {
  private readonly hashes = new Map<string, HashState>();
  private readonly locks = new Map<string, Promise<void>>();
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: BlobStore,
    private readonly logger: Logger,
    private readonly gc: UploadGcSettings = DEFAULT_UPLOAD_GC,
  ) {}

  /** Opens a new session and returns its id. */
  async start(repository: string): Promise<string> {
    const id = randomUUID();
    await this.store.createUpload(id);
    await createUploadSession(this.db, id, repository);
    this.hashes.set(id, { hash: createHash("sha256"), offset: 0 });
    return id;
  }

  /** Bytes held by the session. */
  async status(repository: string, id: string): Promise<number> {
    return this.withLock(id, async () => {
      const row = await this.find(repository, id);
      return this.checkedOffset(row);
    });
  }

  /** Appends one chunk; returns the new size. */
  async append(repository: string, id: string, body: ChunkBody): Promise<number> {
    return this.withLock(id, async () => {
      const row = await this.find(repository, id);
      return this.appendLocked(row, body);
    });
  }

  /**
   * Closes the session: appends the final chunk if any, verifies the digest, commits the
   * blob and links it to the repository. Returns the blob's size.
   */
  async complete(
    repository: string,
    id: string,
    digest: Digest,
    finalChunk: ChunkBody | undefined,
    beforeCommit: BeforeCommit,
    actor?: OutboxActor,
  ): Promise<number> {
    return this.withLock(id, async () => {
      const row = await this.find(repository, id);
      const size = finalChunk
        ? await this.appendLocked(row, finalChunk)
        : await this.checkedOffset(row);
      const computed = await this.finalDigest(id, size, digest.algorithm);
      if (computed !== digest.value) {
        await this.discard(id);
        throw new RegistryError("DIGEST_INVALID", "the uploaded bytes do not match the digest", {
          detail: { expected: digest.value, computed },
        });
      }
      try {
        await beforeCommit(size);
      } catch (err) {
        // A refused push (quota, policy) leaves nothing partial behind.
        await this.discard(id);
        throw err;
      }
      await this.commit(repository, id, digest.value, size, actor);
      await deleteUploadSession(this.db, id);
      return size;
    });
  }

  /** A whole blob in one request (`POST ?digest=`): no session row, same verification. */
  async uploadWhole(
    repository: string,
    digest: Digest,
    body: ChunkBody,
    beforeCommit: BeforeCommit,
    actor?: OutboxActor,
  ): Promise<number> {
    const id = randomUUID();
    await this.store.createUpload(id);
    try {
      const meter = ByteMeter.fresh(digest.algorithm, body.declaredLength);
      const size = await this.store.writeUpload(id, 0, body.source, meter);
      const computed = `${digest.algorithm}:${meter.hash.digest("hex")}`;
      if (computed !== digest.value) {
        throw new RegistryError("DIGEST_INVALID", "the uploaded bytes do not match the digest", {
          detail: { expected: digest.value, computed },
        });
      }
      await beforeCommit(size);
      await this.commit(repository, id, digest.value, size, actor);
      return size;
    } catch (err) {
      await this.store.deleteUpload(id).catch(() => {});
      throw err;
    }
  }

  async cancel(repository: string, id: string): Promise<void> {
    await this.withLock(id, async () => {
      await this.find(repository, id);
      await this.discard(id);
    });
  }

  /** Removes sessions idle for longer than `maxAgeMs`, and upload data no session owns. */
  async purge(maxAgeMs: number): Promise<number> {
    const cutoff = Date.now() - maxAgeMs;
    let purged = 0;
    for (const id of await staleUploadSessions(this.db, cutoff)) {
      await this.withLock(id, () => this.discard(id));
      purged++;
    }
    for (const upload of await this.store.listUploads()) {
      if (upload.modifiedAt >= cutoff || this.locks.has(upload.id)) continue;
      if (await findUploadSession(this.db, upload.id)) continue;
      await this.store.deleteUpload(upload.id);
      purged++;
    }
    if (this.store.abortIncompleteWrites) purged += await this.store.abortIncompleteWrites(cutoff);
    return purged;
  }

  startPurging(maxAgeMs: number, intervalMs: number): void {
    this.purgeTimer = setInterval(() => {
      this.purge(maxAgeMs)
        .then((n) => {
          if (n > 0) this.logger.info({ purged: n }, "purged abandoned uploads");
        })
        .catch((err) => this.logger.error({ err }, "upload purge failed"));
    }, intervalMs);
    this.purgeTimer.unref();
  }

  stopPurging(): void {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    this.purgeTimer = undefined;
  }

  private async find(repository: string, id: string): Promise<UploadSessionRow> {
    const row = await findUploadSession(this.db, id);
    if (!row || row.repository !== repository) {
      throw new RegistryError("BLOB_UPLOAD_UNKNOWN", "upload session unknown", {
        detail: { id },
      });
    }
    return row;
  }

  /**
   * The acknowledged offset, reconciled with what storage holds when this process has no
   * hash state for the session (a restart): storage may hold less after a power loss.
   */
  private async checkedOffset(row: UploadSessionRow): Promise<number> {
    const state = this.hashes.get(row.id);
    if (state && state.offset === row.receivedBytes) return row.receivedBytes;
    const held = await this.store.uploadSize(row.id);
    if (held === undefined) {
      await deleteUploadSession(this.db, row.id);
      throw new RegistryError("BLOB_UPLOAD_UNKNOWN", "upload session data is gone", {
        detail: { id: row.id },
      });
    }
    if (held < row.receivedBytes) {
      await setUploadReceived(this.db, row.id, held);
      return held;
    }
    return row.receivedBytes;
  }

  private async appendLocked(row: UploadSessionRow, body: ChunkBody): Promise<number> {
    const offset = await this.checkedOffset(row);
    let expected = body.declaredLength;
    if (body.range) {
      if (body.range.start !== offset) {
        throw new RegistryError(
          "BLOB_UPLOAD_INVALID",
          `chunk starts at ${body.range.start} but the upload holds ${offset} bytes`,
          {
            status: 416,
            headers: {
              Location: uploadLocation(row.repository, row.id),
              Range: uploadRange(offset),
              "Docker-Upload-UUID": row.id,
            },
          },
        );
      }
      const length = body.range.end - body.range.start + 1;
      if (expected !== undefined && expected !== length) {
        throw new RegistryError(
          "BLOB_UPLOAD_INVALID",
          `Content-Range covers ${length} bytes but Content-Length is ${expected}`,
        );
      }
      expected = length;
    }
    const state = await this.hashState(row.id, offset);
    // The hash is mutated while bytes flow; it is trusted again only if the chunk succeeds.
    this.hashes.delete(row.id);
    const meter = new ByteMeter(state.hash, expected);
    await this.store.writeUpload(row.id, offset, body.source, meter);
    if (expected !== undefined && meter.bytes !== expected) {
      throw new RegistryError(
        "BLOB_UPLOAD_INVALID",
        `chunk has ${meter.bytes} bytes, ${expected} were declared`,
      );
    }
    const size = offset + meter.bytes;
    await setUploadReceived(this.db, row.id, size);
    this.hashes.set(row.id, { hash: state.hash, offset: size });
    return size;
  }

  /** The running sha256 of the first `offset` bytes, re-hashing from storage if needed. */
  private async hashState(id: string, offset: number): Promise<HashState> {
    const state = this.hashes.get(id);
    if (state && state.offset === offset) return state;
    const hash = await this.hashStored(id, offset, "sha256");
    return { hash, offset };
  }

  private async hashStored(id: string, length: number, algorithm: DigestAlgorithm): Promise<Hash> {
    const hash = createHash(algorithm);
    for await (const chunk of this.store.readUpload(id, length)) hash.update(chunk as Buffer);
    return hash;
  }

  private async finalDigest(id: string, size: number, algorithm: DigestAlgorithm): Promise<string> {
    const hash =
      algorithm === "sha256"
        ? (await this.hashState(id, size)).hash
        : await this.hashStored(id, size, algorithm);
    this.hashes.delete(id);
    return `${algorithm}:${hash.digest("hex")}`;
  }

  /**
   * Pins the blob row (so garbage collection cannot claim it), then commits the bytes, then
   * records and links the blob. See src/jobs/gc.ts for why this order loses nothing.
   */
  private async commit(
    repository: string,
    id: string,
    digest: string,
    size: number,
    actor: OutboxActor | undefined,
  ) {
    const pinnedUntil = await this.pin(digest, size);
    await this.store.commitUpload(id, digest, size);
    await recordBlobInRepository(this.db, repository, digest, size, actor, pinnedUntil);
  }

  /**
   * Pins `digest`; while GC is deleting that blob, waits for it to finish (the row goes),
   * and finishes a claim left by a GC that died (older than the stale limit) itself.
   */
  private async pin(digest: string, size: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      const now = Date.now();
      const until = now + this.gc.pinMs;
      const result = await pinBlob(this.db, digest, size, until);
      if (result.pinned) return until;
      if (result.deletingSince > 0 && now - result.deletingSince > this.gc.staleClaimMs) {
        this.logger.warn({ digest }, "finishing a blob deletion a garbage collection left");
        await finishBlobDeletion(this.db, digest, async () => {
          await this.store.delete(digest);
        });
        continue;
      }
      if (now - started > this.gc.staleClaimMs + this.gc.pinMs) {
        throw new RegistryError(
          "BLOB_UPLOAD_INVALID",
          "the blob is being garbage-collected; retry",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private async discard(id: string): Promise<void> {
    this.hashes.delete(id);
    await deleteUploadSession(this.db, id);
    await this.store.deleteUpload(id);
  }

  private async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    let release: () => void = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.locks.set(id, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }
}
