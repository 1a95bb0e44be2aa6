// Failed-login throttling, per account and per source address. After `maxFailures` failures
// inside `windowMs` the key is locked for `lockMs` (doubling on each further lock, capped).
// While locked, credentials are not even checked. In-memory per process: with N replicas
// the effective limit is N times larger (documented in docs/auth.md).

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

/** Both limits a login attempt is subject to. */
export class LoginThrottle {
  readonly accounts: FailureLimiter;
  readonly addresses: FailureLimiter;

  constructor(now: () => number = Date.now) {
    this.accounts = new FailureLimiter(
      { maxFailures: 5, windowMs: 5 * 60_000, lockMs: 60_000, maxLockMs: 30 * 60_000 },
      now,
    );
    this.addresses = new FailureLimiter(
      { maxFailures: 20, windowMs: 5 * 60_000, lockMs: 60_000, maxLockMs: 30 * 60_000 },
      now,
    );
  }

  /** Milliseconds the attempt must wait, or 0 when it may proceed. */
  blockedFor(account: string, address: string): number {
    return Math.max(this.accounts.lockedFor(account), this.addresses.lockedFor(address));
  }

  failure(account: string, address: string): void {
    this.accounts.recordFailure(account);
    this.addresses.recordFailure(address);
  }

  success(account: string): void {
    this.accounts.recordSuccess(account);
  }
}
