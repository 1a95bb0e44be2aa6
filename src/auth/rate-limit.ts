// Failed-login throttling. A FailureLimiter locks a key after `maxFailures` failures inside
// `windowMs` for `lockMs` (doubling on each further lock, capped); while locked, credentials
// are not even checked. LoginThrottle combines three of them so that brute force stays
// expensive without letting anyone lock a victim out (docs/security.md):
// - per (account, source address): 5 failures lock that pair only — the attacker's address,
//   never the owner's;
// - per source address: 20 failures (any accounts) lock the address — password spraying;
// - per account over all addresses: 50 failures in 15 minutes lock the account for addresses
//   that have not signed in to it successfully in the last 30 days — distributed guessing,
//   while the owner's usual addresses keep working.
// Robot secrets are 256-bit random values nobody can guess: a wrong robot secret counts only
// against the source address, so nobody can lock a CI robot out.
// In-memory per process: with N replicas the effective limits are N times larger.

export interface RateLimitOptions {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly lockMs: number;
  readonly maxLockMs: number;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
  locks: number;
}

export class FailureLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `key` may try again; 0 when not locked. */
  lockedFor(key: string): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    return Math.max(0, entry.lockedUntil - this.now());
  }

  recordFailure(key: string): void {
    const t = this.now();
    const entry = this.entries.get(key) ?? { failures: [], lockedUntil: 0, locks: 0 };
    entry.failures = entry.failures.filter((f) => t - f < this.options.windowMs);
    entry.failures.push(t);
    if (entry.failures.length >= this.options.maxFailures) {
      const lock = Math.min(this.options.lockMs * 2 ** entry.locks, this.options.maxLockMs);
      entry.lockedUntil = t + lock;
      entry.locks += 1;
      entry.failures = [];
    }
    this.entries.set(key, entry);
    if (this.entries.size > 100_000) this.prune();
  }

  recordSuccess(key: string): void {
    this.entries.delete(key);
  }

  private prune(): void {
    const t = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.lockedUntil < t && entry.failures.every((f) => t - f >= this.options.windowMs)) {
        this.entries.delete(key);
      }
    }
  }
}

/** How long a successful sign-in keeps an address "known" to an account. */
const KNOWN_ADDRESS_MS = 30 * 24 * 3600_000;
const MAX_KNOWN_ACCOUNTS = 100_000;

/** The limits a login attempt is subject to (see the module comment). */
export class LoginThrottle {
  readonly pairs: FailureLimiter;
  readonly addresses: FailureLimiter;
  readonly accounts: FailureLimiter;
  private readonly known = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number = Date.now) {
    const lock = { lockMs: 60_000, maxLockMs: 30 * 60_000 };
    this.pairs = new FailureLimiter({ maxFailures: 5, windowMs: 5 * 60_000, ...lock }, now);
    this.addresses = new FailureLimiter({ maxFailures: 20, windowMs: 5 * 60_000, ...lock }, now);
    this.accounts = new FailureLimiter({ maxFailures: 50, windowMs: 15 * 60_000, ...lock }, now);
  }

  /** Milliseconds the attempt must wait, or 0 when it may proceed. */
  blockedFor(account: string, address: string, isRobot = false): number {
    const byAddress = this.addresses.lockedFor(address);
    if (isRobot) return byAddress;
    const byAccount = this.isKnown(account, address) ? 0 : this.accounts.lockedFor(account);
    return Math.max(this.pairs.lockedFor(pairKey(account, address)), byAddress, byAccount);
  }

  failure(account: string, address: string, isRobot = false): void {
    this.addresses.recordFailure(address);
    if (isRobot) return;
    this.pairs.recordFailure(pairKey(account, address));
    this.accounts.recordFailure(account);
  }

  success(account: string, address: string): void {
    this.pairs.recordSuccess(pairKey(account, address));
    let addresses = this.known.get(account);
    if (!addresses) {
      if (this.known.size >= MAX_KNOWN_ACCOUNTS) this.known.clear();
      addresses = new Map();
      this.known.set(account, addresses);
    }
    if (addresses.size >= 64) addresses.delete(addresses.keys().next().value as string);
    addresses.delete(address);
    addresses.set(address, this.now());
  }

  private isKnown(account: string, address: string): boolean {
    const at = this.known.get(account)?.get(address);
    return at !== undefined && this.now() - at < KNOWN_ADDRESS_MS;
  }
}

function pairKey(account: string, address: string): string {
  return `${account}\u0000${address}`;
}
