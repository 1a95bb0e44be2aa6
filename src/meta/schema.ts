// Table types of the registry's metadata (Kysely's view of the schema created by
// migrations/0001-registry.ts). Times are milliseconds since the epoch in bigint columns;
// sizes are bytes. Pure types: no queries here.
//
// Composition: the full database type is `Database` in database.ts, an intersection of
// table groups (`RegistryTables & AuthTables & …`), so other modules add their tables in
// their own schema file and migration without touching these.
import type { Generated } from "kysely";

export interface RepositoriesTable {
  id: Generated<number>;
  /** Full repository name, e.g. `team/app`. Unique, never renamed. */
  name: string;
  created_at: number;
}

/** Every blob committed to storage, whichever repository uploaded it first. */
export interface BlobsTable {
  digest: string;
  size: number;
  created_at: number;
  /** An upload is committing these bytes until then (ms): GC keeps the row (0004). */
  pinned_until: number | null;
  /** GC claimed the row at this time: new links are refused until it is gone (0004). */
  deleting_at: number | null;
}

/** Which repositories may serve which blob: uploaded there, mounted, or pushed in a manifest. */
export interface RepositoryBlobsTable {
  repository_id: number;
  digest: string;
  created_at: number;
}

export interface ManifestsTable {
  id: Generated<number>;
  repository_id: number;
  digest: string;
  media_type: string;
  size: number;
  /** artifactType, or for image manifests without one the config media type. */
  artifact_type: string | null;
  /** Digest of the `subject` descriptor (referrers API), if any. */
  subject_digest: string | null;
  /** The manifest's `annotations` as JSON text, for the referrers index. */
  annotations: string | null;
  /** The exact bytes pushed; served byte-for-byte. */
  content: Buffer;
  created_at: number;
  pushed_at: number;
  pulled_at: number | null;
}

export type ManifestReferenceKind = "blob" | "manifest";

/** What a manifest points at: config/layer blobs, or child manifests of an index. */
export interface ManifestReferencesTable {
  manifest_id: number;
  kind: ManifestReferenceKind;
  digest: string;
}

export interface TagsTable {
  repository_id: number;
  name: string;
  manifest_id: number;
  created_at: number;
  updated_at: number;
}

export interface UploadSessionsTable {
  /** The id in the upload URL. */
  id: string;
  repository: string;
  /** Bytes acknowledged so far (the next chunk starts here). */
  received_bytes: number;
  created_at: number;
  updated_at: number;
}

export interface RegistryTables {
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  manifests: ManifestsTable;
  manifest_references: ManifestReferencesTable;
  tags: TagsTable;
  upload_sessions: UploadSessionsTable;
}
