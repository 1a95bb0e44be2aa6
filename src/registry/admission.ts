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

/** Several admissions as one: each hook runs in order; the first refusal wins. */
export function composeAdmissions(...admissions: Admission[]): Admission {
  const hooks = <K extends keyof Admission>(name: K) =>
    admissions
      .map((a) => a[name]?.bind(a))
      .filter((h): h is NonNullable<Admission[K]> => h !== undefined);
  const blob = hooks("beforeBlobCommit");
  const put = hooks("beforeManifestPut");
  const pull = hooks("beforeManifestPull");
  const composed: Admission = {};
  if (blob.length)
    composed.beforeBlobCommit = async (r) => {
      for (const h of blob) await h(r);
    };
  if (put.length)
    composed.beforeManifestPut = async (r) => {
      for (const h of put) await h(r);
    };
  if (pull.length)
    composed.beforeManifestPull = async (r) => {
      for (const h of pull) await h(r);
    };
  return composed;
}
