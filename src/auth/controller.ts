// The AccessController the registry routes ask before every operation (contract in
// access.ts). Accepts, in order: a Bearer JWT from our token endpoint (its `access` claim
// must cover the request, AND its account must still be current — same id and credential
// generation, active — AND the live permission matrix must still allow it: revocation takes
// effect on the next request), Basic credentials straight to /v2/ (checked against the live
// permission matrix), or nothing (anonymous: public pull only). Unauthenticated refusals
// answer 401 with a Docker token-spec challenge naming realm, service and the scope needed;
// a locked login answers 429 with Retry-After.
import type {
  AccessController,
  AccessDecision,
  AccessRequest,
  AccessTarget,
  Principal,
} from "./access.js";
import { type Account, type AccountDirectory, principalOf } from "./accounts.js";
import type { Authorizer } from "./authorizer.js";
import { parseAuthorization } from "./credentials.js";
import { type AccessClaim, TokenError, type TokenService } from "./tokens.js";

export interface ChallengeSettings {
  /** Absolute token endpoint URL, or a function of the request headers (Host, X-Forwarded-*). */
  readonly realm: (headers: AccessRequest["headers"]) => string;
  readonly service: string;
}

export function scopeForTarget(target: AccessTarget): string | undefined {
  if (target.kind === "catalog") return "registry:catalog:*";
  if (target.kind === "repository")
    return `repository:${target.repository}:${target.actions.join(",")}`;
  return undefined;
}

export function challengeFor(
  settings: ChallengeSettings,
  headers: AccessRequest["headers"],
  target: AccessTarget,
  error?: "invalid_token" | "insufficient_scope",
): string {
  const parts = [`realm="${settings.realm(headers)}"`, `service="${settings.service}"`];
  const scope = scopeForTarget(target);
  if (scope) parts.push(`scope="${scope}"`);
  if (error) parts.push(`error="${error}"`);
  return `Bearer ${parts.join(",")}`;
}

export function claimCovers(access: readonly AccessClaim[], target: AccessTarget): boolean {
  if (target.kind === "registry") return true;
  if (target.kind === "catalog") {
    return access.some(
      (a) => a.type === "registry" && a.name === "catalog" && a.actions.includes("*"),
    );
  }
  const granted = access
    .filter((a) => a.type === "repository" && a.name === target.repository)
    .flatMap((a) => a.actions);
  return target.actions.every((action) => granted.includes(action) || granted.includes("*"));
}

export class TokenAccessController implements AccessController {
  constructor(
    private readonly tokens: TokenService,
    private readonly accounts: AccountDirectory,
    private readonly authorizer: Authorizer,
    private readonly challenge: ChallengeSettings,
  ) {}

  async check(request: AccessRequest): Promise<AccessDecision> {
    const credentials = parseAuthorization(request.headers.authorization);
    switch (credentials.kind) {
      case "bearer":
        return this.checkBearer(credentials.token, request);
      case "basic": {
        const login = await this.accounts.login(
          credentials.username,
          credentials.password,
          request.remoteAddress,
        );
        if (!login.ok) {
          if (login.reason === "locked") {
            return {
              allowed: false,
              status: 429,
              retryAfterSeconds: login.retryAfterSeconds ?? 60,
              message: "too many failed logins; try again later",
            };
          }
          return this.unauthorized(request, "authentication required");
        }
        return this.decide(
          request,
          principalOf(login.account),
          await this.allowedFor(login.account, request.target),
        );
      }
      case "malformed":
        return this.unauthorized(request, "malformed Authorization header");
      case "none": {
        if (request.target.kind !== "repository")
          return this.unauthorized(request, "authentication required");
        const allowed = await this.allowedFor(undefined, request.target);
        if (allowed) return { allowed: true, principal: principalOf(undefined) };
        return this.unauthorized(request, "authentication required");
      }
    }
  }

  async canList(principal: Principal, repository: string): Promise<boolean> {
    if (principal.isAdmin) return true;
    const account =
      principal.kind === "anonymous" || principal.kind === "system"
        ? undefined
        : await this.accounts.find(principal.name, principal.kind);
    return (await this.authorizer.repositoryActions(account, repository)).includes("pull");
  }

  private async checkBearer(token: string, request: AccessRequest): Promise<AccessDecision> {
    let verified: Awaited<ReturnType<TokenService["verifyAccess"]>>;
    try {
      verified = await this.tokens.verifyAccess(token);
    } catch (err) {
      const message = err instanceof TokenError ? err.message : "invalid token";
      return this.unauthorized(request, message, "invalid_token");
    }
    if (!claimCovers(verified.access, request.target)) {
      return this.unauthorized(
        request,
        "the token does not grant this access",
        "insufficient_scope",
      );
    }
    let account: Account | undefined;
    if (!verified.anonymous) {
      account = await this.accounts.current(verified.subject);
      if (!account) {
        return this.unauthorized(
          request,
          "the token's account was removed, disabled, expired or its credentials changed",
          "invalid_token",
        );
      }
    }
    // The claim was what the account could do when the token was issued; what it may do now
    // (membership, role, admin flag, robot permissions, project visibility) must agree too.
    if (request.target.kind === "repository" && !(await this.allowedFor(account, request.target))) {
      if (!account) return this.unauthorized(request, "authentication required");
      return this.decide(request, principalOf(account), false);
    }
    return { allowed: true, principal: principalOf(account) };
  }

  private async allowedFor(
    account: Parameters<Authorizer["repositoryActions"]>[0],
    target: AccessTarget,
  ): Promise<boolean> {
    if (target.kind === "registry") return account !== undefined;
    if (target.kind === "catalog") return account !== undefined;
    const actions = await this.authorizer.repositoryActions(account, target.repository);
    return target.actions.every((a) => actions.includes(a));
  }

  private decide(request: AccessRequest, principal: Principal, allowed: boolean): AccessDecision {
    if (allowed) return { allowed: true, principal };
    return {
      allowed: false,
      status: 403,
      message: `requested access to ${describe(request.target)} is denied`,
    };
  }

  private unauthorized(
    request: AccessRequest,
    message: string,
    error?: "invalid_token" | "insufficient_scope",
  ): AccessDecision {
    return {
      allowed: false,
      status: 401,
      challenge: challengeFor(this.challenge, request.headers, request.target, error),
      message,
    };
  }
}

function describe(target: AccessTarget): string {
  if (target.kind === "repository") return `${target.actions.join(",")} on ${target.repository}`;
  return target.kind === "catalog" ? "the catalog" : "the registry";
}
