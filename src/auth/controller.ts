// The AccessController the registry routes ask before every operation (contract in
// access.ts). Accepts, in order: a Bearer JWT from our token endpoint (its `access` claim
// must cover the request, AND its account must still be current — same id and credential
// generation, active — AND the live permission matrix must still allow it: revocation takes
// effect on the next request), Basic credentials straight to /v2/ (checked against the live
// permission matrix), or nothing (anonymous: public pull only). Unauthenticated refusals
// answer 401 with a Docker token-spec challenge naming realm, service and the scope needed;
// a locked login answers 429 with Retry-After. Allowed decisions are reused for at most
// ACCOUNT_CACHE_MS and forgotten at once on any account or permission change in this process
// (decision-cache.ts), so a client repeating the same credentials pays the full check once
// per interval, and revocation still takes effect on the next request.
import { createHmac, randomBytes } from "node:crypto";
import type {
  AccessController,
  AccessDecision,
  AccessRequest,
  AccessTarget,
  Principal,
} from "./access.js";
import { ACCOUNT_CACHE_MS, type Account, type AccountDirectory, principalOf } from "./accounts.js";
import type { Authorizer } from "./authorizer.js";
import { type Credentials, parseAuthorization } from "./credentials.js";
import { DecisionCache, targetKey } from "./decision-cache.js";
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

/** What a full (uncached) check decided, and until when an allowed answer may be reused. */
interface Evaluation {
  readonly decision: AccessDecision;
  /** ms since epoch: the token's expiry, a robot's expiry, or Infinity. */
  readonly until: number;
  /** The Basic username, when the credentials were Basic. */
  readonly username?: string;
}

export class TokenAccessController implements AccessController {
  /** Allowed decisions of the last ACCOUNT_CACHE_MS (decision-cache.ts). */
  readonly decisions: DecisionCache;
  private readonly basicKey = randomBytes(32);

  constructor(
    private readonly tokens: TokenService,
    private readonly accounts: AccountDirectory,
    private readonly authorizer: Authorizer,
    private readonly challenge: ChallengeSettings,
    now: () => number = Date.now,
  ) {
    this.decisions = new DecisionCache(ACCOUNT_CACHE_MS, now);
    // Every account, credential or permission change in this process: forget at once.
    authorizer.onInvalidate(() => this.decisions.clear());
  }

  async check(request: AccessRequest): Promise<AccessDecision> {
    const credentials = parseAuthorization(request.headers.authorization);
    if (credentials.kind === "malformed")
      return this.unauthorized(request, "malformed Authorization header");
    const key = `${this.credentialKey(credentials)}\u0001${targetKey(request.target)}`;
    const hit = this.decisions.get(key);
    if (
      hit !== undefined &&
      (hit.username === undefined ||
        this.accounts.admitRemembered(hit.username, request.remoteAddress))
    ) {
      return hit.decision;
    }
    const generation = this.decisions.generation;
    const evaluation = await this.evaluate(credentials, request);
    if (evaluation.decision.allowed) {
      this.decisions.set(
        key,
        generation,
        evaluation.decision,
        evaluation.until,
        evaluation.username,
      );
    }
    return evaluation.decision;
  }

  /** Identifies credentials exactly, without keeping a password (HMAC under a process key). */
  private credentialKey(credentials: Exclude<Credentials, { kind: "malformed" }>): string {
    if (credentials.kind === "bearer") return `b\u0000${credentials.token}`;
    if (credentials.kind === "none") return "a";
    const mac = createHmac("sha256", this.basicKey)
      .update(credentials.username)
      .update("\u0000")
      .update(credentials.password)
      .digest("base64");
    return `p\u0000${mac}`;
  }

  private async evaluate(
    credentials: Exclude<Credentials, { kind: "malformed" }>,
    request: AccessRequest,
  ): Promise<Evaluation> {
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
            return refused({
              allowed: false,
              status: 429,
              retryAfterSeconds: login.retryAfterSeconds ?? 60,
              message: "too many failed logins; try again later",
            });
          }
          return refused(this.unauthorized(request, "authentication required"));
        }
        const decision = this.decide(
          request,
          principalOf(login.account),
          await this.allowedFor(login.account, request.target),
        );
        return { decision, until: accountExpiry(login.account), username: credentials.username };
      }
      case "none": {
        if (request.target.kind !== "repository")
          return refused(this.unauthorized(request, "authentication required"));
        const allowed = await this.allowedFor(undefined, request.target);
        if (allowed)
          return {
            decision: { allowed: true, principal: principalOf(undefined) },
            until: Infinity,
          };
        return refused(this.unauthorized(request, "authentication required"));
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

  private async checkBearer(token: string, request: AccessRequest): Promise<Evaluation> {
    let verified: Awaited<ReturnType<TokenService["verifyAccess"]>>;
    try {
      verified = await this.tokens.verifyAccess(token);
    } catch (err) {
      const message = err instanceof TokenError ? err.message : "invalid token";
      return refused(this.unauthorized(request, message, "invalid_token"));
    }
    if (!claimCovers(verified.access, request.target)) {
      return refused(
        this.unauthorized(request, "the token does not grant this access", "insufficient_scope"),
      );
    }
    let account: Account | undefined;
    if (!verified.anonymous) {
      account = await this.accounts.current(verified.subject);
      if (!account) {
        return refused(
          this.unauthorized(
            request,
            "the token's account was removed, disabled, expired or its credentials changed",
            "invalid_token",
          ),
        );
      }
    }
    // The claim was what the account could do when the token was issued; what it may do now
    // (membership, role, admin flag, robot permissions, project visibility) must agree too.
    if (request.target.kind === "repository" && !(await this.allowedFor(account, request.target))) {
      if (!account) return refused(this.unauthorized(request, "authentication required"));
      return refused(this.decide(request, principalOf(account), false));
    }
    const until = Math.min(verified.expiresAt.getTime(), accountExpiry(account));
    return { decision: { allowed: true, principal: principalOf(account) }, until };
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

function refused(decision: AccessDecision): Evaluation {
  return { decision, until: 0 };
}

/** When an account stops being usable on its own (a robot's expiry); Infinity otherwise. */
function accountExpiry(account: Account | undefined): number {
  if (account?.kind !== "robot" || account.robot.expiresAt === null) return Infinity;
  return Date.parse(account.robot.expiresAt);
}

function describe(target: AccessTarget): string {
  if (target.kind === "repository") return `${target.actions.join(",")} on ${target.repository}`;
  return target.kind === "catalog" ? "the catalog" : "the registry";
}
