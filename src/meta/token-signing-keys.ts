// Token signing keys shared by the replicas (table `token_signing_keys`, migration 0017):
// rows of (kid, sealed private key, created at). Insert-if-absent, so replicas starting
// together on an empty table converge on the first key committed. Rows only: sealing and key
// handling live in src/auth/signing-keys.ts. Never stores a private key unsealed.
import type { Kysely } from "kysely";
import type { AuthTables } from "./auth-schema.js";

export interface SigningKeyRow {
  readonly kid: string;
  readonly sealedPrivateKey: string;
  readonly createdAt: number;
}

/** Every stored key, newest first. */
export async function listSigningKeys(db: Kysely<AuthTables>): Promise<SigningKeyRow[]> {
  const rows = await db
    .selectFrom("token_signing_keys")
    .select(["kid", "sealed_private_key", "created_at"])
    .orderBy("created_at", "desc")
    .orderBy("kid")
    .execute();
  return rows.map((r) => ({
    kid: r.kid,
    sealedPrivateKey: r.sealed_private_key,
    createdAt: Number(r.created_at),
  }));
}

/** Adds a key unless one with this kid exists. */
export async function insertSigningKey(db: Kysely<AuthTables>, row: SigningKeyRow): Promise<void> {
  await db
    .insertInto("token_signing_keys")
    .values({
      kid: row.kid,
      sealed_private_key: row.sealedPrivateKey,
      created_at: row.createdAt,
    })
    .onConflict((oc) => oc.column("kid").doNothing())
    .execute();
}
