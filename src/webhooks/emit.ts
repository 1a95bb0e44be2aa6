// How features other than the registry core tell webhooks (and every other outbox consumer)
// that something happened: scan finished, quota warning, replication finished, retention
// run. The event goes into the outbox in the caller's transaction when one is given (so it
// exists exactly when the change committed), else in a transaction of its own.
//
//   await emitEvent(db, "scan.completed", "team/app", { digest, summary: { critical: 0 } });
//   await emitEvent(trx, "replication.finished", "team", { rule, status, artifacts, bytes });
//
// `repository` is the repository concerned (or the project name for project-wide events);
// the project is its first path component. Never: call webhooks directly.
import type { Kysely } from "kysely";
import {
  appendOutbox,
  type Database,
  type OutboxActor,
  type OutboxEventMap,
  type OutboxEventType,
  SYSTEM_ACTOR,
} from "../meta/index.js";

export async function emitEvent<K extends OutboxEventType>(
  db: Kysely<Database>,
  type: K,
  repository: string,
  data: OutboxEventMap[K],
  actor: OutboxActor = SYSTEM_ACTOR,
): Promise<void> {
  if (db.isTransaction) {
    await appendOutbox(db, type, repository, actor, data);
    return;
  }
  await db.transaction().execute((trx) => appendOutbox(trx, type, repository, actor, data));
}
