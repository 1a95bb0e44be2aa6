// Storage quotas: the pure verdict, the scopes a push is counted in (its repository, its
// project, the whole registry: each may carry a limit), the in-process reservations that make
// concurrent checks exact, and the usage facts read from meta/ (recomputed from the rows on
// every check, never a counter that could drift: see meta/quota-limits.ts).
//
// Concurrency: the registry commits a blob or manifest only after admission returns, so two
// pushes checked at the same moment would both see the old usage and could together exceed a
// limit. Checks therefore run one at a time per scope (locks taken in the fixed order system →
// project → repository, so they cannot deadlock), and bytes admitted stay reserved (counted
// as used) until the registry reports the commit (`blob.committed` / `manifest.pushed`). A
// digest reserved by one push costs nothing more to a concurrent push of the same digest. A
// reservation whose commit never comes lapses after RESERVATION_TTL_MS. Reservations live in
// this process: with several replicas, pushes landing on different replicas at the same
// instant can still overshoot by up to one push each (see docs/policies.md).
import type { Kysely } from "kysely";
import type { Database } from "../meta/database.js";
import {
  findRepositoryId,
  getQuotaLimit,
  projectRepositories,
  storageHolds,
  storageUsage,
} from "../meta/index.js";

export function formatQuotaBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Where usage is counted. */
export type QuotaScope =
  | { kind: "system" }
  | { kind: "project"; project: string }
  | { kind: "repository"; repository: string };

export function scopeKey(scope: QuotaScope): string {
  if (scope.kind === "system") return "system";
  return scope.kind === "project" ? `project:${scope.project}` : `repository:${scope.repository}`;
}

export function scopeLabel(scope: QuotaScope): string {
  if (scope.kind === "system") return "the registry";
  return scope.kind === "project"
    ? `project "${scope.project}"`
    : `repository "${scope.repository}"`;
}

export interface QuotaFacts {
  readonly scope: QuotaScope;
  readonly limit: number;
  /** Bytes the scope holds plus bytes admitted for it and not committed yet. */
  readonly used: number;
  /** Bytes the push adds (0 when the scope already holds the digest). */
  readonly size: number;
}

/** The pure evaluator: undefined to admit, else the refusal naming the scope and the limit. */
export function quotaVerdict(f: QuotaFacts): string | undefined {
  if (f.used + f.size <= f.limit) return undefined;
  return (
    `quota exceeded: ${scopeLabel(f.scope)} may store ${formatQuotaBytes(f.limit)} ` +
    `(${f.limit} bytes); ${f.used} bytes are used and this push needs ${f.size} more`
  );
}

/** How long admitted-but-uncommitted bytes stay reserved if no commit is reported. */
export const RESERVATION_TTL_MS = 10 * 60 * 1000;

interface Reservation {
  readonly digest: string;
  readonly bytes: number;
  readonly expires: number;
}

/** Per-scope serialization of quota checks and the bytes admitted but not yet committed. */
export class QuotaReservations {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly held = new Map<string, Reservation[]>();

  constructor(
    private readonly ttlMs = RESERVATION_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs `fn` after every earlier call for the same key has finished. */
  async exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    let done: () => void = () => {};
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail = previous.then(() => mine);
    this.queues.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      done();
      if (this.queues.get(key) === tail) this.queues.delete(key);
    }
  }

  /** Live reservations of a key (expired ones are dropped). */
  private live(key: string): Reservation[] {
    const now = this.now();
    const list = (this.held.get(key) ?? []).filter((r) => r.expires > now);
    if (list.length === 0) this.held.delete(key);
    else this.held.set(key, list);
    return list;
  }

  /** Whether some in-flight push already reserved this digest under the key. */
  has(key: string, digest: string): boolean {
    return this.live(key).some((r) => r.digest === digest);
  }

  /** The key's reserved digests with their sizes, each digest once. */
  pending(key: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.live(key)) out.set(r.digest, r.bytes);
    return out;
  }

  /** Drops every reservation of `digest`: the metadata counts it now. */
  forget(key: string, digest: string): void {
    const list = this.live(key).filter((r) => r.digest !== digest);
    if (list.length === 0) this.held.delete(key);
    else this.held.set(key, list);
  }

  reserve(key: string, digest: string, bytes: number): void {
    const list = this.live(key);
    list.push({ digest, bytes, expires: this.now() + this.ttlMs });
    this.held.set(key, list);
  }

  /** One reservation of `digest` has been committed (or abandoned). */
  release(key: string, digest: string): void {
    const list = this.held.get(key);
    if (!list) return;
    const i = list.findIndex((r) => r.digest === digest);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.held.delete(key);
  }
}

/** Usage and limits of the scopes. */
export interface StorageAccounting {
  usage(scope: QuotaScope): Promise<number>;
  holds(scope: QuotaScope, digest: string): Promise<boolean>;
  /** The limit stored for a repository or the system (project limits live on the project). */
  limit(scope: Exclude<QuotaScope, { kind: "project" }>): Promise<number | null>;
}

/** Usage and limits of the scopes, read from meta/. */
export class MetaStorageAccounting implements StorageAccounting {
  constructor(private readonly db: Kysely<Database>) {}

  private async ids(scope: QuotaScope): Promise<number[] | undefined> {
    if (scope.kind === "system") return undefined;
    const names =
      scope.kind === "project"
        ? await projectRepositories(this.db, scope.project)
        : [scope.repository];
    const ids: number[] = [];
    for (const name of names) {
      const id = await findRepositoryId(this.db, name);
      if (id !== undefined) ids.push(Number(id));
    }
    return ids;
  }

  async usage(scope: QuotaScope): Promise<number> {
    return storageUsage(this.db, await this.ids(scope));
  }

  async holds(scope: QuotaScope, digest: string): Promise<boolean> {
    return storageHolds(this.db, await this.ids(scope), digest);
  }

  /** The limit stored for a repository or the system (project limits live on the project). */
  async limit(scope: Exclude<QuotaScope, { kind: "project" }>): Promise<number | null> {
    return scope.kind === "system"
      ? getQuotaLimit(this.db, "system", "")
      : getQuotaLimit(this.db, "repository", scope.repository);
  }
}

/** Checks one push of `digest` (`size` bytes) against every limited scope, reserving on success. */
export class QuotaGate {
  readonly reservations: QuotaReservations;

  constructor(
    private readonly accounting: StorageAccounting,
    reservations = new QuotaReservations(),
  ) {
    this.reservations = reservations;
  }

  /** The scopes a push to `repository` counts in, outermost first. */
  static scopesOf(project: string, repository: string): QuotaScope[] {
    return [{ kind: "system" }, { kind: "project", project }, { kind: "repository", repository }];
  }

  /** Throws a DENIED-worthy message (via `refuse`) when a limit would be exceeded. */
  async admit(
    project: { name: string; quotaBytes: number | null },
    repository: string,
    digest: string,
    size: number,
    refuse: (message: string) => Error,
  ): Promise<void> {
    const limited: { scope: QuotaScope; limit: number }[] = [];
    for (const scope of QuotaGate.scopesOf(project.name, repository)) {
      const limit =
        scope.kind === "project" ? project.quotaBytes : await this.accounting.limit(scope);
      if (limit !== null) limited.push({ scope, limit });
    }
    const check = async (i: number): Promise<void> => {
      if (i < limited.length) {
        await this.reservations.exclusive(scopeKey(limited[i]!.scope), () => check(i + 1));
        return;
      }
      for (const { scope, limit } of limited) {
        const key = scopeKey(scope);
        if (await this.accounting.holds(scope, digest)) continue;
        // Admitted for a concurrent push that has not committed yet: counted once.
        if (this.reservations.has(key, digest)) continue;
        const used = (await this.accounting.usage(scope)) + (await this.pendingBytes(scope));
        const reason = quotaVerdict({ scope, limit, used, size });
        if (reason) throw refuse(reason);
      }
      for (const { scope } of limited) this.reservations.reserve(scopeKey(scope), digest, size);
    };
    await check(0);
  }

  /** The registry committed `digest` to `repository`: its reservations are released. */
  committed(project: string, repository: string, digest: string): void {
    for (const scope of QuotaGate.scopesOf(project, repository))
      this.reservations.release(scopeKey(scope), digest);
  }

  /**
   * Bytes admitted but not yet counted by the metadata. A reserved digest the scope already
   * holds is committed (its event may not have arrived yet) and counts through the metadata.
   */
  private async pendingBytes(scope: QuotaScope): Promise<number> {
    const key = scopeKey(scope);
    let total = 0;
    for (const [digest, bytes] of this.reservations.pending(key)) {
      if (await this.accounting.holds(scope, digest)) this.reservations.forget(key, digest);
      else total += bytes;
    }
    return total;
  }
}
