// One registry's HTTP conversation: endpoint choice (https/http, TLS trust), authentication
// (challenge → Basic or Bearer token, retried once), bounded retries with exponential backoff
// and jitter on 429/5xx and connection failures (honouring Retry-After), and redirects for
// reads (credentials are not sent to another origin). Bodies that are streams are never
// retried here: the caller re-opens the source. Never buffers a response body it hands back.
// When credentials are known, the first request is preceded by a `GET /v2/` ping (as docker
// and skopeo do), so wrong credentials fail even where anonymous access would work. Refusals
// name the cause: wrong credentials (401 from the token service or a Basic registry) versus an
// account that may not do the action (a scoped token refused, 403/DENIED).
import type { Readable } from "node:stream";
import type { Dispatcher, Agent as UndiciAgent } from "undici";
import { AuthSession } from "./auth.js";
import type { CredentialResolver } from "./credentials.js";
import {
  notPermitted,
  RegistryError,
  refusedCredentials,
  requestAction,
  specErrorOf,
} from "./errors.js";
import { type Endpoint, endpointFor, type TlsOptions } from "./tls.js";
import { Agent, request } from "./undici.js";

export interface ClientOptions extends TlsOptions {
  credentials?: CredentialResolver;
  /** Attempts per request for retryable failures (default 5). */
  attempts?: number;
  /** First backoff delay in ms (default 200; doubles each time, capped at 5 s). */
  backoffMs?: number;
  userAgent?: string;
  /** Time to connect and to wait for a response's headers, in ms (default 120 s). */
  timeoutMs?: number;
  /** Told about each retry (for progress output and tests). */
  onRetry?: (event: RetryEvent) => void;
}

export interface RetryEvent {
  readonly registry: string;
  readonly attempt: number;
  readonly reason: string;
}

export interface SendRequest {
  method: "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE";
  /** `/v2/…` on this registry, or an absolute URL (upload locations). */
  path: string;
  scopes: string[];
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  /** Let 401 through to the caller instead of failing (login checks). */
  allowUnauthorized?: boolean;
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRY_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
]);

export function isRetryableNetworkError(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return RETRY_CODES.has(e?.code ?? "") || RETRY_CODES.has(e?.cause?.code ?? "");
}

export class RegistryHttp {
  readonly auth: AuthSession;
  readonly dispatcher: UndiciAgent;
  private endpoint: Endpoint;
  private readonly userAgent: string;
  /** The request each returned response answers, so `fail` can name the refused action. */
  private readonly requests = new WeakMap<object, SendRequest>();
  private pinged: Promise<void> | undefined;

  constructor(
    readonly registry: string,
    readonly options: ClientOptions = {},
  ) {
    this.endpoint = endpointFor(registry, options);
    this.dispatcher = new Agent({
      connect: {
        ...this.endpoint.connect,
        ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
      },
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs ?? 120_000,
      bodyTimeout: 300_000,
    });
    this.userAgent = options.userAgent ?? "berth/0.1";
    const resolver = options.credentials;
    let cached: Promise<import("./credentials.js").Credential | undefined> | undefined;
    this.auth = new AuthSession(
      registry,
      () => {
        cached ??= resolver ? resolver(registry) : Promise.resolve(undefined);
        return cached;
      },
      this.dispatcher,
      this.userAgent,
      {
        attempts: options.attempts ?? 5,
        isRetryable: isRetryableNetworkError,
        wait: (attempt, reason, retryAfterMs) => this.backoff(attempt, reason, retryAfterMs),
      },
    );
  }

  get baseUrl(): string {
    return this.endpoint.baseUrl;
  }

  url(path: string): string {
    return path.startsWith("http://") || path.startsWith("https://")
      ? path
      : `${this.endpoint.baseUrl}${path}`;
  }

  /** Sends with auth, retries and redirects; throws RegistryError for failures it cannot fix. */
  async send(req: SendRequest): Promise<Dispatcher.ResponseData> {
    if (!req.allowUnauthorized) {
      this.pinged ??= this.pingWithCredentials();
      await this.pinged;
    }
    const res = await this.sendAuthorized(req);
    this.requests.set(res, req);
    return res;
  }

  /**
   * With credentials at hand, learns the registry's challenge from `GET /v2/` before the first
   * request, so they are always presented (and checked). Failures here are left to the request.
   */
  private async pingWithCredentials(): Promise<void> {
    if (this.auth.known) return;
    const credential = await (this.options.credentials?.(this.registry) ??
      Promise.resolve(undefined));
    if (!credential) return;
    try {
      const res = await this.sendOnce({ method: "GET", path: "/v2/", scopes: [] }, undefined);
      const challenge = headerOf(res, "www-authenticate");
      await res.body.dump();
      if (res.statusCode === 401) await this.auth.onUnauthorized(challenge, [], false);
    } catch {
      // unreachable, TLS trouble, …: the request itself reports it
    }
  }

  private async sendAuthorized(req: SendRequest): Promise<Dispatcher.ResponseData> {
    const replayable = req.body === undefined || Buffer.isBuffer(req.body);
    const attempts = replayable ? (this.options.attempts ?? 5) : 1;
    let authRetried = false;
    for (let attempt = 1; ; attempt++) {
      let res: Dispatcher.ResponseData;
      let authorization: string | undefined;
      try {
        authorization = await this.auth.header(req.scopes);
        res = await this.sendOnce(req, authorization);
      } catch (err) {
        if (err instanceof RegistryError) throw err;
        if (this.switchToFallback(err) || this.upgradeOnClosedSocket(err)) {
          attempt--;
          continue;
        }
        if (attempt < attempts && isRetryableNetworkError(err)) {
          await this.backoff(attempt, describeNetworkError(err));
          continue;
        }
        const hint = isCertificateError(err)
          ? " (trust its CA with --ca-file or --cert-dir, or use --insecure)"
          : "";
        throw new RegistryError(
          "unreachable",
          `cannot reach ${this.registry}: ${describeNetworkError(err)}${hint}`,
        );
      }
      if (this.endpoint.upgradeUrl) {
        const upgrade = this.endpoint.upgradeUrl;
        this.endpoint = { ...this.endpoint, upgradeUrl: undefined };
        if (res.statusCode === 400 && !res.headers["content-type"] && (await this.wantsTls(res))) {
          this.endpoint = { ...this.endpoint, baseUrl: upgrade };
          attempt--;
          continue;
        }
      }
      if (res.statusCode === 401 && !req.allowUnauthorized && replayable) {
        const challenge = headerOf(res, "www-authenticate");
        await res.body.dump();
        if (!authRetried) {
          authRetried = true;
          if (await this.auth.onUnauthorized(challenge, req.scopes, authorization !== undefined)) {
            attempt--;
            continue;
          }
        }
        // Refused again with fresh auth: the credentials are wrong (or absent), say which.
        throw await this.unauthorized(req);
      }
      if (RETRY_STATUS.has(res.statusCode) && attempt < attempts) {
        const retryAfter = Number(headerOf(res, "retry-after"));
        await res.body.dump();
        await this.backoff(
          attempt,
          `HTTP ${res.statusCode}`,
          Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined,
        );
        continue;
      }
      return res;
    }
  }

  /** Turns an unexpected response into a RegistryError (consuming the body). */
  async fail(res: Dispatcher.ResponseData, what: string): Promise<never> {
    // A body already read or dumped must not be read again (undici then never settles).
    const consumed = res.body.bodyUsed || res.body.readableEnded || res.body.destroyed;
    const text = consumed ? "" : await res.body.text().catch(() => "");
    const spec = specErrorOf(text);
    const detail = spec.message ? `: ${spec.message}` : "";
    const status = res.statusCode;
    const request = this.requests.get(res);
    if (status === 403 && request) {
      const credential = await (this.options.credentials?.(this.registry) ??
        Promise.resolve(undefined));
      if (credential) {
        throw notPermitted(
          this.registry,
          credential.username,
          requestAction(request.method, request.scopes),
          spec.message,
        );
      }
    }
    if (status === 404)
      throw new RegistryError("not-found", `${what} not found${detail}`, status, spec.code);
    if (status === 401)
      throw new RegistryError(
        "unauthorized",
        `${this.registry} requires authentication for ${what}; run "berth login ${this.registry}"`,
        status,
        spec.code,
      );
    if (status === 403)
      throw new RegistryError(
        "denied",
        `${this.registry} denied access to ${what}${detail}`,
        status,
        spec.code,
      );
    if (status === 429)
      throw new RegistryError(
        "too-many-requests",
        `${this.registry} kept answering "too many requests" for ${what}`,
        status,
        spec.code,
      );
    if (status >= 500)
      throw new RegistryError(
        "server",
        `${this.registry} failed on ${what} (HTTP ${status})${detail}`,
        status,
        spec.code,
      );
    throw new RegistryError(
      "protocol",
      `${this.registry} answered HTTP ${status} for ${what}${detail}`,
      status,
      spec.code,
    );
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async sendOnce(
    req: SendRequest,
    authorization: string | undefined,
  ): Promise<Dispatcher.ResponseData> {
    let url = this.url(req.path);
    const origin = new URL(url).origin;
    for (let hop = 0; ; hop++) {
      const sameOrigin = new URL(url).origin === origin;
      const headers: Record<string, string> = { "user-agent": this.userAgent, ...req.headers };
      if (authorization && sameOrigin) headers.authorization = authorization;
      const res = await request(url, {
        method: req.method,
        headers,
        body: req.body,
        dispatcher: this.dispatcher,
      });
      const location = headerOf(res, "location");
      const redirect = [301, 302, 303, 307, 308].includes(res.statusCode);
      if (!redirect || !location || (req.method !== "GET" && req.method !== "HEAD") || hop >= 5) {
        return res;
      }
      await res.body.dump();
      url = new URL(location, url).toString();
    }
  }

  /**
   * True when a bare 400 (no Content-Type) is a TLS server refusing plain HTTP ("Client sent
   * an HTTP request to an HTTPS server", as Go servers answer); any other such 400 fails.
   */
  private async wantsTls(res: Dispatcher.ResponseData): Promise<boolean> {
    const text = await res.body.text().catch(() => "");
    if (/HTTP request to an HTTPS server/i.test(text)) return true;
    throw new RegistryError(
      "protocol",
      `${this.registry} answered HTTP 400: ${text.trim().slice(0, 200)}`,
      400,
    );
  }

  /**
   * A loopback registry spoken to in plain HTTP that closes the socket without an answer is
   * a TLS server that does not answer plain requests with 400 (Node's https, Berth's own):
   * switch to https once, as for the 400 answer Go servers give.
   */
  private upgradeOnClosedSocket(err: unknown): boolean {
    const upgrade = this.endpoint.upgradeUrl;
    if (!upgrade) return false;
    const code =
      (err as { code?: string; cause?: { code?: string } })?.cause?.code ??
      (err as { code?: string })?.code ??
      "";
    if (code !== "UND_ERR_SOCKET" && code !== "ECONNRESET") return false;
    this.endpoint = { ...this.endpoint, baseUrl: upgrade, upgradeUrl: undefined };
    return true;
  }

  private switchToFallback(err: unknown): boolean {
    const fallback = this.endpoint.fallbackUrl;
    if (!fallback) return false;
    const code =
      (err as { code?: string; cause?: { code?: string } })?.cause?.code ??
      (err as { code?: string })?.code ??
      "";
    const message = String((err as Error)?.message ?? "");
    if (
      !code.startsWith("ERR_SSL") &&
      code !== "EPROTO" &&
      !/ssl|tls|wrong version/i.test(message)
    ) {
      return false;
    }
    this.endpoint = { ...this.endpoint, baseUrl: fallback, fallbackUrl: undefined };
    return true;
  }

  private async unauthorized(req: SendRequest): Promise<RegistryError> {
    const credential = await (this.options.credentials?.(this.registry) ??
      Promise.resolve(undefined));
    if (credential && this.auth.scheme === "bearer") {
      // The token service accepted the credentials; the token it gave lacks this scope.
      return notPermitted(
        this.registry,
        credential.username,
        requestAction(req.method, req.scopes),
      );
    }
    return credential
      ? refusedCredentials(this.registry, credential.username)
      : new RegistryError(
          "unauthorized",
          `${this.registry} requires authentication; run "berth login ${this.registry}"`,
          401,
        );
  }

  private async backoff(attempt: number, reason: string, retryAfterMs?: number): Promise<void> {
    this.options.onRetry?.({ registry: this.registry, attempt, reason });
    const base = this.options.backoffMs ?? 200;
    const computed = Math.min(5000, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
    const delay = retryAfterMs !== undefined ? Math.min(retryAfterMs, 10_000) : computed;
    await new Promise((r) => setTimeout(r, delay));
  }
}

export function headerOf(res: Dispatcher.ResponseData, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isCertificateError(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  const code = e?.cause?.code ?? e?.code ?? "";
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT/.test(code);
}

export function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.cause?.code ?? e?.code;
  const message = e?.cause?.message ?? e?.message ?? String(err);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
