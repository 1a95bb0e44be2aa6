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
  repository: string;
  digest: string;
  tag?: string;
  mediaType: string;
  principal: Principal;
}

export interface Admission {
  /** Before a finished upload (or a mount) becomes a blob of the repository. */
  beforeBlobCommit?(request: BlobCommitRequest): Promise<void>;
  /** Before a validated manifest is stored and tagged. */
  beforeManifestPut?(request: ManifestPutRequest): Promise<void>;
  /** Before a manifest is served (GET and HEAD). */
  beforeManifestPull?(request: ManifestPullRequest): Promise<void>;
}

/** Admits everything. */
export const ADMIT_ALL: Admission = {};

/** Runs several admissions in order; the first refusal wins. */
export function allAdmissions(...admissions: Admission[]): Admission {
  return {
    async beforeBlobCommit(request) {
      for (const a of admissions) await a.beforeBlobCommit?.(request);
    },
    async beforeManifestPut(request) {
      for (const a of admissions) await a.beforeManifestPut?.(request);
    },
    async beforeManifestPull(request) {
      for (const a of admissions) await a.beforeManifestPull?.(request);
    },
  };
}
