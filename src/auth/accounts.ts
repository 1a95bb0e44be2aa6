// Who a set of credentials belongs to: database users (argon2id), robot accounts (`robot$…`,
// sha256 of a 256-bit secret), and optionally an htpasswd file (bcrypt) for registry:2
// drop-in use. Enforces the failed-login throttle and reports failures to the audit log.
// Also answers, for every token-authenticated request, whether the token's account still
// exists unchanged (same id, same credential generation, still active): from a small cache
// with a short TTL that every account or permission change clears (docs/security.md).
// Never logs or returns secrets; unknown accounts cost the same time as known ones.
import { createHash, createHmac, randomBytes } from "node:crypto";
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
  /** What the secret was checked for: a login, or the current password of a password change. */
  readonly purpose: "login" | "password-change";
}

/** What a token carries about its account, so each request can check it is still current. */
export interface CredentialStamp {
  readonly kind: "user" | "robot";
  /** The account's id (`htpasswd:NAME` for an htpasswd user): never reused by a namesake. */
  readonly id: string;
  /** The account's credential generation when the token was issued. */
  readonly generation: string;
}

/** How long a looked-up account is trusted without asking the database again. */
export const ACCOUNT_CACHE_MS = 2000;
const HTPASSWD_ID = "htpasswd:";
const PASSWORD_CHANGE_KEY = "\u0001password-change:";

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
  private readonly byId = new Map<
    string,
    { at: number; account: Account | undefined; generation: string }
  >();
  /** Counts invalidate() calls: an account read across one is not cached. */
  private clears = 0;

  constructor(
    private readonly store: AuthStore,
    private readonly throttle: LoginThrottle,
    private readonly htpasswd: HtpasswdFile | undefined,
    private readonly onFailure: (failure: LoginFailure) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.verified = new VerifiedCache(60_000, now);
  }

  async login(
    username: string,
    secret: string,
    remoteAddress: string,
    purpose: LoginFailure["purpose"] = "login",
  ): Promise<LoginResult> {
    const isRobot = username.startsWith(ROBOT_PREFIX);
    // The current-password check of a password change has counters of its own: the Basic
    // login that authenticated the same request must not reset them.
    const key = purpose === "login" ? username : `${PASSWORD_CHANGE_KEY}${username}`;
    const blocked = this.throttle.blockedFor(key, remoteAddress, isRobot);
    if (blocked > 0) {
      this.onFailure({ username, remoteAddress, reason: "locked", purpose });
      return { ok: false, reason: "locked", retryAfterSeconds: Math.ceil(blocked / 1000) };
    }
    const account = await this.check(username, secret);
    if (!account) {
      this.throttle.failure(key, remoteAddress, isRobot);
      this.onFailure({ username, remoteAddress, reason: "invalid credentials", purpose });
      return { ok: false, reason: "invalid" };
    }
    this.throttle.success(key, remoteAddress);
    return { ok: true, account };
  }

  /**
   * For a remembered (cached) Basic decision: whether the login throttle lets `username` in
   * from `remoteAddress` right now; if so it counts as a successful sign-in, as login() does.
   * When it does not, the caller runs the full login(), which answers and audits the lock.
   */
  admitRemembered(username: string, remoteAddress: string): boolean {
    if (this.throttle.blockedFor(username, remoteAddress, username.startsWith(ROBOT_PREFIX)) > 0)
      return false;
    this.throttle.success(username, remoteAddress);
    return true;
  }

  /** What to stamp into a token issued to `account`. */
  async stampOf(account: Account): Promise<CredentialStamp> {
    if (account.kind === "user")
      return { kind: "user", id: account.user.id, generation: String(account.user.generation) };
    if (account.kind === "robot")
      return { kind: "robot", id: account.robot.id, generation: String(account.robot.generation) };
    const hash = (await this.htpasswd?.hashFor(account.username)) ?? "";
    return {
      kind: "user",
      id: `${HTPASSWD_ID}${account.username}`,
      generation: createHash("sha256").update(hash).digest("hex").slice(0, 16),
    };
  }

  /**
   * The account a token was issued to, if it still exists, is active and has the same
   * credential generation (password, secret, enablement unchanged since); else undefined.
   * Robots past their expiry are refused at once (checked against the clock on every call).
   */
  async current(stamp: CredentialStamp): Promise<Account | undefined> {
    const { account, generation } = await this.lookup(stamp.kind, stamp.id);
    if (!account || generation !== stamp.generation) return undefined;
    if (account.kind === "robot" && !robotIsActive(account.robot, this.now())) return undefined;
    return account;
  }

  /** An account by id (cached for ACCOUNT_CACHE_MS, cleared by invalidate()); inactive robots included. */
  async findById(kind: "user" | "robot", id: string): Promise<Account | undefined> {
    return (await this.lookup(kind, id)).account;
  }

  private async lookup(
    kind: "user" | "robot",
    id: string,
  ): Promise<{ account: Account | undefined; generation: string }> {
    const key = `${kind}\u0000${id}`;
    const hit = this.byId.get(key);
    if (hit && this.now() - hit.at < ACCOUNT_CACHE_MS) return hit;
    const clears = this.clears;
    const account = await this.load(kind, id);
    const entry = {
      at: this.now(),
      account,
      generation: account ? (await this.stampOf(account)).generation : "",
    };
    // Read across an invalidate(): use it for this call only, never cache it.
    if (clears !== this.clears) return entry;
    if (this.byId.size > 10_000) this.byId.clear();
    this.byId.set(key, entry);
    return entry;
  }

  /** Forget cached accounts (after any account, credential or permission change). */
  invalidate(): void {
    this.clears++;
    this.byId.clear();
  }

  private async load(kind: "user" | "robot", id: string): Promise<Account | undefined> {
    if (kind === "robot") {
      const robot = await this.store.findRobotById(id);
      return robot ? { kind: "robot", robot } : undefined;
    }
    if (id.startsWith(HTPASSWD_ID)) {
      const username = id.slice(HTPASSWD_ID.length);
      // A database user of the same name takes precedence (as at login).
      if (!this.htpasswd || (await this.store.findUser(username))) return undefined;
      return (await this.htpasswd.hashFor(username)) ? { kind: "htpasswd", username } : undefined;
    }
    const user = await this.store.findUserById(id);
    return user && !user.disabled ? { kind: "user", user } : undefined;
  }

  /** Look an account up by name (for refresh tokens and bearer principals); undefined when gone or inactive. */
  async find(name: string, kind: "user" | "robot"): Promise<Account | undefined> {
    if (kind === "robot") {
      const robot = await this.store.findRobot(name);
      return robot && robotIsActive(robot, this.now()) ? { kind: "robot", robot } : undefined;
    }
    const user = await this.store.findUser(name);
    // A disabled user is no account at all (not an htpasswd user of the same name either).
    if (user) return user.disabled ? undefined : { kind: "user", user };
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
        return cached && !cached.disabled ? { kind: "user", user: cached } : undefined;
      }
      if (!(await verifyPassword(stored, secret))) return undefined;
      if (stored !== undefined) this.verified.add(username, secret, stored);
      const user = await this.store.findUser(username);
      return user && !user.disabled ? { kind: "user", user } : undefined;
    }
    const hash = await this.htpasswd.hashFor(username);
    if (hash !== undefined && this.verified.has(username, secret, hash))
      return { kind: "htpasswd", username };
    if (!(await verifyPassword(hash, secret))) return undefined;
    if (hash !== undefined) this.verified.add(username, secret, hash);
    return { kind: "htpasswd", username };
  }
}
