// One row per tag of a repository with what its artifact is (digest, media type, artifact
// type, size including referenced blobs, push/pull times), filtered by a name substring,
// sorted and paginated in SQL: the web UI's tag table, which must stay fast at 10,000 tags.
// Read-only; never touches blob bytes.
import { type Kysely, sql } from "kysely";
import type { Database } from "./database.js";

export type TagRowSort = "name" | "pushedAt" | "pulledAt" | "size";

export interface TagRowQuery {
  /** Tag name contains (case as the database compares LIKE). */
  readonly contains?: string;
  readonly sort: TagRowSort;
  readonly descending: boolean;
  readonly offset: number;
  readonly limit: number;
}

export interface TagRow {
  readonly name: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly artifactType: string | null;
  readonly size: number;
  readonly pushedAt: string;
  readonly pulledAt: string | null;
}

const SORT_COLUMNS = {
  name: "t.name",
  pushedAt: "m.pushed_at",
  pulledAt: "m.pulled_at",
  size: "m.size",
} as const;

/** `%text%` with LIKE's wildcards in `text` escaped (with `\\`), so they match literally. */
function likePattern(text: string): string {
  return `%${text.replace(/[%_\\]/g, "\\$&")}%`;
}

/** A page of the tags of `repository`, with their total; undefined when there is no such repository. */
export async function listTagRows(
  db: Kysely<Database>,
  repository: string,
  query: TagRowQuery,
): Promise<{ items: TagRow[]; total: number } | undefined> {
  const repo = await db
    .selectFrom("repositories")
    .select("id")
    .where("name", "=", repository)
    .executeTakeFirst();
  if (!repo) return undefined;
  let base = db
    .selectFrom("tags as t")
    .innerJoin("manifests as m", "m.id", "t.manifest_id")
    .where("t.repository_id", "=", repo.id);
  if (query.contains) {
    base = base.where(sql<boolean>`t.name like ${likePattern(query.contains)} escape '\\'`);
  }
  const counted = await base
    .select((eb) => eb.fn.countAll<number | string>().as("n"))
    .executeTakeFirst();
  const direction = query.descending ? "desc" : "asc";
  const rows = await base
    .select((eb) => [
      "t.name",
      "m.digest",
      "m.media_type",
      "m.artifact_type",
      "m.size",
      "m.pushed_at",
      "m.pulled_at",
      eb
        .selectFrom("manifest_references as r")
        .innerJoin("blobs as b", "b.digest", "r.digest")
        .select((inner) => inner.fn.sum<number | string>("b.size").as("total"))
        .whereRef("r.manifest_id", "=", "m.id")
        .where("r.kind", "=", "blob")
        .as("blob_bytes"),
    ])
    .orderBy(SORT_COLUMNS[query.sort], direction)
    .orderBy("t.name", direction)
    .limit(query.limit)
    .offset(query.offset)
    .execute();
  return {
    total: Number(counted?.n ?? 0),
    items: rows.map((r) => ({
      name: r.name,
      digest: r.digest,
      mediaType: r.media_type,
      artifactType: r.artifact_type,
      size: Number(r.size) + Number(r.blob_bytes ?? 0),
      pushedAt: new Date(Number(r.pushed_at)).toISOString(),
      pulledAt: r.pulled_at === null ? null : new Date(Number(r.pulled_at)).toISOString(),
    })),
  };
}

/** The tags pointing at the manifest `digest` in `repository`, sorted. */
export async function tagsOfManifest(
  db: Kysely<Database>,
  repository: string,
  digest: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom("tags as t")
    .innerJoin("manifests as m", "m.id", "t.manifest_id")
    .innerJoin("repositories as r", "r.id", "t.repository_id")
    .select("t.name")
    .where("r.name", "=", repository)
    .where("m.digest", "=", digest)
    .orderBy("t.name")
    .execute();
  return rows.map((r) => r.name);
}
