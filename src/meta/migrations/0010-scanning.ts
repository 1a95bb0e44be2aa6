// Migration 0010: scanning in the registry. `scan_reports` holds one row per scanned manifest
// digest (a scan result is a function of the content, so the same image in two repositories is
// scanned once): status, counts, the database version it was matched against, timings, the
// whole result as JSON (for SBOM/SPDX downloads) and the SBOM referrer's digest.
// `scan_findings` holds one row per finding for filtered, paginated listings. `scan_policies`
// is the per-project switchboard (scan on push, pull prevention), `cve_allowlist` the
// per-project (project_id set) and system-wide (project_id null) CVE allowlists, each entry
// with an optional expiry. Project rows cascade. Portable across SQLite and PostgreSQL.
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("scan_reports")
    .ifNotExists()
    .addColumn("digest", "text", (c) => c.primaryKey())
    .addColumn("repository", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("job_id", "bigint")
    .addColumn("request_key", "text")
    .addColumn("db_version", "text")
    .addColumn("db_updated_at", "text")
    .addColumn("counts", "text")
    .addColumn("fixable", "text")
    .addColumn("total", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("fixable_total", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("packages", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("result", "text")
    .addColumn("sbom_digest", "text")
    .addColumn("error", "text")
    .addColumn("requested_at", "bigint", (c) => c.notNull())
    .addColumn("started_at", "bigint")
    .addColumn("finished_at", "bigint")
    .addColumn("duration_ms", "bigint")
    .addColumn("cpu_ms", "bigint")
    .execute();
  await db.schema
    .createIndex("scan_reports_by_db_version")
    .ifNotExists()
    .on("scan_reports")
    .columns(["status", "db_version"])
    .execute();
  await db.schema
    .createTable("scan_findings")
    .ifNotExists()
    .addColumn("digest", "text", (c) => c.notNull())
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("vulnerability_id", "text", (c) => c.notNull())
    .addColumn("aliases", "text", (c) => c.notNull())
    .addColumn("severity", "text", (c) => c.notNull())
    .addColumn("severity_rank", "integer", (c) => c.notNull())
    .addColumn("package", "text", (c) => c.notNull())
    .addColumn("version", "text", (c) => c.notNull())
    .addColumn("ecosystem", "text", (c) => c.notNull())
    .addColumn("purl", "text", (c) => c.notNull())
    .addColumn("installed_version", "text", (c) => c.notNull())
    .addColumn("fixed_version", "text")
    .addColumn("summary", "text")
    .addColumn("target", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("scan_findings_pk", ["digest", "position"])
    .execute();
  await db.schema
    .createTable("scan_policies")
    .ifNotExists()
    .addColumn("project_id", "text", (c) =>
      c.primaryKey().references("projects.id").onDelete("cascade"),
    )
    .addColumn("scan_on_push", "integer", (c) => c.notNull())
    .addColumn("prevent_severity", "text")
    .addColumn("prevent_unscanned", "integer", (c) => c.notNull())
    .addColumn("updated_by", "text", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("cve_allowlist")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("project_id", "text", (c) => c.references("projects.id").onDelete("cascade"))
    .addColumn("cve", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint")
    .addColumn("reason", "text")
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ["cve_allowlist", "scan_policies", "scan_findings", "scan_reports"]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
