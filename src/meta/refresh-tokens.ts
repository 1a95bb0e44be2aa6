// Refresh tokens the token endpoint issued (table `refresh_tokens`), bound to the account's
// id: insert on issue, look up (and touch) on every refresh grant, delete per token or per
// account on revocation, purge when expired. Rows only; the JWT itself is never stored (its
// `jti` is the row id, useless without the signed token).
import type { Kysely } from "kysely";
import type { AuthTables } from "./auth-schema.js";

export type RefreshAccountKind = "user" | "robot";

export interface RefreshTokenRow {
  readonly id: string;
  readonly accountKind: RefreshAccountKind;
  readonly accountId: string;
  readonly accountName: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly lastUsedAt: string | null;
  readonly remoteAddress: string | null;
}

type Db = Kysely<AuthTables>;

export async function insertRefreshToken(
  db: Db,
  t: Omit<RefreshTokenRow, "lastUsedAt">,
): Promise<void> {
  await db
    .insertInto("refresh_tokens")
    .values({
      id: t.id,
      account_kind: t.accountKind,
      account_id: t.accountId,
      account_name: t.accountName,
      created_at: t.createdAt,
      expires_at: t.expiresAt,
      last_used_at: null,
      remote_address: t.remoteAddress,
    })
    .execute();
}

export async function findRefreshToken(db: Db, id: string): Promise<RefreshTokenRow | undefined> {
  const row = await db
    .selectFrom("refresh_tokens")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return row ? toRow(row) : undefined;
}

export async function touchRefreshToken(db: Db, id: string, at: string): Promise<void> {
  await db.updateTable("refresh_tokens").set({ last_used_at: at }).where("id", "=", id).execute();
}

export async function listRefreshTokens(
  db: Db,
  kind: RefreshAccountKind,
  accountId: string,
): Promise<RefreshTokenRow[]> {
  const rows = await db
    .selectFrom("refresh_tokens")
    .selectAll()
    .where("account_kind", "=", kind)
    .where("account_id", "=", accountId)
    .orderBy("created_at")
    .execute();
  return rows.map(toRow);
}

export async function deleteRefreshToken(db: Db, id: string): Promise<boolean> {
  const r = await db.deleteFrom("refresh_tokens").where("id", "=", id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Deletes every refresh token of an account; returns how many there were. */
export async function deleteAccountRefreshTokens(
  db: Db,
  kind: RefreshAccountKind,
  accountId: string,
): Promise<number> {
  const r = await db
    .deleteFrom("refresh_tokens")
    .where("account_kind", "=", kind)
    .where("account_id", "=", accountId)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function deleteExpiredRefreshTokens(db: Db, now: string): Promise<void> {
  await db.deleteFrom("refresh_tokens").where("expires_at", "<", now).execute();
}

function toRow(row: {
  id: string;
  account_kind: string;
  account_id: string;
  account_name: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  remote_address: string | null;
}): RefreshTokenRow {
  return {
    id: row.id,
    accountKind: row.account_kind === "robot" ? "robot" : "user",
    accountId: row.account_id,
    accountName: row.account_name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    remoteAddress: row.remote_address,
  };
}
