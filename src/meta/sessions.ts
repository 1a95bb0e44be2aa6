// Browser sessions of the management UI (table `sessions`): create, look up by the hashed
// cookie, list and delete per user. Rows only; who may do what is decided in auth/ and api/.
// Never sees a cookie value: ids are sha256 hex digests of it.
import type { Kysely } from "kysely";
import type { AuthTables } from "./auth-schema.js";

export interface SessionRow {
  /** sha256 hex of the cookie value. */
  readonly idHash: string;
  readonly userId: string;
  readonly csrfToken: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly remoteAddress: string | null;
}

type Db = Kysely<AuthTables>;

export async function insertSession(
  db: Db,
  s: Omit<SessionRow, "createdAt"> & { createdAt?: string },
): Promise<void> {
  await db
    .insertInto("sessions")
    .values({
      id: s.idHash,
      user_id: s.userId,
      csrf_token: s.csrfToken,
      created_at: s.createdAt ?? new Date().toISOString(),
      expires_at: s.expiresAt,
      remote_address: s.remoteAddress,
    })
    .execute();
}

export async function findSessionRow(db: Db, idHash: string): Promise<SessionRow | undefined> {
  const row = await db
    .selectFrom("sessions")
    .selectAll()
    .where("id", "=", idHash)
    .executeTakeFirst();
  return row ? toRow(row) : undefined;
}

export async function listSessionRows(db: Db, userId: string): Promise<SessionRow[]> {
  const rows = await db
    .selectFrom("sessions")
    .selectAll()
    .where("user_id", "=", userId)
    .orderBy("created_at")
    .execute();
  return rows.map(toRow);
}

export async function deleteSessionRow(db: Db, idHash: string): Promise<boolean> {
  const r = await db.deleteFrom("sessions").where("id", "=", idHash).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Deletes a user's sessions (all but `keepIdHash`, when given); returns how many. */
export async function deleteUserSessions(
  db: Db,
  userId: string,
  keepIdHash?: string,
): Promise<number> {
  let q = db.deleteFrom("sessions").where("user_id", "=", userId);
  if (keepIdHash !== undefined) q = q.where("id", "!=", keepIdHash);
  const r = await q.executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function deleteExpiredSessionRows(db: Db, now: string): Promise<void> {
  await db.deleteFrom("sessions").where("expires_at", "<", now).execute();
}

function toRow(row: {
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
  remote_address: string | null;
}): SessionRow {
  return {
    idHash: row.id,
    userId: row.user_id,
    csrfToken: row.csrf_token,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    remoteAddress: row.remote_address,
  };
}
