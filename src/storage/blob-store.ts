// The BlobStore contract: where blob bytes and in-progress upload bytes live. Drivers
// (filesystem now, S3-compatible later) implement it; the registry never touches files or
// buckets directly. The contract is shaped for both: uploads are appended at an offset
// (an S3 driver maps each append to a multipart part), committing an upload turns it into
// a content-addressed blob in one atomic step (rename / CompleteMultipartUpload + copy),
// reads may be ranged, and a driver may hand out a redirect URL instead of bytes.
//
// What a driver must never do: make a blob visible under a digest before its bytes are
// durable, buffer a whole blob in memory, or decide anything about repositories (the
// metadata layer does that). Verifying that bytes match a digest is the caller's job: the
// caller hashes the stream while the driver writes it, in the same pass.
import type { Readable, Transform, Writable } from "node:stream";

/** What read() returns: a Readable, optionally with a direct copy to a writable. */
export type BlobReadable = Readable & { sendTo?(sink: Writable): Promise<void> };

export interface BlobInfo {
  size: number;
}

/** An inclusive byte range, as HTTP `Range: bytes=start-end` has it. */
export interface ByteRange {
  start: number;
  end: number;
}

/** A blob as a listing of the store sees it (fsck compares this with the metadata). */
export interface StoredBlob {
  digest: string;
  size: number;
}

export interface UploadInfo {
  id: string;
  /** Last modification of the upload's data (ms since epoch). */
  modifiedAt: number;
}

export class BlobNotFoundError extends Error {
  constructor(readonly digest: string) {
    super(`blob ${digest} not found in storage`);
    this.name = "BlobNotFoundError";
  }
}

export class UploadNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`upload ${id} not found in storage`);
    this.name = "UploadNotFoundError";
  }
}

export interface BlobStore {
  /** Driver name for logs and /readyz. */
  readonly driver: string;
  /**
   * Smallest chunk (bytes) a chunked upload may send, except for the last one; sent to
   * clients as `OCI-Chunk-Min-Length`. Undefined when any size is fine (filesystem).
   */
  readonly minChunkLength?: number;

  /** Prepares the store (directories, bucket checks). Idempotent. */
  init(): Promise<void>;
  /** Throws when the store cannot currently read and write (used by /readyz). */
  check(): Promise<void>;

  stat(digest: string): Promise<BlobInfo | undefined>;
  /**
   * A stream of the blob's bytes (or the inclusive range). Throws BlobNotFoundError. The
   * stream may offer `sendTo(sink)`: the driver's fastest way to copy the bytes into a
   * writable with its backpressure (the filesystem driver: reused buffers); then use it
   * instead of piping, and end the sink afterwards.
   */
  read(digest: string, range?: ByteRange): Promise<BlobReadable>;
  /** Optional: a URL the client can fetch the blob from directly (presigned S3 URL). */
  redirectUrl?(digest: string): Promise<string | undefined>;
  /** Removes the blob's bytes; false when it was not there. Callers ensure nothing refers to it. */
  delete(digest: string): Promise<boolean>;

  /**
   * Every committed blob, in no particular order, streamed (an S3 driver pages through
   * ListObjectsV2). Entries that are not a valid digest path are skipped. Used by fsck.
   */
  listBlobs(): AsyncIterable<StoredBlob>;
  /**
   * Moves a blob's bytes out of the content-addressed namespace into quarantine (kept for
   * an operator to inspect, never served); false when it was not there. Used by fsck
   * --repair for bytes that do not hash to their name.
   */
  quarantine(digest: string): Promise<boolean>;

  /** Starts an empty upload. */
  createUpload(id: string): Promise<void>;
  /**
   * Writes `source` into the upload starting at `offset`, discarding anything previously
   * stored at or beyond `offset` (the remains of a failed chunk). `through`, if given, is
   * placed between source and storage in the same stream pipeline (the caller hashes and
   * counts there). Resolves with the number of bytes written once they are in the store;
   * rejects when the source or `through` fails.
   */
  writeUpload(id: string, offset: number, source: Readable, through?: Transform): Promise<number>;
  /** Bytes currently held for the upload, or undefined when it does not exist. */
  uploadSize(id: string): Promise<number | undefined>;
  /** Streams the first `length` bytes of an upload (to re-hash it after a restart). */
  readUpload(id: string, length: number): Readable;
  /**
   * Makes the upload's first `size` bytes durable and visible as blob `digest`, atomically,
   * then removes the upload. If the blob already exists the upload is just removed (dedupe).
   */
  commitUpload(id: string, digest: string, size: number): Promise<void>;
  deleteUpload(id: string): Promise<void>;
  listUploads(): Promise<UploadInfo[]>;
  /**
   * Optional: removes partial writes a killed process left outside any upload (S3: multipart
   * uploads of a commit that never completed) started before `cutoff` (ms since epoch).
   * Returns how many. Called by the upload purge job.
   */
  abortIncompleteWrites?(cutoff: number): Promise<number>;
}
