// Migration 0015: registry endpoints (remote registries Berth talks to: replication peers
// and proxy-cache upstreams; queries in ../endpoints.ts) and proxy-cache projects (a project
// bound to an endpoint, with the tag revalidation TTL) with the last-known digest of every
// cached tag and when it was last checked upstream (queries in ../proxy-projects.ts).
// Credentials are stored sealed (AES-256-GCM, src/endpoints/service.ts), never in clear.
// Portable across SQLite and PostgreSQL. An endpoint a proxy project uses cannot be deleted
// (no cascade); a proxy binding goes with its project (ON DELETE CASCADE).
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("registry_endpoints")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("username", "text")
    .addColumn("password_sealed", "text")
    .addColumn("insecure", "integer", (c) => c.notNull())
    .addColumn("ca_cert", "text")
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("proxy_projects")
    .ifNotExists()
    .addColumn("project_id", "text", (c) =>
      c.primaryKey().references("projects.id").onDelete("cascade"),
    )
    .addColumn("endpoint_id", "text", (c) => c.notNull().references("registry_endpoints.id"))
    .addColumn("ttl_seconds", "integer", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("proxy_projects_endpoint")
    .ifNotExists()
    .on("proxy_projects")
    .column("endpoint_id")
    .execute();
  await db.schema
    .createTable("proxy_tags")
    .ifNotExists()
    .addColumn("project_id", "text", (c) =>
      c.notNull().references("projects.id").onDelete("cascade"),
    )
    .addColumn("repository", "text", (c) => c.notNull())
    .addColumn("tag", "text", (c) => c.notNull())
    .addColumn("digest", "text", (c) => c.notNull())
    .addColumn("checked_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("proxy_tags_pk", ["repository", "tag"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("proxy_tags").ifExists().execute();
  await db.schema.dropTable("proxy_projects").ifExists().execute();
  await db.schema.dropTable("registry_endpoints").ifExists().execute();
}
