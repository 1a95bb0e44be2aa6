// The one interface every image location implements: a registry (`docker://`), an OCI
// image layout directory (`oci:DIR[:TAG]`), an OCI archive (`oci-archive:FILE`), a docker
// save archive (`docker-archive:FILE`). copy/save/load/analyze/scan/build read and write
// images only through these. Implementations stream blobs; they never hold a layer in memory.
import type { Readable } from "node:stream";
import type { Descriptor } from "../oci/index.js";

export interface ManifestBytes {
  /** The exact bytes, as stored; digests are computed over these. */
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly digest: string;
}

export interface ImageSource {
  /** Human description for messages, e.g. `docker://localhost:5000/app:1.0`. */
  readonly description: string;
  /**
   * The manifest the reference names (tag or digest given at open time) when `digest` is
   * omitted; otherwise the manifest with that digest (a child of an index).
   */
  getManifest(digest?: string): Promise<ManifestBytes>;
  /** A stream of the blob's bytes, verified against `descriptor.digest` by the caller. */
  getBlob(descriptor: Descriptor): Promise<Readable>;
  close(): Promise<void>;
}

/**
 * Where a manifest sits in what is being copied: `top` is the image the user named (an OCI
 * layout lists it in index.json even without a tag); `child` is an index's per-platform
 * manifest. When omitted: `top` if a tag is given, else `child`.
 */
export type ManifestPlacement = "top" | "child";

export interface ImageDestination {
  readonly description: string;
  hasBlob(descriptor: Descriptor): Promise<boolean>;
  /** Stores a blob; rejects if the bytes do not match `descriptor.digest`/`size`. */
  putBlob(descriptor: Descriptor, content: Readable): Promise<void>;
  /**
   * Stores a manifest. `tag` is set for the top-level manifest when the destination
   * reference has one; child manifests of an index are put by digest only.
   */
  putManifest(manifest: ManifestBytes, tag?: string, placement?: ManifestPlacement): Promise<void>;
  /**
   * False for destinations that cannot hold an index (a docker archive): copy then picks one
   * platform. Absent means true.
   */
  readonly acceptsIndex?: boolean;
  /** How many putBlob calls may run at once (archives write one entry at a time). */
  readonly maxParallelBlobs?: number;
  /** Finishes writing (archives are only complete after this). */
  close(): Promise<void>;
  /** Abandons a failed write (an archive then leaves no file behind). Optional. */
  abort?(): Promise<void>;
}
