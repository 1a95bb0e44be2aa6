// Persistence of the per-project scan policy (table `scan_policies`, migration 0010): scan on
// push, the severity at or above which pulls are refused ("prevent vulnerable images from
// being pulled"), and whether unscanned images are refused too. A project without a row has
// the defaults (nothing scanned on push, nothing refused). Queries only.
import type { Kysely } from "kysely";
import type { Database } from "./database.js";

export interface ScanPoliciesTable {
  project_id: string;
  scan_on_push: number;
  prevent_severity: string | null;
  prevent_unscanned: number;
  updated_by: string;
  updated_at: number;
}

interface Tables {
  scan_policies: ScanPoliciesTable;
  projects: { id: string; name: string };
}

function tables(db: Kysely<Database>): Kysely<Tables> {
  return db as unknown as Kysely<Tables>;
}

export interface ScanPolicy {
  project: string;
  scanOnPush: boolean;
  /** Pulls of images with a finding at or above this severity are refused; null = none. */
  preventSeverity: string | null;
  preventUnscanned: boolean;
  updatedBy: string | null;
  updatedAt: number | null;
}

export function defaultScanPolicy(project: string): ScanPolicy {
  return {
    project,
    scanOnPush: false,
    preventSeverity: null,
    preventUnscanned: false,
    updatedBy: null,
    updatedAt: null,
  };
}

/** The project's policy (defaults when it has none), or undefined when the project does not exist. */
export async function getScanPolicy(
  db: Kysely<Database>,
  project: string,
): Promise<ScanPolicy | undefined> {
  const row = await tables(db)
    .selectFrom("projects as p")
    .leftJoin("scan_policies as s", "s.project_id", "p.id")
    .select([
      "p.name",
      "s.scan_on_push",
      "s.prevent_severity",
      "s.prevent_unscanned",
      "s.updated_by",
      "s.updated_at",
    ])
    .where("p.name", "=", project)
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.scan_on_push === null) return defaultScanPolicy(project);
  return {
    project,
    scanOnPush: Number(row.scan_on_push) === 1,
    preventSeverity: row.prevent_severity,
    preventUnscanned: Number(row.prevent_unscanned) === 1,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at === null ? null : Number(row.updated_at),
  };
}

/** Sets the project's policy; false when the project does not exist. */
export async function setScanPolicy(
  db: Kysely<Database>,
  project: string,
  policy: Pick<ScanPolicy, "scanOnPush" | "preventSeverity" | "preventUnscanned">,
  updatedBy: string,
): Promise<boolean> {
  return tables(db)
    .transaction()
    .execute(async (tx) => {
      const p = await tx
        .selectFrom("projects")
        .select("id")
        .where("name", "=", project)
        .executeTakeFirst();
      if (!p) return false;
      const values = {
        scan_on_push: policy.scanOnPush ? 1 : 0,
        prevent_severity: policy.preventSeverity,
        prevent_unscanned: policy.preventUnscanned ? 1 : 0,
        updated_by: updatedBy,
        updated_at: Date.now(),
      };
      await tx
        .insertInto("scan_policies")
        .values({ project_id: p.id, ...values })
        .onConflict((oc) => oc.column("project_id").doUpdateSet(values))
        .execute();
      return true;
    });
}
