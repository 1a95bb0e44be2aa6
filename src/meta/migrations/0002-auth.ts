// Migration 0002: tables for users, projects, members, robot accounts, sessions and the audit
// log (types in ../auth-schema.ts). Portable across SQLite and PostgreSQL: text ids, 0/1
// integers for booleans, ISO strings for times, bigint for byte counts. Never drops data on up.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("users")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("username", "text", (c) => c.notNull().unique())
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("is_admin", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("email", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("projects")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("is_public", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("quota_bytes", "bigint")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("project_members")
    .ifNotExists()
    .addColumn("project_id", "text", (c) =>
      c.notNull().references("projects.id").onDelete("cascade"),
    )
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("project_members_pk", ["project_id", "user_id"])
    .execute();

  await db.schema
    .createTable("robots")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("level", "text", (c) => c.notNull())
    .addColumn("project_id", "text", (c) => c.references("projects.id").onDelete("cascade"))
    .addColumn("description", "text")
    .addColumn("secret_hash", "text", (c) => c.notNull())
    .addColumn("disabled", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("expires_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("robot_permissions")
    .ifNotExists()
    .addColumn("robot_id", "text", (c) => c.notNull().references("robots.id").onDelete("cascade"))
    .addColumn("project", "text", (c) => c.notNull())
    .addColumn("actions", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("robot_permissions_pk", ["robot_id", "project"])
    .execute();

  await db.schema
    .createTable("sessions")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("csrf_token", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("audit_log")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("actor_kind", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("resource_type", "text", (c) => c.notNull())
    .addColumn("resource", "text", (c) => c.notNull())
    .addColumn("project", "text")
    .addColumn("remote_address", "text")
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("detail", "text")
    .execute();
  await sql`create index if not exists audit_log_at on audit_log (at)`.execute(db);
  await sql`create index if not exists audit_log_project on audit_log (project, at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    "audit_log",
    "sessions",
    "robot_permissions",
    "robots",
    "project_members",
    "projects",
    "users",
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
