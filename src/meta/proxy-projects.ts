// Proxy-cache projects (a project bound to a registry endpoint, with the tag revalidation
// TTL) and the last-known upstream digest of each cached tag with when it was last checked.
// Created by migrations/0015-registry-endpoints.ts. Never: store credentials here (the
// endpoint holds them, sealed).
import type { Kysely } from "kysely";
import type { AuthTables } from "./auth-schema.js";
import type { EndpointTables } from "./endpoints.js";

export interface ProxyProjectsTable {
  project_id: string;
  endpoint_id: string;
  ttl_seconds: number;
  created_at: number;
}

export interface ProxyTagsTable {
  project_id: string;
  repository: string;
  tag: string;
  digest: string;
  checked_at: number;
}

export interface ProxyTables {
  proxy_projects: ProxyProjectsTable;
  proxy_tags: ProxyTagsTable;
}

export interface ProxyProject {
  project: string;
  projectId: string;
  endpointId: string;
  endpointName: string;
  ttlSeconds: number;
  createdAt: number;
}

type Db = Kysely<ProxyTables & EndpointTables & AuthTables>;

function proxies(db: Db) {
  return db
    .selectFrom("proxy_projects as x")
    .innerJoin("projects as p", "p.id", "x.project_id")
    .innerJoin("registry_endpoints as e", "e.id", "x.endpoint_id")
    .select([
      "p.name as project",
      "x.project_id",
      "x.endpoint_id",
      "e.name as endpoint_name",
      "x.ttl_seconds",
      "x.created_at",
    ]);
}

type Row = {
  project: string;
  project_id: string;
  endpoint_id: string;
  endpoint_name: string;
  ttl_seconds: number;
  created_at: number;
};

const toProxy = (r: Row): ProxyProject => ({
  project: r.project,
  projectId: r.project_id,
  endpointId: r.endpoint_id,
  endpointName: r.endpoint_name,
  ttlSeconds: Number(r.ttl_seconds),
  createdAt: Number(r.created_at),
});

export async function findProxyProject(db: Db, project: string): Promise<ProxyProject | undefined> {
  const row = await proxies(db).where("p.name", "=", project).executeTakeFirst();
  return row ? toProxy(row as Row) : undefined;
}

export async function listProxyProjects(db: Db): Promise<ProxyProject[]> {
  const rows = await proxies(db).orderBy("p.name").execute();
  return rows.map((r) => toProxy(r as Row));
}

/** Binds (or rebinds) a project to an endpoint; false when the project does not exist. */
export async function setProxyProject(
  db: Db,
  project: string,
  endpointId: string,
  ttlSeconds: number,
): Promise<boolean> {
  const p = await db
    .selectFrom("projects")
    .select("id")
    .where("name", "=", project)
    .executeTakeFirst();
  if (!p) return false;
  await db
    .insertInto("proxy_projects")
    .values({
      project_id: p.id,
      endpoint_id: endpointId,
      ttl_seconds: ttlSeconds,
      created_at: Date.now(),
    })
    .onConflict((oc) =>
      oc.column("project_id").doUpdateSet({ endpoint_id: endpointId, ttl_seconds: ttlSeconds }),
    )
    .execute();
  return true;
}

export async function removeProxyProject(db: Db, project: string): Promise<boolean> {
  const found = await findProxyProject(db, project);
  if (!found) return false;
  await db.deleteFrom("proxy_tags").where("project_id", "=", found.projectId).execute();
  await db.deleteFrom("proxy_projects").where("project_id", "=", found.projectId).execute();
  return true;
}

/** Names of the proxy projects using an endpoint (to refuse its deletion). */
export async function proxyProjectsOfEndpoint(db: Db, endpointId: string): Promise<string[]> {
  const rows = await proxies(db).where("x.endpoint_id", "=", endpointId).execute();
  return rows.map((r) => r.project);
}

export interface ProxyTagCheck {
  digest: string;
  checkedAt: number;
}

export async function findProxyTag(
  db: Db,
  repository: string,
  tag: string,
): Promise<ProxyTagCheck | undefined> {
  const row = await db
    .selectFrom("proxy_tags")
    .select(["digest", "checked_at"])
    .where("repository", "=", repository)
    .where("tag", "=", tag)
    .executeTakeFirst();
  return row ? { digest: row.digest, checkedAt: Number(row.checked_at) } : undefined;
}

/** Records that the upstream said `tag` is `digest` now. */
export async function recordProxyTag(
  db: Db,
  projectId: string,
  repository: string,
  tag: string,
  digest: string,
): Promise<void> {
  const now = Date.now();
  await db
    .insertInto("proxy_tags")
    .values({ project_id: projectId, repository, tag, digest, checked_at: now })
    .onConflict((oc) => oc.columns(["repository", "tag"]).doUpdateSet({ digest, checked_at: now }))
    .execute();
}
