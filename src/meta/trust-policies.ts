// Per-project trust policies: the enforcement mode (off, report, enforce) and the trusted
// public keys (PEM, named by fingerprint). Created by migrations/0007-trust.ts. Queries take
// the project's name and join through `projects`; the policy of a project that has none is
// mode "off" with no keys. Never parses or verifies keys: that is sign/'s job.
import type { Kysely } from "kysely";
import type { AuthTables } from "./auth-schema.js";

export type TrustMode = "off" | "report" | "enforce";
export const TRUST_MODES: readonly TrustMode[] = ["off", "report", "enforce"];

export interface TrustPoliciesTable {
  project_id: string;
  mode: TrustMode;
  updated_at: string;
}

export interface TrustKeysTable {
  project_id: string;
  fingerprint: string;
  public_key_pem: string;
  created_at: string;
}

export interface TrustTables {
  trust_policies: TrustPoliciesTable;
  trust_keys: TrustKeysTable;
}

export interface StoredTrustKey {
  fingerprint: string;
  publicKeyPem: string;
  createdAt: string;
}

export interface StoredTrustPolicy {
  project: string;
  mode: TrustMode;
  keys: StoredTrustKey[];
  updatedAt: string | null;
}

type Db = Kysely<TrustTables & AuthTables>;

/** The project's policy (mode "off", no keys, when none was set); undefined: no such project. */
export async function getTrustPolicy(
  db: Db,
  project: string,
): Promise<StoredTrustPolicy | undefined> {
  const row = await db
    .selectFrom("projects as p")
    .leftJoin("trust_policies as t", "t.project_id", "p.id")
    .select(["p.id", "t.mode", "t.updated_at"])
    .where("p.name", "=", project)
    .executeTakeFirst();
  if (!row) return undefined;
  const keys = await db
    .selectFrom("trust_keys")
    .select(["fingerprint", "public_key_pem", "created_at"])
    .where("project_id", "=", row.id)
    .orderBy("created_at")
    .orderBy("fingerprint")
    .execute();
  return {
    project,
    mode: row.mode ?? "off",
    updatedAt: row.updated_at ?? null,
    keys: keys.map((k) => ({
      fingerprint: k.fingerprint,
      publicKeyPem: k.public_key_pem,
      createdAt: k.created_at,
    })),
  };
}

/** Replaces the project's mode and key set in one transaction; false when no such project. */
export async function setTrustPolicy(
  db: Db,
  project: string,
  mode: TrustMode,
  keys: Array<{ fingerprint: string; publicKeyPem: string }>,
  now: Date = new Date(),
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const p = await tx
      .selectFrom("projects")
      .select("id")
      .where("name", "=", project)
      .executeTakeFirst();
    if (!p) return false;
    const at = now.toISOString();
    await tx.deleteFrom("trust_policies").where("project_id", "=", p.id).execute();
    await tx
      .insertInto("trust_policies")
      .values({ project_id: p.id, mode, updated_at: at })
      .execute();
    await tx.deleteFrom("trust_keys").where("project_id", "=", p.id).execute();
    const unique = new Map(keys.map((k) => [k.fingerprint, k]));
    if (unique.size > 0) {
      await tx
        .insertInto("trust_keys")
        .values(
          [...unique.values()].map((k) => ({
            project_id: p.id,
            fingerprint: k.fingerprint,
            public_key_pem: k.publicKeyPem,
            created_at: at,
          })),
        )
        .execute();
    }
    return true;
  });
}
