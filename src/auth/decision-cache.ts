// Remembers, for a short while, which (credentials, registry target) pairs were ALLOWED, so
// a client sending the same Bearer token or Basic credentials on every request pays the JWT
// signature check, the password/secret check and the permission lookups once per interval
// instead of once per request (issue 20). Only allowed decisions are kept: every refusal
// goes through the full check again (throttling, audit, challenges stay exactly as they are).
//
// What it must never do: let a decision outlive the facts it was made from.
// - Any account or permission change in this process calls clear() (Authorizer.invalidate),
//   synchronously, before the changing request answers: the next request is checked afresh.
// - A check that was in flight while clear() ran must not store its (possibly stale) answer:
//   callers read `generation` before they start and pass it to set(), which drops the entry
//   when a clear() happened in between.
// - An entry lives at most `ttlMs` (ACCOUNT_CACHE_MS, 2 s: the bound docs/security.md gives
//   for changes made by another replica or by `berth admin --data`), and never past the
//   token's expiry or a robot's expiry (callers pass those as `until`).
// - Keys hold the credentials' identity exactly (the whole token; an HMAC of Basic username
//   and password under a per-process random key, so no password is kept) and the target's
//   repository and actions: a decision never serves another principal or repository.
// Bounded: at most `maxEntries` entries (cleared when full; they are cheap to rebuild).
import type { AccessDecision, AccessTarget } from "./access.js";

export type AllowedDecision = Extract<AccessDecision, { allowed: true }>;

interface Entry {
  readonly decision: AllowedDecision;
  /** Until when (ms since epoch) the entry may answer. */
  readonly until: number;
  /** For Basic credentials: the username, so each hit still passes the login throttle. */
  readonly username: string | undefined;
}

export interface CachedDecision {
  readonly decision: AllowedDecision;
  readonly username: string | undefined;
}

export class DecisionCache {
  private readonly entries = new Map<string, Entry>();
  private clears = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 4096,
  ) {}

  /** Read before a check starts; pass to set() so a clear() during the check wins. */
  get generation(): number {
    return this.clears;
  }

  get(key: string): CachedDecision | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Keeps an allowed decision until `until` (capped at now + ttlMs), unless clear() ran since
   * `generation` was read.
   */
  set(
    key: string,
    generation: number,
    decision: AllowedDecision,
    until: number,
    username?: string,
  ): void {
    if (generation !== this.clears) return;
    const now = this.now();
    const end = Math.min(until, now + this.ttlMs);
    if (end <= now) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { decision, until: end, username });
  }

  clear(): void {
    this.clears++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The part of a cache key that names the target: kind, repository and actions. */
export function targetKey(target: AccessTarget): string {
  if (target.kind !== "repository") return target.kind;
  return target.actions.length === 1
    ? `r\u0000${target.repository}\u0000${target.actions[0]}`
    : `r\u0000${target.repository}\u0000${target.actions.join(",")}`;
}
