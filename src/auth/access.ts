// The contract between the registry's HTTP routes and whoever decides access. registry/
// asks an AccessController before every operation; auth/ provides the implementations
// (token/basic auth with projects and roles). This file must stay free of HTTP framework
// and storage details.
import type { IncomingHttpHeaders } from "node:http";

/** Actions of the Docker token spec's `repository:NAME:ACTIONS` scopes. */
export type RepositoryAction = "pull" | "push" | "delete";

export type AccessTarget =
  | { kind: "registry" } // GET /v2/ — "are you logged in"
  | { kind: "catalog" } // GET /v2/_catalog — scope registry:catalog:*
  | { kind: "repository"; repository: string; actions: RepositoryAction[] };

export interface AccessRequest {
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string;
  readonly target: AccessTarget;
}

/** Who is acting; `anonymous` when no credentials were sent. */
export interface Principal {
  readonly name: string;
  readonly kind: "anonymous" | "user" | "robot" | "system";
  readonly isAdmin: boolean;
}

export type AccessDecision =
  | { readonly allowed: true; readonly principal: Principal }
  | {
      readonly allowed: false;
      /** 401 → ask for credentials (with `challenge`); 403 → authenticated but not allowed. */
      readonly status: 401 | 403;
      /** Value for `WWW-Authenticate` on 401. */
      readonly challenge?: string;
      readonly message: string;
    }
  | {
      readonly allowed: false;
      /** Too many failed logins from this caller: answer 429 with `Retry-After`. */
      readonly status: 429;
      readonly retryAfterSeconds: number;
      readonly message: string;
    };

export interface AccessController {
  check(request: AccessRequest): Promise<AccessDecision>;
  /**
   * For catalog listing: whether the principal may see a repository at all (so the catalog
   * only lists repositories the caller can pull).
   */
  canList(principal: Principal, repository: string): Promise<boolean>;
}

export const ANONYMOUS: Principal = { name: "anonymous", kind: "anonymous", isAdmin: false };

/** Everyone may do everything: a registry with authentication turned off. */
export class OpenAccess implements AccessController {
  async check(): Promise<AccessDecision> {
    return { allowed: true, principal: ANONYMOUS };
  }

  async canList(): Promise<boolean> {
    return true;
  }
}
