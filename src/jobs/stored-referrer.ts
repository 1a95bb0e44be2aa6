// Writes an OCI 1.1 referrer (an artifact manifest with `subject`) into one of this registry's
// repositories from inside the server, without HTTP: how a registry scan attaches its SBOM so
// that the referrers API, `berth tree` and `berth download sbom` see it. The manifest is built
// by sign/attached.ts (the same builder the CLI's `--attach` uses); its blobs are written the
// way an upload commits (pin the row against GC, commit the bytes, record and link them), then
// the manifest is stored with its references and a `manifest.pushed` outbox event in one
// transaction (meta/manifests.ts putManifest). Idempotent: the same bytes give the same
// digests, and storing them again changes nothing.
// Never: write a blob visible before its bytes are durable, or bypass the reference checks.
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { Kysely } from "kysely";
import {
  type Database,
  pinBlob,
  putManifest,
  recordBlobInRepository,
  SYSTEM_ACTOR,
} from "../meta/index.js";
import { type Descriptor, digestOf, MediaType } from "../oci/index.js";
import { type AttachmentBlob, EMPTY_CONFIG, referrerManifest } from "../sign/attached.js";
import type { BlobStore } from "../storage/index.js";

/** How long the blob rows stay pinned while their bytes are committed (ms). */
const PIN_MS = 10 * 60_000;

async function writeBlob(
  db: Kysely<Database>,
  store: BlobStore,
  repository: string,
  blob: AttachmentBlob,
): Promise<void> {
  const { digest, size } = blob.descriptor;
  const until = Date.now() + PIN_MS;
  const pin = await pinBlob(db, digest, size, until);
  if (!pin.pinned) throw new Error(`blob ${digest} is being garbage-collected; retry`);
  if ((await store.stat(digest)) === undefined) {
    const id = randomUUID();
    await store.createUpload(id);
    try {
      await store.writeUpload(id, 0, Readable.from([blob.bytes]));
      await store.commitUpload(id, digest, size);
    } catch (err) {
      await store.deleteUpload(id).catch(() => {});
      throw err;
    }
  }
  await recordBlobInRepository(db, repository, digest, size, SYSTEM_ACTOR, until);
}

/** Stores `layers` as a referrer of `subject` in `repository`; returns the manifest's digest. */
export async function storeReferrer(
  db: Kysely<Database>,
  store: BlobStore,
  repository: string,
  subject: Descriptor,
  artifactType: string,
  layers: AttachmentBlob[],
  annotations?: Record<string, string>,
): Promise<string> {
  for (const blob of [EMPTY_CONFIG, ...layers]) await writeBlob(db, store, repository, blob);
  const manifest = referrerManifest(
    artifactType,
    layers.map((l) => l.descriptor),
    subject,
    annotations,
  );
  const content = Buffer.from(JSON.stringify(manifest));
  const digest = digestOf(content);
  await putManifest(db, {
    repository,
    digest,
    mediaType: MediaType.OciManifest,
    content,
    artifactType,
    subjectDigest: subject.digest,
    ...(annotations ? { annotations } : {}),
    references: [EMPTY_CONFIG, ...layers].map((b) => ({
      kind: "blob" as const,
      digest: b.descriptor.digest,
    })),
  });
  return digest;
}
