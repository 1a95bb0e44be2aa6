// Persistence of the quality-gate policy attached to a project (table `gate_policies`,
// migration 0008): the policy text, who set it and when. The text is stored as given (YAML
// or JSON) so `berth admin gate show` returns what the administrator wrote; callers parse it
// with src/policy/gate.ts. Queries only; no parsing, no decisions.
import type { Kysely } from "kysely";
import type { Database } from "./database.js";
import { getGateResult } from "./gate-results.js";
import { resolveTag } from "./manifests.js";

export interface GatePoliciesTable {
  project_id: string;
  policy: string;
  updated_by: string;
  updated_at: string;
}

interface Tables {
  gate_policies: GatePoliciesTable;
  projects: { id: string; name: string };
}

export interface StoredGatePolicy {
  project: string;
  policy: string;
  updatedBy: string;
  updatedAt: string;
}

function tables(db: Kysely<Database>): Kysely<Tables> {
  return db as unknown as Kysely<Tables>;
}

export async function getGatePolicy(
  db: Kysely<Database>,
  project: string,
): Promise<StoredGatePolicy | undefined> {
  const row = await tables(db)
    .selectFrom("gate_policies as g")
    .innerJoin("projects as p", "p.id", "g.project_id")
    .select(["p.name", "g.policy", "g.updated_by", "g.updated_at"])
    .where("p.name", "=", project)
    .executeTakeFirst();
  return row
    ? {
        project: row.name,
        policy: row.policy,
        updatedBy: row.updated_by,
        updatedAt: row.updated_at,
      }
    : undefined;
}

/** Sets (or replaces) the project's policy; false when the project does not exist. */
export async function setGatePolicy(
  db: Kysely<Database>,
  project: string,
  policy: string,
  updatedBy: string,
  at: Date = new Date(),
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
      const row = {
        project_id: p.id,
        policy,
        updated_by: updatedBy,
        updated_at: at.toISOString(),
      };
      await tx
        .insertInto("gate_policies")
        .values(row)
        .onConflict((oc) =>
          oc.column("project_id").doUpdateSet({
            policy: row.policy,
            updated_by: row.updated_by,
            updated_at: row.updated_at,
          }),
        )
        .execute();
      return true;
    });
}

/** Removes the project's policy; false when it had none. */
export async function deleteGatePolicy(db: Kysely<Database>, project: string): Promise<boolean> {
  const p = await tables(db)
    .selectFrom("projects")
    .select("id")
    .where("name", "=", project)
    .executeTakeFirst();
  if (!p) return false;
  const result = await tables(db)
    .deleteFrom("gate_policies")
    .where("project_id", "=", p.id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The push-time verdict of a manifest named by digest or tag (src/meta/gate-results.ts). */
async function gateResultOf(db: Kysely<Database>, repository: string, reference: string) {
  const digest = reference.includes(":") ? reference : await resolveTag(db, repository, reference);
  return digest ? getGateResult(db, repository, digest) : undefined;
}

/** The operations bound to one database, as the management API takes them. */
export function gatePolicyStore(db: Kysely<Database>) {
  return {
    result: (repository: string, reference: string) => gateResultOf(db, repository, reference),
    get: (project: string) => getGatePolicy(db, project),
    set: (project: string, policy: string, updatedBy: string) =>
      setGatePolicy(db, project, policy, updatedBy),
    delete: (project: string) => deleteGatePolicy(db, project),
  };
}
