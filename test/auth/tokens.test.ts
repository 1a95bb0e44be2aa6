// Token edge cases: wrong signature, expired, wrong audience/issuer, `alg: none`, a refresh
// token used as an access token, tampered claims; and scope parsing (malformed strings).
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseScope, parseScopes } from "../../src/auth/scope.js";
import { SigningKey, TokenService } from "../../src/auth/tokens.js";

const settings = {
  issuer: "berth",
  service: "berth",
  accessTtlSeconds: 300,
  refreshTtlSeconds: 3600,
};
const alice = {
  name: "alice",
  kind: "user" as const,
  isAdmin: false,
  id: "0b9c6f1e-alice",
  generation: "0",
};
const pullPush = [{ type: "repository", name: "team/app", actions: ["pull", "push"] }];

let dir: string;
let key: SigningKey;
let tokens: TokenService;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-tokens-"));
  key = await SigningKey.loadOrCreate(dir);
  tokens = new TokenService(key, settings);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("signing key", () => {
  it("is generated once, kept private, and reloaded", async () => {
    const file = path.join(dir, "token-signing-key.pem");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = await SigningKey.loadOrCreate(dir);
    expect(again.kid).toBe(key.kid);
    expect(await readFile(file, "utf8")).toContain("PRIVATE KEY");
  });
});

describe("access tokens", () => {
  it("round-trip subject and access claim", async () => {
    const issued = await tokens.issueAccess(alice, pullPush);
    expect(issued.expiresIn).toBe(300);
    const verified = await tokens.verifyAccess(issued.token);
    expect(verified.subject).toEqual(alice);
    expect(verified.access).toEqual(pullPush);
    expect(verified.anonymous).toBe(false);
  });

  it("rejects a token signed by another key", async () => {
    const otherDir = await mkdtemp(path.join(os.tmpdir(), "berth-tokens-other-"));
    const other = new TokenService(await SigningKey.loadOrCreate(otherDir), settings);
    const forged = await other.issueAccess(alice, pullPush);
    await expect(tokens.verifyAccess(forged.token)).rejects.toThrow(/invalid token/);
    await rm(otherDir, { recursive: true, force: true });
  });

  it("rejects an expired token", async () => {
    const past = new TokenService(key, settings, () => Date.now() - 3600_000);
    const old = await past.issueAccess(alice, pullPush);
    await expect(tokens.verifyAccess(old.token)).rejects.toThrow(/exp/);
  });

  it("rejects a wrong audience and a wrong issuer", async () => {
    const otherAud = new TokenService(key, { ...settings, service: "elsewhere" });
    await expect(
      tokens.verifyAccess((await otherAud.issueAccess(alice, pullPush)).token),
    ).rejects.toThrow(/aud/);
    const otherIss = new TokenService(key, { ...settings, issuer: "mallory" });
    await expect(
      tokens.verifyAccess((await otherIss.issueAccess(alice, pullPush)).token),
    ).rejects.toThrow(/iss/);
  });

  it("rejects alg: none", async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = new UnsecuredJWT({ access: pullPush, use: "access", kind: "user" })
      .setIssuer("berth")
      .setAudience("berth")
      .setSubject("alice")
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .encode();
    await expect(tokens.verifyAccess(unsigned)).rejects.toThrow(/invalid token/);
  });

  it("rejects HS256 signed with the public key (algorithm confusion)", async () => {
    const pem = key.publicKey.export({ type: "spki", format: "pem" }).toString();
    const now = Math.floor(Date.now() / 1000);
    const confused = await new SignJWT({ access: pullPush, use: "access", kind: "user" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("berth")
      .setAudience("berth")
      .setSubject("alice")
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(new TextEncoder().encode(pem));
    await expect(tokens.verifyAccess(confused)).rejects.toThrow(/invalid token/);
  });

  it("rejects a token whose claims were edited to escalate scope", async () => {
    const issued = await tokens.issueAccess(alice, [
      { type: "repository", name: "team/app", actions: ["pull"] },
    ]);
    const [header, payload, signature] = issued.token.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    claims.access[0].actions = ["pull", "push", "delete"];
    claims.adm = true;
    const tampered = [
      header,
      Buffer.from(JSON.stringify(claims)).toString("base64url"),
      signature,
    ].join(".");
    await expect(tokens.verifyAccess(tampered)).rejects.toThrow(/invalid token/);
  });

  it("rejects a token signed with a different algorithm's key of ours", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const now = Math.floor(Date.now() / 1000);
    const rs = await new SignJWT({ access: pullPush, use: "access", kind: "user" })
      .setProtectedHeader({ alg: "RS256" })
      .setIssuer("berth")
      .setAudience("berth")
      .setSubject("alice")
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(privateKey);
    await expect(tokens.verifyAccess(rs)).rejects.toThrow(/invalid token/);
  });

  it("does not accept a refresh token as an access token, nor the reverse", async () => {
    const refresh = await tokens.issueRefresh(alice);
    await expect(tokens.verifyAccess(refresh.token)).rejects.toThrow(/not an access token/);
    const access = await tokens.issueAccess(alice, pullPush);
    await expect(tokens.verifyRefresh(access.token)).rejects.toThrow(
      /not an refresh token|refresh/,
    );
    expect(await tokens.verifyRefresh(refresh.token)).toEqual({
      name: "alice",
      kind: "user",
      accountId: alice.id,
      generation: alice.generation,
      id: refresh.id,
    });
  });

  it("rejects garbage", async () => {
    await expect(tokens.verifyAccess("not.a.jwt")).rejects.toThrow(/invalid token/);
    await expect(tokens.verifyAccess("")).rejects.toThrow(/invalid token/);
  });
});

describe("scope parsing", () => {
  it("parses repository and catalog scopes, with registry host ports in names refused", () => {
    expect(parseScope("repository:team/app:pull,push")).toEqual({
      ok: true,
      scope: { type: "repository", name: "team/app", actions: ["pull", "push"] },
    });
    expect(parseScope("repository:team/app:*")).toMatchObject({
      ok: true,
      scope: { actions: ["*"] },
    });
    expect(parseScope("registry:catalog:*")).toMatchObject({
      ok: true,
      scope: { type: "registry", name: "catalog" },
    });
    expect(parseScope("repository(plugin):team/app:pull")).toMatchObject({
      ok: true,
      scope: { type: "repository" },
    });
  });

  it("reports malformed scopes", () => {
    for (const bad of [
      "",
      "repository",
      "repository:team/app",
      "repository::pull",
      ":team/app:pull",
      "repository:Team/App:pull",
      "repository:team/app:pull;push",
      "repository:team//app:pull",
      "repository:../etc:pull",
      "REPO:team/app:pull",
    ]) {
      expect(parseScope(bad).ok, bad).toBe(false);
    }
  });

  it("splits space-separated scopes, merges duplicates, and collects errors", () => {
    const { scopes, errors } = parseScopes([
      "repository:a/b:pull repository:c/d:push",
      "repository:a/b:push",
      "bogus",
    ]);
    expect(scopes).toEqual([
      { type: "repository", name: "a/b", actions: ["pull", "push"] },
      { type: "repository", name: "c/d", actions: ["push"] },
    ]);
    expect(errors).toHaveLength(1);
  });
});
