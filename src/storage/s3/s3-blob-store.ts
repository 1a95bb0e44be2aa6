// The S3-compatible BlobStore driver (AWS S3, Ceph RGW, MinIO, …). Layout under the bucket's
// prefix:
//   blobs/<algorithm>/<first two hex chars>/<hex>   committed, content-addressed blobs
//   uploads/<id>/created                            marker of an upload (0 bytes)
//   uploads/<id>/seg/<start offset, 15 digits>      the upload's bytes, in segments
//   quarantine/<algorithm>-<hex>-<ms>               bytes fsck --repair moved aside
//
// Uploads. Each PATCH of a chunked push is stored as one segment object (streamed through
// lib-storage, which holds at most PART_SIZE × QUEUE_SIZE bytes per request, never the blob),
// and the commit turns the segments into the parts of one multipart upload of the blob's key
// by server-side UploadPartCopy, then CompleteMultipartUpload makes the blob visible in one
// atomic step (a single-segment upload is one CopyObject). Why segments plus a server-side
// copy instead of the parts of a multipart upload on the final key: (1) the final key is the
// digest, known only at the end; (2) the bytes already received must stay readable, because a
// session continued on another replica (or after a restart) re-hashes them (Node cannot
// serialise a running sha256), and the parts of an unfinished multipart upload cannot be read
// back. On RGW the copy shares the tail RADOS objects (reference counts), on AWS it runs inside
// S3; neither sends the bytes through Berth again.
//
// S3 wants every part but the last to be at least 5 MiB (MIN_PART), announced to clients as
// OCI-Chunk-Min-Length. Invariant: every segment but the last is at least MIN_PART. A chunk
// that arrives while the last segment is smaller is written as a new object holding that
// segment's bytes (streamed back from the bucket, at most MIN_PART) followed by the chunk,
// under the same key: smaller client chunks cost a bounded re-copy, never memory.
//
// Everything about an upload lives in the bucket (and its session row in the database), so a
// session started on one replica continues on any other. Abandoned uploads (segments, and the
// multipart uploads a killed process left) are removed by the upload purge job.
//
// Never: make a blob visible before CompleteMultipartUpload/CopyObject acknowledged its bytes,
// buffer a whole blob, build a key from unvalidated input (digests and upload ids are checked
// against strict grammars), or log credentials.
import { readFileSync } from "node:fs";
import { Agent as HttpsAgent } from "node:https";
import { PassThrough, Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  type CopyObjectCommandInput,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  type ServerSideEncryption,
  type StorageClass,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import {
  type BlobInfo,
  BlobNotFoundError,
  type BlobReadable,
  type BlobStore,
  type ByteRange,
  type StoredBlob,
  type UploadInfo,
  UploadNotFoundError,
} from "../blob-store.js";

/** S3's smallest part (all parts of a multipart upload but the last). */
export const MIN_PART = 5 * 1024 * 1024;
/** S3's largest part, and the largest object CopyObject copies. */
const MAX_COPY = 5 * 1024 * 1024 * 1024;
/** lib-storage's part size when streaming a segment in, and parts in flight per request. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
/** Parallel UploadPartCopy requests of one commit. */
const COPY_CONCURRENCY = 4;

const DIGEST_KEY_GRAMMAR = /^(sha256|sha512):([a-f0-9]{64}|[a-f0-9]{128})$/;
const UPLOAD_ID_GRAMMAR = /^[A-Za-z0-9_-]{1,128}$/;
const SEGMENT_DIGITS = 15;

export interface S3Settings {
  /** `https://host:port`; "" means AWS's endpoint for the region. */
  endpoint: string;
  region: string;
  bucket: string;
  /** Key prefix inside the bucket ("" = the bucket's root). */
  prefix: string;
  forcePathStyle: boolean;
  /** Static credentials; both "" means the SDK's default chain (AWS_* env, profile, role). */
  accessKeyId: string;
  secretAccessKey: string;
  /** Answer blob GETs with a 307 to a presigned URL instead of the bytes. */
  redirect: boolean;
  /** Lifetime of a presigned URL (ms). */
  redirectExpiryMs: number;
  /** `STANDARD`, `STANDARD_IA`, …; "" = the bucket's default. */
  storageClass: string;
  /** `AES256` or `aws:kms`; "" = none requested. */
  serverSideEncryption: string;
  /** KMS key for `aws:kms`; "" = the account's default key. */
  sseKmsKeyId: string;
  /** PEM file of an extra CA to trust for the endpoint; "" = the system's. */
  caFile: string;
}

interface Segment {
  start: number;
  size: number;
  key: string;
}

export class S3BlobStore implements BlobStore {
  readonly driver = "s3";
  readonly minChunkLength = MIN_PART;
  readonly client: S3Client;
  private readonly root: string;

  constructor(readonly settings: S3Settings) {
    // The SDK warns on Node 20 that releases after January 2027 will need Node 22; the
    // version Berth pins supports Node 20, and the warning would land in every server log.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    this.client = new S3Client(clientConfig(settings));
    const prefix = settings.prefix.replace(/^\/+|\/+$/g, "");
    this.root = prefix === "" ? "" : `${prefix}/`;
  }

  get redirectUrl(): ((digest: string) => Promise<string | undefined>) | undefined {
    if (!this.settings.redirect) return undefined;
    return async (digest) =>
      getSignedUrl(
        this.client,
        new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.blobKey(digest) }),
        { expiresIn: Math.max(1, Math.floor(this.settings.redirectExpiryMs / 1000)) },
      );
  }

  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket }));
    } catch (err) {
      throw new Error(
        `S3 bucket ${this.settings.bucket} is not usable at ${this.settings.endpoint || "AWS"}: ${describeError(err)}`,
      );
    }
  }

  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket }));
  }

  blobKey(digest: string): string {
    const m = DIGEST_KEY_GRAMMAR.exec(digest);
    if (!m) throw new Error(`not a storable digest: ${digest.slice(0, 80)}`);
    return `${this.root}blobs/${m[1]}/${m[2]!.slice(0, 2)}/${m[2]}`;
  }

  private uploadPrefix(id: string): string {
    if (!UPLOAD_ID_GRAMMAR.test(id)) throw new UploadNotFoundError(id);
    return `${this.root}uploads/${id}/`;
  }

  private segmentKey(id: string, start: number): string {
    return `${this.uploadPrefix(id)}seg/${String(start).padStart(SEGMENT_DIGITS, "0")}`;
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.blobKey(digest) }),
      );
      return { size: head.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async read(digest: string, range?: ByteRange): Promise<BlobReadable> {
    return this.getObject(this.blobKey(digest), range, () => new BlobNotFoundError(digest));
  }

  async delete(digest: string): Promise<boolean> {
    const key = this.blobKey(digest);
    if (!(await this.exists(key))) return false;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key }));
    return true;
  }

  async *listBlobs(): AsyncIterable<StoredBlob> {
    const base = `${this.root}blobs/`;
    for await (const object of this.listObjects(base)) {
      const [algorithm, dir, hex, ...rest] = object.key.slice(base.length).split("/");
      if (rest.length > 0 || !algorithm || !dir || !hex || !hex.startsWith(dir)) continue;
      const digest = `${algorithm}:${hex}`;
      if (DIGEST_KEY_GRAMMAR.test(digest)) yield { digest, size: object.size };
    }
  }

  async quarantine(digest: string): Promise<boolean> {
    const key = this.blobKey(digest);
    const size = await this.objectSize(key);
    if (size === undefined) return false;
    const target = `${this.root}quarantine/${digest.replace(":", "-")}-${Date.now()}`;
    await this.copyObject({ key, size }, target);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key }));
    return true;
  }

  async createUpload(id: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.settings.bucket,
        Key: `${this.uploadPrefix(id)}created`,
        Body: "",
      }),
    );
  }

  async writeUpload(
    id: string,
    offset: number,
    source: Readable,
    through?: Transform,
  ): Promise<number> {
    const segments = await this.segmentsOrThrow(id);
    const held = heldBytes(segments);
    if (held < offset) {
      throw new Error(`upload ${id} holds ${held} bytes, cannot write at offset ${offset}`);
    }
    const plan = planWrite(segments, offset);
    for (const dropped of plan.drop) await this.deleteKey(dropped.key);
    const key = this.segmentKey(id, plan.start);
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.settings.bucket, Key: key, Body: body, ...this.writeParams() },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    const stored = upload.done();
    // A failed PUT stops reading the body: fail the pipeline instead of waiting for it.
    stored.catch((err: Error) => body.destroy(err));
    const counter = new ByteCounter();
    try {
      if (plan.keep) {
        const kept = await this.getObject(
          plan.keep.key,
          { start: 0, end: plan.keepBytes - 1 },
          () => new Error(`segment ${plan.keep?.key} of upload ${id} vanished`),
        );
        await pipeline(kept, body, { end: false });
      }
      await pipeline([source, ...(through ? [through] : []), counter, body]);
      await stored;
    } catch (err) {
      await upload.abort().catch(() => {});
      body.destroy();
      throw err;
    }
    if (plan.keepBytes + counter.bytes === 0) await this.deleteKey(key);
    return counter.bytes;
  }

  async uploadSize(id: string): Promise<number | undefined> {
    const objects = await this.uploadObjects(id).catch((err) => {
      if (err instanceof UploadNotFoundError) return undefined;
      throw err;
    });
    if (!objects || objects.length === 0) return undefined;
    return heldBytes(segmentsOf(objects, this.uploadPrefix(id)));
  }

  readUpload(id: string, length: number): Readable {
    const store = this;
    return Readable.from(
      (async function* () {
        let remaining = length;
        for (const segment of await store.segmentsOrThrow(id)) {
          if (remaining <= 0) break;
          const take = Math.min(remaining, segment.size);
          const part = await store.getObject(
            segment.key,
            { start: 0, end: take - 1 },
            () => new UploadNotFoundError(id),
          );
          for await (const chunk of part) yield chunk as Buffer;
          remaining -= take;
        }
        if (remaining > 0) throw new Error(`upload ${id} holds fewer than ${length} bytes`);
      })(),
      { objectMode: false },
    );
  }

  async commitUpload(id: string, digest: string, size: number): Promise<void> {
    const target = this.blobKey(digest);
    if (!(await this.exists(target))) {
      const segments = await this.segmentsOrThrow(id);
      const held = heldBytes(segments);
      if (held < size) throw new Error(`upload ${id} holds ${held} of ${size} bytes`);
      const pieces = copyPieces(segments, size);
      if (pieces.length === 0) {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.settings.bucket,
            Key: target,
            Body: "",
            ...this.writeParams(),
          }),
        );
      } else if (pieces.length === 1 && segments[0]!.size === size) {
        await this.copyObject({ key: pieces[0]!.key, size }, target);
      } else {
        await this.multipartCopy(pieces, target);
      }
    }
    await this.deleteUpload(id);
  }

  async deleteUpload(id: string): Promise<void> {
    const prefix = this.uploadPrefix(id);
    for (const object of await this.uploadObjects(id)) await this.deleteKey(object.key);
    await this.abortMultipartUploads(prefix, Number.POSITIVE_INFINITY);
  }

  async listUploads(): Promise<UploadInfo[]> {
    const base = `${this.root}uploads/`;
    const uploads = new Map<string, number>();
    const note = (key: string, at: number) => {
      const id = key.slice(base.length).split("/")[0]!;
      if (!UPLOAD_ID_GRAMMAR.test(id)) return;
      uploads.set(id, Math.max(uploads.get(id) ?? 0, at));
    };
    for await (const object of this.listObjects(base)) note(object.key, object.modifiedAt);
    for await (const pending of this.listMultipartUploads(base)) note(pending.key, pending.at);
    return [...uploads].map(([id, modifiedAt]) => ({ id, modifiedAt }));
  }

  /**
   * Aborts multipart uploads on blob keys started before `cutoff` (ms since epoch): commits a
   * killed process never completed. Upload segments' own ones go with deleteUpload.
   */
  async abortIncompleteWrites(cutoff: number): Promise<number> {
    return this.abortMultipartUploads(`${this.root}blobs/`, cutoff);
  }

  // --- helpers --------------------------------------------------------------------------

  private writeParams() {
    const { storageClass, serverSideEncryption, sseKmsKeyId } = this.settings;
    return {
      ...(storageClass ? { StorageClass: storageClass as StorageClass } : {}),
      ...(serverSideEncryption
        ? { ServerSideEncryption: serverSideEncryption as ServerSideEncryption }
        : {}),
      ...(sseKmsKeyId ? { SSEKMSKeyId: sseKmsKeyId } : {}),
    };
  }

  private async getObject(
    key: string,
    range: ByteRange | undefined,
    notFound: () => Error,
  ): Promise<Readable> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({
          Bucket: this.settings.bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      return object.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw notFound();
      throw err;
    }
  }

  private async objectSize(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }),
      );
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async exists(key: string): Promise<boolean> {
    return (await this.objectSize(key)) !== undefined;
  }

  private async deleteKey(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key }));
  }

  private copySource(key: string): string {
    return `${this.settings.bucket}/${encodeURIComponent(key).replace(/%2F/g, "/")}`;
  }

  /** A server-side copy of a whole object (multipart when larger than CopyObject allows). */
  private async copyObject(source: { key: string; size: number }, target: string) {
    if (source.size > MAX_COPY) {
      await this.multipartCopy([{ key: source.key, start: 0, end: source.size - 1 }], target);
      return;
    }
    const input: CopyObjectCommandInput = {
      Bucket: this.settings.bucket,
      Key: target,
      CopySource: this.copySource(source.key),
      ...this.writeParams(),
    };
    await this.client.send(new CopyObjectCommand(input));
  }

  /** Builds `target` from byte ranges of other objects, entirely inside the store. */
  private async multipartCopy(pieces: CopyPiece[], target: string): Promise<void> {
    const bucket = this.settings.bucket;
    const created = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: target, ...this.writeParams() }),
    );
    const uploadId = created.UploadId!;
    try {
      const ranges = pieces.flatMap(splitForCopy);
      const etags: string[] = new Array(ranges.length);
      let next = 0;
      const worker = async () => {
        while (next < ranges.length) {
          const index = next++;
          const piece = ranges[index]!;
          const part = await this.client.send(
            new UploadPartCopyCommand({
              Bucket: bucket,
              Key: target,
              UploadId: uploadId,
              PartNumber: index + 1,
              CopySource: this.copySource(piece.key),
              CopySourceRange: `bytes=${piece.start}-${piece.end}`,
            }),
          );
          etags[index] = part.CopyPartResult!.ETag!;
        }
      };
      await Promise.all(Array.from({ length: COPY_CONCURRENCY }, worker));
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: target,
          UploadId: uploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
    } catch (err) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: target, UploadId: uploadId }))
        .catch(() => {});
      throw err;
    }
  }

  private async segmentsOrThrow(id: string): Promise<Segment[]> {
    const objects = await this.uploadObjects(id);
    if (objects.length === 0) throw new UploadNotFoundError(id);
    return segmentsOf(objects, this.uploadPrefix(id));
  }

  private async uploadObjects(id: string): Promise<ListedObject[]> {
    const objects: ListedObject[] = [];
    for await (const object of this.listObjects(this.uploadPrefix(id))) objects.push(object);
    return objects;
  }

  private async *listObjects(prefix: string): AsyncIterable<ListedObject> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.settings.bucket,
          Prefix: prefix,
          ContinuationToken: token,
        }),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined) continue;
        yield {
          key: item.Key,
          size: item.Size ?? 0,
          modifiedAt: item.LastModified?.getTime() ?? 0,
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async *listMultipartUploads(
    prefix: string,
  ): AsyncIterable<{ key: string; uploadId: string; at: number }> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.settings.bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const u of page.Uploads ?? []) {
        if (u.Key && u.UploadId)
          yield { key: u.Key, uploadId: u.UploadId, at: u.Initiated?.getTime() ?? 0 };
      }
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  private async abortMultipartUploads(prefix: string, cutoff: number): Promise<number> {
    const stale: { key: string; uploadId: string }[] = [];
    for await (const u of this.listMultipartUploads(prefix)) if (u.at < cutoff) stale.push(u);
    for (const u of stale) {
      await this.client
        .send(
          new AbortMultipartUploadCommand({
            Bucket: this.settings.bucket,
            Key: u.key,
            UploadId: u.uploadId,
          }),
        )
        .catch((err) => {
          if (!isNotFound(err)) throw err;
        });
    }
    return stale.length;
  }
}

interface ListedObject {
  key: string;
  size: number;
  modifiedAt: number;
}

interface CopyPiece {
  key: string;
  /** Inclusive byte range of the source object. */
  start: number;
  end: number;
}

// --- pure planning ------------------------------------------------------------------------

/** The upload's segments, in offset order, ignoring the marker and empty objects. */
export function segmentsOf(objects: ListedObject[], uploadPrefix: string): Segment[] {
  const segments: Segment[] = [];
  for (const object of objects) {
    const m = /^seg\/(\d{15})$/.exec(object.key.slice(uploadPrefix.length));
    if (m && object.size > 0)
      segments.push({ start: Number(m[1]), size: object.size, key: object.key });
  }
  segments.sort((a, b) => a.start - b.start);
  // Contiguous from 0: anything after a gap is the remains of a failed write and not held.
  const contiguous: Segment[] = [];
  let end = 0;
  for (const s of segments) {
    if (s.start !== end) break;
    contiguous.push(s);
    end += s.size;
  }
  return contiguous;
}

export function heldBytes(segments: Segment[]): number {
  const last = segments.at(-1);
  return last ? last.start + last.size : 0;
}

export interface WritePlan {
  /** Segments to delete first (they hold only bytes at or beyond the offset). */
  drop: Segment[];
  /** The segment whose first `keepBytes` bytes open the new object, if any. */
  keep?: Segment;
  keepBytes: number;
  /** Start offset (and key) of the object written. */
  start: number;
}

/**
 * Where a write at `offset` goes, keeping the invariant that every segment but the last is at
 * least MIN_PART: a segment the offset cuts, or a last segment smaller than MIN_PART, is
 * rewritten with the new bytes appended.
 */
export function planWrite(segments: Segment[], offset: number): WritePlan {
  const drop = segments.filter((s) => s.start >= offset);
  const before = segments.filter((s) => s.start < offset);
  const last = before.at(-1);
  if (last && (last.start + last.size > offset || last.size < MIN_PART)) {
    const keepBytes = Math.min(last.size, offset - last.start);
    return { drop, keep: last, keepBytes, start: last.start };
  }
  return { drop, keepBytes: 0, start: offset };
}

/** The byte ranges of the segments that make up the first `size` bytes. */
export function copyPieces(segments: Segment[], size: number): CopyPiece[] {
  const pieces: CopyPiece[] = [];
  for (const s of segments) {
    if (s.start >= size) break;
    const end = Math.min(s.size, size - s.start) - 1;
    pieces.push({ key: s.key, start: 0, end });
  }
  return pieces;
}

/** Splits a piece into equal ranges of at most MAX_COPY (each well above MIN_PART). */
export function splitForCopy(piece: CopyPiece): CopyPiece[] {
  const length = piece.end - piece.start + 1;
  const count = Math.ceil(length / MAX_COPY);
  const step = Math.ceil(length / count);
  const out: CopyPiece[] = [];
  for (let start = piece.start; start <= piece.end; start += step) {
    out.push({ key: piece.key, start, end: Math.min(piece.end, start + step - 1) });
  }
  return out;
}

// --- SDK plumbing -------------------------------------------------------------------------

function clientConfig(settings: S3Settings): S3ClientConfig {
  return {
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    ...(settings.accessKeyId
      ? {
          credentials: {
            accessKeyId: settings.accessKeyId,
            secretAccessKey: settings.secretAccessKey,
          },
        }
      : {}),
    // S3-compatible engines (Ceph RGW among them) reject the SDK's default CRC checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(settings.caFile
      ? {
          requestHandler: {
            httpsAgent: new HttpsAgent({ keepAlive: true, ca: readFileSync(settings.caFile) }),
          },
        }
      : {}),
  };
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return (
    e?.$metadata?.httpStatusCode === 404 ||
    e?.name === "NotFound" ||
    e?.name === "NoSuchKey" ||
    e?.name === "NoSuchUpload"
  );
}

function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return [e?.name, status ? `HTTP ${status}` : undefined, e?.message]
    .filter((x) => x && x !== "UnknownError")
    .join(": ");
}

/** Counts the bytes passing through. */
class ByteCounter extends Transform {
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}
