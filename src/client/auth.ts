// Registry authentication as docker does it: read the `WWW-Authenticate` challenge of a 401,
// then either send Basic credentials or fetch a Bearer token from the realm (Docker token
// spec: GET realm?service=…&scope=…, Basic credentials when known, anonymous otherwise).
// Tokens are cached per scope set until they expire. Never logs a credential or token.
import type { Dispatcher } from "undici";
import type { Credential } from "./credentials.js";
import { RegistryError, refusedCredentials } from "./errors.js";
import { request } from "./undici.js";

export interface Challenge {
  readonly scheme: "bearer" | "basic";
  readonly params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (or `Basic realm="…"`). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = (match[1] ?? "").toLowerCase();
  if (scheme !== "bearer" && scheme !== "basic") return undefined;
  const params: Record<string, string> = {};
  const pair = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const m of (match[2] ?? "").matchAll(pair)) {
    params[(m[1] ?? "").toLowerCase()] = (m[2] ?? m[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return { scheme, params };
}

/** The user name docker credential helpers give an identity (refresh) token under. */
const IDENTITY_TOKEN_USER = "<token>";

/** How the token service is retried (the same policy as the registry's own requests). */
export interface TokenRetry {
  readonly attempts: number;
  readonly isRetryable: (err: unknown) => boolean;
  readonly wait: (attempt: number, reason: string, retryAfterMs?: number) => Promise<void>;
}

const RETRY_TOKEN_STATUS = new Set([429, 500, 502, 503, 504]);

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

export class AuthSession {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly registry: string,
    private readonly credential: () => Promise<Credential | undefined>,
    private readonly dispatcher: Dispatcher,
    private readonly userAgent: string,
    private readonly retry?: TokenRetry,
  ) {}

  get known(): boolean {
    return this.challenge !== undefined;
  }

  /** The scheme the registry asked for (undefined before its first 401). */
  get scheme(): "bearer" | "basic" | undefined {
    return this.challenge?.scheme;
  }

  /** The Authorization header for a request needing `scopes`, if auth is known to be needed. */
  async header(scopes: string[]): Promise<string | undefined> {
    if (!this.challenge) return undefined;
    if (this.challenge.scheme === "basic") {
      const c = await this.credential();
      return c ? basic(c) : undefined;
    }
    const key = scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    const token = await this.fetchToken(scopes);
    this.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  /**
   * Records a 401's challenge. Returns true when a retry with fresh auth can help (a new
   * challenge or scope), false when the same credentials were already refused.
   */
  async onUnauthorized(
    header: string | undefined,
    scopes: string[],
    sentAuth: boolean,
  ): Promise<boolean> {
    const challenge = parseChallenge(header);
    if (!challenge) return false;
    this.challenge = challenge;
    // A request sent without auth (the first, or one racing the first 401) deserves a retry
    // with it; a refused token may have expired or lacked a scope: fetch a fresh one once.
    if (!sentAuth) return true;
    return challenge.scheme === "bearer" && this.tokens.delete(scopeKey(scopes));
  }

  private async fetchToken(scopes: string[]): Promise<CachedToken> {
    const params = this.challenge?.params ?? {};
    if (!params.realm) {
      throw new RegistryError(
        "protocol",
        `${this.registry} sent a Bearer challenge without a realm`,
      );
    }
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set("service", params.service);
    for (const scope of scopes) url.searchParams.append("scope", scope);
    const credential = await this.credential();
    const headers: Record<string, string> = { "user-agent": this.userAgent };
    let method: "GET" | "POST" = "GET";
    let body: string | undefined;
    if (credential?.username === IDENTITY_TOKEN_USER) {
      // An identity (refresh) token from a credential helper: the OAuth2 form of the spec.
      method = "POST";
      headers["content-type"] = "application/x-www-form-urlencoded";
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: credential.password,
        client_id: "berth",
      });
      if (params.service) form.set("service", params.service);
      if (scopes.length > 0) form.set("scope", scopes.join(" "));
      body = form.toString();
      url.search = "";
    } else if (credential) {
      headers.authorization = basic(credential);
    }
    const res = await this.requestToken(url, { method, headers, body });
    const text = await res.body.text();
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw credential
        ? refusedCredentials(this.registry, credential.username)
        : new RegistryError(
            "unauthorized",
            `${this.registry} requires authentication; run "berth login ${this.registry}"`,
            res.statusCode,
          );
    }
    if (res.statusCode !== 200) {
      throw new RegistryError(
        "server",
        `the token service of ${this.registry} answered ${res.statusCode}`,
        res.statusCode,
      );
    }
    let doc: { token?: string; access_token?: string; expires_in?: number };
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch {
      throw new RegistryError(
        "protocol",
        `the token service of ${this.registry} sent invalid JSON`,
      );
    }
    const token = doc.token ?? doc.access_token;
    if (!token)
      throw new RegistryError("protocol", `the token service of ${this.registry} sent no token`);
    const lifetime = Math.max(60, doc.expires_in ?? 60) * 1000;
    return { token, expiresAt: Date.now() + lifetime - 10_000 };
  }

  /** One token request, retried on 429/5xx and dropped connections like any registry call. */
  private async requestToken(
    url: URL,
    init: { method: "GET" | "POST"; headers: Record<string, string>; body: string | undefined },
  ): Promise<Dispatcher.ResponseData> {
    const attempts = this.retry?.attempts ?? 1;
    for (let attempt = 1; ; attempt++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { ...init, dispatcher: this.dispatcher });
      } catch (err) {
        if (attempt < attempts && this.retry?.isRetryable(err)) {
          await this.retry.wait(attempt, `token service: ${(err as Error).message}`);
          continue;
        }
        throw new RegistryError(
          "unreachable",
          `cannot reach the token service of ${this.registry} (${url.origin}): ${(err as Error).message}`,
        );
      }
      if (RETRY_TOKEN_STATUS.has(res.statusCode) && attempt < attempts && this.retry) {
        const retryAfter = Number(res.headers["retry-after"]);
        await res.body.dump();
        await this.retry.wait(
          attempt,
          `token service: HTTP ${res.statusCode}`,
          Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined,
        );
        continue;
      }
      return res;
    }
  }
}

function basic(c: Credential): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(" ");
}
