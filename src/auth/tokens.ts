// Registry bearer tokens (Docker token spec, JWT profile): an ES256 key pair Berth generates
// once and keeps in the data directory, issuing short-lived access tokens whose `access`
// claim lists the granted scopes, and longer-lived refresh tokens for the OAuth2 flow.
// Verification pins the algorithm (so `alg: none` and HS256-with-public-key tricks fail),
// the issuer, the audience and the token use. Never logs tokens or key material.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { calculateJwkThumbprint, exportJWK, jwtVerify, SignJWT } from "jose";
import { newSecret } from "./passwords.js";
import type { Scope } from "./scope.js";

export const TOKEN_ALGORITHM = "ES256";

export interface TokenSettings {
  readonly issuer: string;
  /** The `service` of the challenge, used as the `aud` claim. */
  readonly service: string;
  readonly accessTtlSeconds: number;
  readonly refreshTtlSeconds: number;
}

export interface TokenSubject {
  readonly name: string;
  readonly kind: "user" | "robot";
  readonly isAdmin: boolean;
  /** The account's id (claim `aid`): a token never passes to a namesake account. */
  readonly id: string;
  /** The account's credential generation at issue (claim `gen`), checked on every request. */
  readonly generation: string;
}

export interface AccessClaim {
  readonly type: string;
  readonly name: string;
  readonly actions: string[];
}

export interface VerifiedToken {
  readonly subject: TokenSubject;
  readonly access: AccessClaim[];
  readonly expiresAt: Date;
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresIn: number;
  readonly issuedAt: string;
  /** The token's `jti`. */
  readonly id: string;
  readonly expiresAt: string;
}

export interface VerifiedRefresh {
  readonly name: string;
  readonly kind: "user" | "robot";
  readonly accountId: string;
  /** The account's credential generation at issue. */
  readonly generation: string;
  /** The token's `jti`: its row in refresh_tokens. */
  readonly id: string;
}

export class TokenError extends Error {}

export class SigningKey {
  private constructor(
    readonly privateKey: KeyObject,
    readonly publicKey: KeyObject,
    readonly kid: string,
  ) {}

  static async fromPem(pem: string): Promise<SigningKey> {
    const privateKey = createPrivateKey(pem);
    const publicKey = createPublicKey(privateKey);
    const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
    return new SigningKey(privateKey, publicKey, kid);
  }

  /** Load `<dir>/token-signing-key.pem`, creating it (mode 0600, atomically) if absent. */
  static async loadOrCreate(dir: string): Promise<SigningKey> {
    const file = path.join(dir, "token-signing-key.pem");
    try {
      return await SigningKey.fromPem(await readFile(file, "utf8"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, pem, { mode: 0o600, flag: "wx" });
    await rename(tmp, file);
    return SigningKey.fromPem(await readFile(file, "utf8"));
  }
}

/**
 * The keys a TokenService signs with (the current one) and verifies with (any it knows, by the
 * token's `kid`): one key from a file, or the replicas' shared keys (src/auth/signing-keys.ts).
 */
export interface SigningKeyring {
  current(): SigningKey;
  verificationKey(kid: string | undefined): Promise<KeyObject | undefined>;
}

function keyringOf(key: SigningKey | SigningKeyring): SigningKeyring {
  if (!(key instanceof SigningKey)) return key;
  return { current: () => key, verificationKey: async () => key.publicKey };
}

export class TokenService {
  private readonly keys: SigningKeyring;

  constructor(
    key: SigningKey | SigningKeyring,
    readonly settings: TokenSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = keyringOf(key);
  }

  /** An access token; `maxTtlSeconds` caps its lifetime (a robot's remaining life). */
  async issueAccess(
    subject: TokenSubject | undefined,
    access: readonly Scope[],
    maxTtlSeconds?: number,
  ): Promise<IssuedToken> {
    const claims = {
      access: access.map((s) => ({ type: s.type, name: s.name, actions: [...s.actions] })),
      use: "access",
      ...(subject
        ? { kind: subject.kind, adm: subject.isAdmin, aid: subject.id, gen: subject.generation }
        : { kind: "anonymous" }),
    };
    return this.sign(
      claims,
      subject?.name ?? "",
      capped(this.settings.accessTtlSeconds, maxTtlSeconds),
    );
  }

  async issueRefresh(subject: TokenSubject, maxTtlSeconds?: number): Promise<IssuedToken> {
    return this.sign(
      { use: "refresh", kind: subject.kind, aid: subject.id, gen: subject.generation },
      subject.name,
      capped(this.settings.refreshTtlSeconds, maxTtlSeconds),
    );
  }

  async verifyAccess(token: string): Promise<VerifiedToken & { anonymous: boolean }> {
    const payload = await this.verify(token, "access");
    const access = parseAccessClaim(payload.access);
    const kind = payload.kind;
    const name = typeof payload.sub === "string" ? payload.sub : "";
    if (kind === "anonymous" || name === "") {
      return {
        subject: { name: "anonymous", kind: "user", isAdmin: false, id: "", generation: "" },
        access,
        expiresAt: expiry(payload.exp),
        anonymous: true,
      };
    }
    if (kind !== "user" && kind !== "robot")
      throw new TokenError("token has an unknown subject kind");
    if (typeof payload.aid !== "string" || typeof payload.gen !== "string")
      throw new TokenError("token does not name its account; fetch a new one");
    return {
      subject: {
        name,
        kind,
        isAdmin: payload.adm === true,
        id: payload.aid,
        generation: payload.gen,
      },
      access,
      expiresAt: expiry(payload.exp),
      anonymous: false,
    };
  }

  /** The account (name, kind, id) a refresh token was issued to, and the token's id. */
  async verifyRefresh(token: string): Promise<VerifiedRefresh> {
    const payload = await this.verify(token, "refresh");
    if (typeof payload.sub !== "string" || payload.sub === "")
      throw new TokenError("refresh token has no subject");
    if (payload.kind !== "user" && payload.kind !== "robot")
      throw new TokenError("refresh token has an unknown subject kind");
    if (
      typeof payload.aid !== "string" ||
      typeof payload.gen !== "string" ||
      typeof payload.jti !== "string"
    )
      throw new TokenError("refresh token does not name its account; log in again");
    return {
      name: payload.sub,
      kind: payload.kind,
      accountId: payload.aid,
      generation: payload.gen,
      id: payload.jti,
    };
  }

  private async sign(
    claims: Record<string, unknown>,
    subject: string,
    ttl: number,
  ): Promise<IssuedToken> {
    const nowSeconds = Math.floor(this.now() / 1000);
    const jti = newSecret().slice(0, 22);
    const key = this.keys.current();
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: "JWT", kid: key.kid })
      .setIssuer(this.settings.issuer)
      .setSubject(subject)
      .setAudience(this.settings.service)
      .setIssuedAt(nowSeconds)
      .setNotBefore(nowSeconds - 1)
      .setExpirationTime(nowSeconds + ttl)
      .setJti(jti)
      .sign(key.privateKey);
    return {
      token,
      expiresIn: ttl,
      issuedAt: new Date(nowSeconds * 1000).toISOString(),
      id: jti,
      expiresAt: new Date((nowSeconds + ttl) * 1000).toISOString(),
    };
  }

  private async verify(token: string, use: "access" | "refresh"): Promise<Record<string, unknown>> {
    try {
      const keyFor = async (header: { kid?: string }) => {
        const key = await this.keys.verificationKey(header.kid);
        if (!key) throw new TokenError("token signed by an unknown key; fetch a new one");
        return key;
      };
      const { payload } = await jwtVerify(token, keyFor, {
        algorithms: [TOKEN_ALGORITHM],
        issuer: this.settings.issuer,
        audience: this.settings.service,
        clockTolerance: 5,
        currentDate: new Date(this.now()),
        requiredClaims: ["exp", "iat"],
      });
      if (payload.use !== use) throw new TokenError(`not an ${use} token`);
      return payload;
    } catch (err) {
      if (err instanceof TokenError) throw err;
      throw new TokenError(`invalid token: ${err instanceof Error ? err.message : "unverifiable"}`);
    }
  }
}

/** The configured lifetime, shortened to `max` (at least 1 s) when given. */
function capped(ttl: number, max: number | undefined): number {
  return max === undefined ? ttl : Math.max(1, Math.min(ttl, Math.floor(max)));
}

function expiry(exp: unknown): Date {
  return new Date(typeof exp === "number" ? exp * 1000 : 0);
}

function parseAccessClaim(value: unknown): AccessClaim[] {
  if (!Array.isArray(value)) throw new TokenError("token has no access claim");
  return value.map((entry) => {
    const e = entry as Record<string, unknown>;
    if (
      typeof e.type !== "string" ||
      typeof e.name !== "string" ||
      !Array.isArray(e.actions) ||
      !e.actions.every((a) => typeof a === "string")
    ) {
      throw new TokenError("token has a malformed access claim");
    }
    return { type: e.type, name: e.name, actions: e.actions as string[] };
  });
}
