// Who a set of credentials belongs to: database users (argon2id), robot accounts (`robot$…`,
// sha256 of a 256-bit secret), and optionally an htpasswd file (bcrypt) for registry:2
// drop-in use. Enforces the failed-login throttle and reports failures to the audit log.
// Never logs or returns secrets; unknown accounts cost the same time as known ones.
import { createHmac, randomBytes } from "node:crypto";
import type { Principal } from "./access.js";
import type { HtpasswdFile } from "./htpasswd.js";
import { safeEqual, sha256Hex, verifyPassword } from "./passwords.js";
import type { LoginThrottle } from "./rate-limit.js";
import type { AuthStore, Robot, User } from "./store.js";

export const ROBOT_PREFIX = "robot$";

export type Account =
  | { readonly kind: "user"; readonly user: User }
  | { readonly kind: "robot"; readonly robot: Robot }
  /** An htpasswd user: as in registry:2, full access to everything. */
  | { readonly kind: "htpasswd"; readonly username: string };

export type LoginResult =
  | { readonly ok: true; readonly account: Account }
  | {
      readonly ok: false;
      readonly reason: "invalid" | "locked";
      readonly retryAfterSeconds?: number;
    };

export interface LoginFailure {
  readonly username: string;
  readonly remoteAddress: string;
  readonly reason: string;
}

export function accountName(account: Account): string {
  if (account.kind === "user") return account.user.username;
  if (account.kind === "robot") return account.robot.name;
  return account.username;
}

export function principalOf(account: Account | undefined): Principal {
  if (!account) return { name: "anonymous", kind: "anonymous", isAdmin: false };
  if (account.kind === "robot") return { name: account.robot.name, kind: "robot", isAdmin: false };
  if (account.kind === "htpasswd") return { name: account.username, kind: "user", isAdmin: true };
  return { name: account.user.username, kind: "user", isAdmin: account.user.isAdmin };
}

/** A robot may act only while enabled and unexpired. */
export function robotIsActive(robot: Robot, now: number): boolean {
  return !robot.disabled && (robot.expiresAt === null || Date.parse(robot.expiresAt) > now);
}

/**
 * Remembers, for a short while, which (account, password) pairs verified against which
 * stored hash, so clients sending Basic credentials on every request do not pay an argon2
 * verification each time. Keys are HMACs under a per-process random key (no password is
 * kept); an entry only counts while the account's stored hash is unchanged, so a password
 * change takes effect at once.
 */
class VerifiedCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { hash: string; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  private id(username: string, secret: string): string {
    return createHmac("sha256", this.key)
      .update(username)
      .update("\u0000")
      .update(secret)
      .digest("hex");
  }

  has(username: string, secret: string, storedHash: string): boolean {
    const entry = this.entries.get(this.id(username, secret));
    return entry !== undefined && entry.until > this.now() && entry.hash === storedHash;
  }

  add(username: string, secret: string, storedHash: string): void {
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(this.id(username, secret), {
      hash: storedHash,
      until: this.now() + this.ttlMs,
    });
  }
}

export class AccountDirectory {
  private readonly verified: VerifiedCache;

  constructor(
    private readonly store: AuthStore,
    private readonly throttle: LoginThrottle,
    private readonly htpasswd: HtpasswdFile | undefined,
    private readonly onFailure: (failure: LoginFailure) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.verified = new VerifiedCache(60_000, now);
  }

  async login(username: string, secret: string, remoteAddress: string): Promise<LoginResult> {
    const blocked = this.throttle.blockedFor(username, remoteAddress);
    if (blocked > 0) {
      this.onFailure({ username, remoteAddress, reason: "locked" });
      return { ok: false, reason: "locked", retryAfterSeconds: Math.ceil(blocked / 1000) };
    }
    const account = await this.check(username, secret);
    if (!account) {
      this.throttle.failure(username, remoteAddress);
      this.onFailure({ username, remoteAddress, reason: "invalid credentials" });
      return { ok: false, reason: "invalid" };
    }
    this.throttle.success(username);
    return { ok: true, account };
  }

  /** Look an account up by name (for refresh tokens and bearer principals); undefined when gone or inactive. */
  async find(name: string, kind: "user" | "robot"): Promise<Account | undefined> {
    if (kind === "robot") {
      const robot = await this.store.findRobot(name);
      return robot && robotIsActive(robot, this.now()) ? { kind: "robot", robot } : undefined;
    }
    const user = await this.store.findUser(name);
    if (user) return { kind: "user", user };
    if (this.htpasswd && (await this.htpasswd.hashFor(name)))
      return { kind: "htpasswd", username: name };
    return undefined;
  }

  private async check(username: string, secret: string): Promise<Account | undefined> {
    if (username.startsWith(ROBOT_PREFIX)) {
      const stored = await this.store.robotSecretHash(username);
      const ok = safeEqual(sha256Hex(secret), stored ?? "0".repeat(64)) && stored !== undefined;
      if (!ok) return undefined;
      const robot = await this.store.findRobot(username);
      return robot && robotIsActive(robot, this.now()) ? { kind: "robot", robot } : undefined;
    }
    const stored = await this.store.passwordHashOf(username);
    if (stored !== undefined || !this.htpasswd) {
      if (stored !== undefined && this.verified.has(username, secret, stored)) {
        const cached = await this.store.findUser(username);
        return cached ? { kind: "user", user: cached } : undefined;
      }
      if (!(await verifyPassword(stored, secret))) return undefined;
      if (stored !== undefined) this.verified.add(username, secret, stored);
      const user = await this.store.findUser(username);
      return user ? { kind: "user", user } : undefined;
    }
    const hash = await this.htpasswd.hashFor(username);
    if (hash !== undefined && this.verified.has(username, secret, hash))
      return { kind: "htpasswd", username };
    if (!(await verifyPassword(hash, secret))) return undefined;
    if (hash !== undefined) this.verified.add(username, secret, hash);
    return { kind: "htpasswd", username };
  }
}
