// The Docker token endpoint (Fastify plugin) at /service/token: `GET` with optional Basic
// credentials (docker/podman/skopeo), and `POST` with OAuth2 `password` and `refresh_token`
// grants (docker login). Grants the intersection of asked and allowed scopes and answers
// `{token, access_token, expires_in, issued_at[, refresh_token]}`. Tokens carry the account's
// id and credential generation; a robot's tokens never outlive the robot. Refresh tokens are
// recorded (refresh_tokens) and honoured only while their row and their account exist.
// Never logs credentials or tokens; failed logins are throttled (429 with Retry-After) and
// audited.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type Account, type AccountDirectory, principalOf } from "./accounts.js";
import type { Authorizer } from "./authorizer.js";
import { parseAuthorization } from "./credentials.js";
import { grantScopes } from "./grants.js";
import { formatScope, parseScopes } from "./scope.js";
import type { AuthStore } from "./store.js";
import { TokenError, type TokenService, type VerifiedRefresh } from "./tokens.js";

export const TOKEN_PATH = "/service/token";

/** Seconds a robot has left before it expires (tokens are capped to it); undefined otherwise. */
export function remainingLifeSeconds(
  account: Account | undefined,
  now = Date.now(),
): number | undefined {
  if (account?.kind !== "robot" || account.robot.expiresAt === null) return undefined;
  return Math.max(1, Math.floor((Date.parse(account.robot.expiresAt) - now) / 1000));
}

export interface TokenEndpointDeps {
  readonly store: AuthStore;
  readonly tokens: TokenService;
  readonly accounts: AccountDirectory;
  readonly authorizer: Authorizer;
}

type Query = Record<string, string | string[] | undefined>;

function all(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function fail(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  oauthError?: string,
) {
  return reply
    .code(status)
    .header("cache-control", "no-store")
    .send({
      errors: [{ code, message }],
      ...(oauthError ? { error: oauthError, error_description: message } : {}),
    });
}

export async function tokenEndpoint(app: FastifyInstance, deps: TokenEndpointDeps): Promise<void> {
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string", bodyLimit: 64 * 1024 },
    (_req, body, done) => {
      const params = new URLSearchParams(String(body));
      const out: Query = {};
      for (const key of new Set(params.keys())) {
        const values = params.getAll(key);
        out[key] = values.length === 1 ? values[0] : values;
      }
      done(null, out);
    },
  );

  async function respond(
    request: FastifyRequest,
    reply: FastifyReply,
    params: Query,
    account: Account | undefined,
    withRefresh: boolean,
    refreshToken?: string,
  ) {
    const service = one(params.service);
    if (service !== undefined && service !== deps.tokens.settings.service) {
      return fail(
        reply,
        400,
        "UNSUPPORTED_SERVICE",
        `unknown service "${service}"`,
        "invalid_request",
      );
    }
    const { scopes, errors } = parseScopes(all(params.scope));
    if (errors.length > 0) return fail(reply, 400, "INVALID_SCOPE", errors[0], "invalid_scope");
    const granted = await grantScopes(scopes, account, deps.authorizer);
    const principal = principalOf(account);
    const subject =
      account && principal.kind !== "anonymous"
        ? {
            name: principal.name,
            isAdmin: principal.isAdmin,
            ...(await deps.accounts.stampOf(account)),
          }
        : undefined;
    const lifetime = remainingLifeSeconds(account);
    const issued = await deps.tokens.issueAccess(subject, granted, lifetime);
    let refresh = refreshToken;
    if (withRefresh && account && subject && refresh === undefined) {
      const minted = await deps.tokens.issueRefresh(subject, lifetime);
      await deps.store.recordRefreshToken({
        id: minted.id,
        accountKind: subject.kind,
        accountId: subject.id,
        accountName: subject.name,
        createdAt: minted.issuedAt,
        expiresAt: minted.expiresAt,
        remoteAddress: request.ip,
      });
      refresh = minted.token;
    }
    request.log.debug(
      { account: principal.name, granted: granted.map(formatScope) },
      "token issued",
    );
    return reply.header("cache-control", "no-store").send({
      token: issued.token,
      access_token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
      ...(granted.length > 0 ? { scope: granted.map(formatScope).join(" ") } : {}),
      ...(refresh && subject ? { refresh_token: refresh } : {}),
    });
  }

  async function login(
    request: FastifyRequest,
    reply: FastifyReply,
    username: string,
    password: string,
  ) {
    const result = await deps.accounts.login(username, password, request.ip);
    if (result.ok) return result.account;
    if (result.reason === "locked") {
      void fail(
        reply.header("retry-after", String(result.retryAfterSeconds ?? 60)),
        429,
        "TOOMANYREQUESTS",
        "too many failed logins; try again later",
        "invalid_grant",
      );
      return null;
    }
    void fail(
      reply.header("www-authenticate", 'Basic realm="berth"'),
      401,
      "UNAUTHORIZED",
      "invalid username or password",
      "invalid_grant",
    );
    return null;
  }

  /**
   * The account a refresh token still speaks for: its row exists, bound to the same account
   * id, and the account is active with the same credential generation.
   */
  async function refreshAccount(owner: VerifiedRefresh): Promise<Account | undefined> {
    const row = await deps.store.findRefreshToken(owner.id);
    if (
      !row ||
      row.accountId !== owner.accountId ||
      row.accountKind !== owner.kind ||
      Date.parse(row.expiresAt) <= Date.now()
    )
      return undefined;
    return deps.accounts.current({
      kind: owner.kind,
      id: owner.accountId,
      generation: owner.generation,
    });
  }

  app.get(TOKEN_PATH, async (request, reply) => {
    const params = request.query as Query;
    const credentials = parseAuthorization(request.headers.authorization);
    if (credentials.kind === "malformed" || credentials.kind === "bearer") {
      return fail(reply, 401, "UNAUTHORIZED", "the token endpoint accepts Basic credentials only");
    }
    let account: Account | undefined;
    if (credentials.kind === "basic") {
      const result = await login(request, reply, credentials.username, credentials.password);
      if (result === null) return reply;
      account = result;
    }
    const offline = one(params.offline_token) === "true";
    return respond(request, reply, params, account, offline);
  });

  app.post(TOKEN_PATH, async (request, reply) => {
    const params = (request.body ?? {}) as Query;
    const grant = one(params.grant_type);
    const offline = one(params.access_type) === "offline";
    if (grant === "password") {
      const username = one(params.username);
      const password = one(params.password);
      if (!username || password === undefined) {
        return fail(
          reply,
          400,
          "INVALID_REQUEST",
          "username and password are required",
          "invalid_request",
        );
      }
      const account = await login(request, reply, username, password);
      if (account === null) return reply;
      return respond(request, reply, params, account, offline);
    }
    if (grant === "refresh_token") {
      const token = one(params.refresh_token);
      if (!token)
        return fail(reply, 400, "INVALID_REQUEST", "refresh_token is required", "invalid_request");
      let owner: VerifiedRefresh;
      try {
        owner = await deps.tokens.verifyRefresh(token);
      } catch (err) {
        const message = err instanceof TokenError ? err.message : "invalid refresh token";
        return fail(reply, 401, "UNAUTHORIZED", message, "invalid_grant");
      }
      const account = await refreshAccount(owner);
      if (!account)
        return fail(
          reply,
          401,
          "UNAUTHORIZED",
          "the refresh token was revoked, or its account no longer exists or is disabled",
          "invalid_grant",
        );
      await deps.store.touchRefreshToken(owner.id);
      return respond(request, reply, params, account, true, token);
    }
    return fail(
      reply,
      400,
      "UNSUPPORTED_GRANT_TYPE",
      `unsupported grant_type "${grant ?? ""}"`,
      "unsupported_grant_type",
    );
  });
}
