// The audit log writer: who did what, to what, when, from where, with what outcome. Writes
// never fail the operation being audited (a failed write is logged to the operator); the
// detail field never carries secrets — callers pass only names and ids.
import type { Principal } from "./access.js";
import type { AuthStore } from "./store.js";

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

export class AuditLog {
  constructor(
    private readonly store: AuthStore,
    private readonly log: OperatorLog,
  ) {}

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
      await append({
        actor: entry.actor.name,
        actorKind: entry.actor.kind,
        action: entry.action,
        resourceType: entry.resourceType,
        resource: entry.resource,
        project: entry.project ?? null,
        remoteAddress: entry.remoteAddress ?? null,
        outcome: entry.outcome ?? "success",
        detail: entry.detail ? JSON.stringify(entry.detail) : null,
      });
    } catch (err) {
      this.log.error({ err, action: entry.action }, "could not write audit record");
    }
  }
}
