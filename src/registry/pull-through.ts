// The registry's hook for proxy-cache projects (implemented in src/proxy/): before a pull of
// a manifest or a blob is answered from local storage, a PullThrough may bring it in from
// the project's upstream. The registry stays ignorant of endpoints and upstreams: it only
// asks, serves what it is told to, and adds the cache status header.
import type { Principal } from "../auth/access.js";
import type { RegistryCall, RegistryContext } from "./context.js";

/** Response header saying where a proxied answer came from: hit, miss or stale. */
export const CACHE_STATUS_HEADER = "X-Berth-Cache";

export type ManifestOutcome =
  /** Serve the local copy (now fresh, or stale when the upstream could not be asked). */
  | { readonly kind: "local"; readonly status: "hit" | "miss" | "stale" }
  /** Serve these bytes straight from the upstream (they are cached in the background). */
  | {
      readonly kind: "upstream";
      readonly content: Buffer;
      readonly mediaType: string;
      readonly digest: string;
    };

export interface PullThrough {
  /** undefined when the repository is not in a proxy project (the registry carries on). */
  manifest(
    ctx: RegistryContext,
    repository: string,
    reference: { tag?: string; digest?: string },
    principal: Principal,
  ): Promise<ManifestOutcome | undefined>;
  /**
   * For a blob this repository does not have: answers the request from the upstream
   * (storing the bytes while they stream) and returns true, or false when the repository is
   * not in a proxy project. Throws a RegistryError when the upstream cannot give it.
   */
  blob(
    ctx: RegistryContext,
    call: RegistryCall,
    digest: string,
    principal: Principal,
  ): Promise<boolean>;
  /**
   * Before the referrers of `subject` are listed from local storage: brings in those the
   * upstream has (nothing for a repository outside proxy projects).
   */
  referrers?(ctx: RegistryContext, repository: string, subject: string): Promise<void>;
}
