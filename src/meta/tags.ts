// Tag listing (sorted, paginated by `last`) and tag deletion.
import { type Kysely, sql } from "kysely";
import type { Database } from "./database.js";
import { dialectOf, jsonTextArray } from "./dialect.js";
import { appendOutbox, type OutboxActor, SYSTEM_ACTOR } from "./outbox.js";
import { PreparedQuery } from "./prepared.js";
import { type TrashMove, trashTag } from "./trash.js";

/** One page of a repository's tags, as the JSON array text the response embeds. */
export interface TagPage {
  /** `["a","b",…]`: the tags after `last` in byte order. */
  json: string;
  count: number;
  /** The page's last tag (the next page's `last`); undefined for an empty page. */
  last: string | undefined;
  /** Whether tags follow this page. */
  more: boolean;
}

/**
 * Every tag sorts after "" (tags are never empty), so one prepared query serves the first
 * page and the ones after. The names leave the database as one JSON string.
 */
const TAG_PAGE = new PreparedQuery<
  { json: string; count: number; last: string | null },
  { repository: string; after: string; limit: number }
>(["repository", "after", "limit"], (db, p) =>
  db
    .selectFrom((eb) =>
      eb
        .selectFrom("tags as t")
        .innerJoin("repositories as r", "r.id", "t.repository_id")
        .select("t.name")
        .where("r.name", "=", p.repository)
        .where("t.name", ">", p.after)
        .orderBy("t.name")
        .limit(sql<number>`${p.limit}`)
        .as("page"),
    )
    .select((eb) => [
      jsonTextArray(dialectOf(db), eb.ref("page.name")).as("json"),
      eb.fn.countAll<number>().as("count"),
      eb.fn.max("page.name").as("last"),
    ]),
);

const TAG_AFTER = new PreparedQuery<{ name: string }, { repository: string; after: string }>(
  ["repository", "after"],
  (db, p) =>
    db
      .selectFrom("tags as t")
      .innerJoin("repositories as r", "r.id", "t.repository_id")
      .select("t.name")
      .where("r.name", "=", p.repository)
      .where("t.name", ">", p.after)
      .limit(1),
);

/** At most `limit` (≥ 1) tags of the repository after `last` (exclusive), in byte order. */
export async function listTagPage(
  db: Kysely<Database>,
  repository: string,
  last: string | undefined,
  limit: number,
): Promise<TagPage> {
  const row = await TAG_PAGE.first(db, { repository, after: last ?? "", limit });
  const count = Number(row?.count ?? 0);
  const pageLast = row?.last ?? undefined;
  const more =
    count === limit &&
    pageLast !== undefined &&
    (await TAG_AFTER.first(db, { repository, after: pageLast })) !== undefined;
  return { json: row?.json ?? "[]", count, last: pageLast, more };
}

/** Tags of the repository after `last` (exclusive) in byte order, at most `limit`. */
export async function listTags(
  db: Kysely<Database>,
  repository: string,
  last: string | undefined,
  limit: number,
): Promise<string[]> {
  if (limit < 1) return [];
  return JSON.parse((await listTagPage(db, repository, last, limit)).json) as string[];
}

/**
 * Removes a tag (the manifest stays), with a `tag.deleted` outbox event in the same
 * transaction; undefined when the tag did not exist. With `trash`, the tag becomes a trash
 * entry in the same transaction (its id is returned).
 */
export async function deleteTag(
  db: Kysely<Database>,
  repository: string,
  tag: string,
  actor: OutboxActor = SYSTEM_ACTOR,
  trash?: TrashMove,
): Promise<{ trashId?: number } | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("tags as t")
      .innerJoin("repositories as r", "r.id", "t.repository_id")
      .innerJoin("manifests as m", "m.id", "t.manifest_id")
      .select(["t.repository_id", "m.digest"])
      .where("r.name", "=", repository)
      .where("t.name", "=", tag)
      .executeTakeFirst();
    if (!row) return undefined;
    const result = await trx
      .deleteFrom("tags")
      .where("name", "=", tag)
      .where("repository_id", "=", row.repository_id)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) return undefined;
    const trashId =
      trash === undefined
        ? undefined
        : await trashTag(trx, repository, tag, row.digest, trash, actor);
    await appendOutbox(trx, "tag.deleted", repository, actor, { tag });
    return trashId !== undefined ? { trashId } : {};
  });
}
