// The audit log writer: who did what, to what, when, from where, with what outcome. Writes
// never fail the operation being audited (a failed write is logged to the operator); the
// detail field never carries secrets — callers pass only names and ids.
//
// Pull records (notePull, on every manifest GET) are batched: kept in a bounded buffer and
// written in one transaction per interval (audit-buffer.ts; `auth.pullAuditFlushInterval`,
// 0 = one insert per pull as before). flush() writes them before any audit query of this
// process, so reading the log after a pull sees it; close() writes them on shutdown. A
// SIGKILL loses at most the last interval of pull records. Every other record is written
// at once.
import type { Principal } from "./access.js";
import { AuditBuffer } from "./audit-buffer.js";
import type { AuditEntry, AuthStore } from "./store.js";

export interface AuditRecord {
  readonly actor: Pick<Principal, "name" | "kind">;
  /** e.g. push, pull, delete, login, create, update, member.add … */
  readonly action: string;
  readonly resourceType: string;
  readonly resource: string;
  readonly project?: string | null;
  readonly remoteAddress?: string | null;
  readonly outcome?: "success" | "failure";
  readonly detail?: Record<string, unknown>;
}

export interface OperatorLog {
  error(obj: object, msg: string): void;
}

type AuditRow = Omit<AuditEntry, "id">;

export interface AuditLogOptions {
  /** How long pull records wait to be written together (ms); 0 = each at once. */
  readonly pullFlushMs?: number;
  /** Pull records that trigger a write before the interval ends. */
  readonly pullBatchSize?: number;
  /** Most pull records held in memory. */
  readonly pullMaxPending?: number;
}

export class AuditLog {
  private readonly pulls: AuditBuffer<AuditRow> | undefined;

  constructor(
    private readonly store: AuthStore,
    private readonly log: OperatorLog,
    options: AuditLogOptions = {},
  ) {
    const intervalMs = options.pullFlushMs ?? 0;
    this.pulls =
      intervalMs > 0
        ? new AuditBuffer<AuditRow>((rows) => store.appendAuditBatch(rows), {
            intervalMs,
            ...(options.pullBatchSize ? { batchSize: options.pullBatchSize } : {}),
            ...(options.pullMaxPending ? { maxPending: options.pullMaxPending } : {}),
            onError: (err, lost) =>
              log.error({ err, action: "pull", lost }, "could not write pull audit records"),
            onDropped: (count) =>
              log.error(
                { action: "pull", dropped: count },
                "pull audit records dropped: the buffer was full (database too slow)",
              ),
          })
        : undefined;
  }

  /**
   * A pull record (the hot path): batched when `pullFlushMs` > 0, else as note(). Its time
   * is the time of the call, whenever it is written.
   */
  notePull(entry: AuditRecord): void {
    if (this.pulls === undefined) {
      this.note(entry);
      return;
    }
    this.pulls.add({ ...rowOf(entry), at: new Date().toISOString() });
  }

  /** Writes the batched pull records now (before reading the log, and on shutdown). */
  async flush(): Promise<void> {
    await this.pulls?.flush();
  }

  /** Flushes and stops batching: later pull records are written one by one. */
  async close(): Promise<void> {
    await this.pulls?.close();
  }

  async record(entry: AuditRecord): Promise<void> {
    await this.write(entry, false);
  }

  /**
   * Fire-and-forget variant for hot paths (every pull): a relaxed commit, so a pull never
   * waits for, nor pays, an fsync of the database (it survives a killed process; a power
   * failure may lose the last records, as it may lose notes not yet written at all).
   */
  note(entry: AuditRecord): void {
    void this.write(entry, true);
  }

  private async write(entry: AuditRecord, relaxed: boolean): Promise<void> {
    const append = relaxed
      ? this.store.appendAuditRelaxed.bind(this.store)
      : this.store.appendAudit.bind(this.store);
    try {
      await append(rowOf(entry));
    } catch (err) {
      this.log.error({ err, action: entry.action }, "could not write audit record");
    }
  }
}

function rowOf(entry: AuditRecord): Omit<AuditRow, "at"> {
  return {
    actor: entry.actor.name,
    actorKind: entry.actor.kind,
    action: entry.action,
    resourceType: entry.resourceType,
    resource: entry.resource,
    project: entry.project ?? null,
    remoteAddress: entry.remoteAddress ?? null,
    outcome: entry.outcome ?? "success",
    detail: entry.detail ? JSON.stringify(entry.detail) : null,
  };
}
