// Admission hooks: the points where policy (quotas, immutable tags, pull gates on
// vulnerabilities or signatures) may refuse an operation before it takes effect. The
// registry calls them; implementations live in policy/ or auth/ and throw a RegistryError
// (usually DENIED, or TOOMANYREQUESTS / SIZE_INVALID) to refuse. Every hook is optional;
// the default admits everything. Hooks must not modify the request's data.
import type { Principal } from "../auth/access.js";
import type { ParsedManifest } from "../oci/index.js";

export interface BlobCommitRequest {
  repository: string;
  digest: string;
  size: number;
  principal: Principal;
}

export interface ManifestPutRequest {
  repository: string;
  /** The tag or digest in the URL. */
  reference: string;
  tag?: string;
  digest: string;
  manifest: ParsedManifest;
  bytes: Buffer;
  principal: Principal;
}

export interface ManifestPullRequest {
  /** GET serves the manifest; HEAD only its digest, media type and size. */
  method: "GET" | "HEAD";
  repository: string;
  digest: string;
  tag?: string;
  mediaType: string;
  principal: Principal;
  /** The manifest's bytes when it is not stored (yet): a proxy-cache miss served from upstream. */
  content?: Buffer;
}

/** A deletion about to happen: the tags and manifests it removes (a tag delete lists no manifest). */
export interface DeleteRequest {
  repository: string;
  tags: string[];
  manifests: string[];
}

/** Pointing an existing manifest at a tag outside a manifest PUT (the management API's retag). */
export interface TagMoveRequest {
  repository: string;
  tag: string;
  digest: string;
}

export interface Admission {
  /** Before a finished upload (or a mount) becomes a blob of the repository. */
  beforeBlobCommit?(request: BlobCommitRequest): Promise<void>;
  /** Before a validated manifest is stored and tagged. */
  beforeManifestPut?(request: ManifestPutRequest): Promise<void>;
  /** Before a manifest is served (GET and HEAD). */
  beforeManifestPull?(request: ManifestPullRequest): Promise<void>;
  /** Before tags or manifests are deleted (/v2/ DELETE, management API, retention). */
  beforeDelete?(request: DeleteRequest): Promise<void>;
  /** Before a tag is pointed at an existing manifest by the management API. */
  beforeTagMove?(request: TagMoveRequest): Promise<void>;
}

/** Admits everything. */
export const ADMIT_ALL: Admission = {};

/** Several admissions as one: each hook runs in order; the first refusal wins. Hooks no part
 * has stay undefined, so the registry skips them (no work on the pull path for nothing). */
export function composeAdmissions(...admissions: Admission[]): Admission {
  const composed: Admission = {};
  const keys: Array<keyof Admission> = [
    "beforeBlobCommit",
    "beforeManifestPut",
    "beforeManifestPull",
    "beforeDelete",
    "beforeTagMove",
  ];
  for (const key of keys) {
    const parts = admissions.filter((a) => a[key] !== undefined);
    if (parts.length === 0) continue;
    (composed as Record<string, unknown>)[key] = async (request: unknown) => {
      for (const part of parts) {
        await (part[key] as (r: unknown) => Promise<void>).call(part, request);
      }
    };
  }
  return composed;
}
