// Tag listing (sorted, paginated by `last`) and tag deletion.
import type { Kysely } from "kysely";
import type { Database } from "./database.js";

/** Tags of the repository after `last` (exclusive) in byte order, at most `limit`. */
export async function listTags(
  db: Kysely<Database>,
  repository: string,
  last: string | undefined,
  limit: number,
): Promise<string[]> {
  let query = db
    .selectFrom("tags as t")
    .innerJoin("repositories as r", "r.id", "t.repository_id")
    .select("t.name")
    .where("r.name", "=", repository)
    .orderBy("t.name")
    .limit(limit);
  if (last !== undefined) query = query.where("t.name", ">", last);
  const rows = await query.execute();
  return rows.map((r) => r.name);
}

/** Removes a tag (the manifest stays); false when the tag did not exist. */
export async function deleteTag(
  db: Kysely<Database>,
  repository: string,
  tag: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom("tags")
    .where("name", "=", tag)
    .where("repository_id", "=", (eb) =>
      eb.selectFrom("repositories").select("id").where("name", "=", repository),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
