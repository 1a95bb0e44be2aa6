// Who is calling the management API: a browser session (cookie `berth_session`, with a
// CSRF token required in `X-CSRF-Token` on every state-changing request) or Basic
// credentials (users and robots, throttled like registry logins). Anonymous otherwise.
// Registry tokens from /service/token are refused here (401): they are scoped to /v2/
// (`access` claim) and must never act as full credentials of their account on the
// management API (docs/security.md). Never logs credentials.
import type { FastifyRequest } from "fastify";
import type { Principal } from "../auth/access.js";
import { type Account, principalOf } from "../auth/accounts.js";
import { isSystemAdmin } from "../auth/authorizer.js";
import { parseAuthorization } from "../auth/credentials.js";
import { safeEqual, sha256Hex } from "../auth/passwords.js";
import type { AuthSystem } from "../auth/system.js";
import { forbidden, tooManyLogins, unauthorized } from "./errors.js";

export const SESSION_COOKIE = "berth_session";
export const CSRF_HEADER = "x-csrf-token";

export interface Caller {
  readonly account: Account | undefined;
  readonly principal: Principal;
  readonly via: "session" | "basic" | "anonymous";
  readonly remoteAddress: string;
  /** sha256 of the session cookie, when the caller came with one. */
  readonly sessionIdHash?: string;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export async function identify(request: FastifyRequest, auth: AuthSystem): Promise<Caller> {
  const remoteAddress = request.ip;
  const make = (
    account: Account | undefined,
    via: Caller["via"],
    sessionIdHash?: string,
  ): Caller => ({
    account,
    principal: principalOf(account),
    via,
    remoteAddress,
    ...(sessionIdHash ? { sessionIdHash } : {}),
  });
  const credentials = parseAuthorization(request.headers.authorization);
  if (credentials.kind === "malformed") throw unauthorized("malformed Authorization header");
  if (credentials.kind === "basic") {
    const login = await auth.accounts.login(
      credentials.username,
      credentials.password,
      remoteAddress,
    );
    if (login.ok) return make(login.account, "basic");
    if (login.reason === "locked") throw tooManyLogins(login.retryAfterSeconds);
    throw unauthorized("invalid username or password");
  }
  if (credentials.kind === "bearer") throw registryTokenRefused();
  const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
  if (cookie) {
    const idHash = sha256Hex(cookie);
    const session = await auth.store.findSession(idHash);
    if (!session || Date.parse(session.expiresAt) <= Date.now())
      throw unauthorized("session expired; sign in again");
    if (!SAFE_METHODS.has(request.method)) {
      const sent = request.headers[CSRF_HEADER];
      if (typeof sent !== "string" || !safeEqual(sent, session.csrfToken)) {
        throw forbidden("missing or wrong CSRF token (send the X-CSRF-Token header)");
      }
    }
    return make({ kind: "user", user: session.user }, "session", idHash);
  }
  return make(undefined, "anonymous");
}

const registryTokenRefused = () =>
  unauthorized(
    "registry tokens from /service/token are valid on /v2/ only; use Basic credentials or a session on the management API",
  );

/**
 * Every management API request: a Bearer token (whatever its scope) is refused before
 * validation or any route runs, so no route can forget it.
 */
export function refuseRegistryTokens(request: FastifyRequest): void {
  if (parseAuthorization(request.headers.authorization).kind === "bearer")
    throw registryTokenRefused();
}

export function requireSignedIn(caller: Caller): Account {
  if (!caller.account) throw unauthorized();
  return caller.account;
}

export function requireAdmin(caller: Caller): Account {
  const account = requireSignedIn(caller);
  if (!isSystemAdmin(account)) throw forbidden("only system administrators may do this");
  return account;
}

export function actorOf(caller: Caller) {
  return { ...caller.principal, remoteAddress: caller.remoteAddress };
}
