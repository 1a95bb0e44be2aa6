// Repository rows: created on first use (a committed blob or a pushed manifest), listed for
// the catalog in name order (byte order: SQLite's BINARY collation; PostgreSQL needs
// COLLATE "C", set where that dialect is added).
import type { Kysely } from "kysely";
import type { Database } from "./database.js";

/** The repository's id, creating the row if needed. Call inside a transaction. */
export async function ensureRepository(db: Kysely<Database>, name: string): Promise<number> {
  const existing = await findRepositoryId(db, name);
  if (existing !== undefined) return existing;
  await db
    .insertInto("repositories")
    .values({ name, created_at: Date.now() })
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
  const id = await findRepositoryId(db, name);
  if (id === undefined) throw new Error(`repository ${name} vanished while being created`);
  return id;
}

export async function findRepositoryId(
  db: Kysely<Database>,
  name: string,
): Promise<number | undefined> {
  const row = await db
    .selectFrom("repositories")
    .select("id")
    .where("name", "=", name)
    .executeTakeFirst();
  return row?.id;
}

/** Repository names after `after` (exclusive), sorted, at most `limit`. */
export async function listRepositories(
  db: Kysely<Database>,
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  let query = db.selectFrom("repositories").select("name").orderBy("name").limit(limit);
  if (after !== undefined) query = query.where("name", ">", after);
  const rows = await query.execute();
  return rows.map((r) => r.name);
}
