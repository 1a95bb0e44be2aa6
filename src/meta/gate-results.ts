// Persistence of push-time quality-gate verdicts (table `gate_results`, migration 0013): per
// (repository, manifest digest), the verdict, each rule's result (JSON), when it was
// evaluated and which version of the project's policy (its updated_at) judged it. Written by
// the registry's gate admission for accepted and refused manifests alike; read by the API.
// Queries only; no decisions.
import type { Kysely } from "kysely";
import type { Database } from "./database.js";

export interface GateResultsTable {
  repository: string;
  digest: string;
  verdict: string;
  rules: string;
  policy_updated_at: string;
  evaluated_at: string;
}

interface Tables {
  gate_results: GateResultsTable;
}

export interface StoredGateResult<R = unknown> {
  repository: string;
  digest: string;
  verdict: "pass" | "fail";
  rules: R[];
  policyUpdatedAt: string;
  evaluatedAt: string;
}

function tables(db: Kysely<Database>): Kysely<Tables> {
  return db as unknown as Kysely<Tables>;
}

/** Records (or replaces) the verdict of one manifest. */
export async function recordGateResult(
  db: Kysely<Database>,
  result: StoredGateResult,
): Promise<void> {
  const row: GateResultsTable = {
    repository: result.repository,
    digest: result.digest,
    verdict: result.verdict,
    rules: JSON.stringify(result.rules),
    policy_updated_at: result.policyUpdatedAt,
    evaluated_at: result.evaluatedAt,
  };
  await tables(db)
    .insertInto("gate_results")
    .values(row)
    .onConflict((oc) =>
      oc.columns(["repository", "digest"]).doUpdateSet({
        verdict: row.verdict,
        rules: row.rules,
        policy_updated_at: row.policy_updated_at,
        evaluated_at: row.evaluated_at,
      }),
    )
    .execute();
}

/** The recorded verdicts of several manifests of one repository (digest → verdict). */
export async function getGateResults(
  db: Kysely<Database>,
  repository: string,
  digests: readonly string[],
): Promise<Map<string, StoredGateResult>> {
  const out = new Map<string, StoredGateResult>();
  const unique = [...new Set(digests)];
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await tables(db)
      .selectFrom("gate_results")
      .selectAll()
      .where("repository", "=", repository)
      .where("digest", "in", unique.slice(i, i + 500))
      .execute();
    for (const row of rows) out.set(row.digest, toResult(row));
  }
  return out;
}

function toResult(row: GateResultsTable): StoredGateResult {
  return {
    repository: row.repository,
    digest: row.digest,
    verdict: row.verdict === "fail" ? "fail" : "pass",
    rules: JSON.parse(row.rules) as unknown[],
    policyUpdatedAt: row.policy_updated_at,
    evaluatedAt: row.evaluated_at,
  };
}

export async function getGateResult(
  db: Kysely<Database>,
  repository: string,
  digest: string,
): Promise<StoredGateResult | undefined> {
  const row = await tables(db)
    .selectFrom("gate_results")
    .selectAll()
    .where("repository", "=", repository)
    .where("digest", "=", digest)
    .executeTakeFirst();
  return row ? toResult(row) : undefined;
}
