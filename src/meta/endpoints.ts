// Registry endpoints: the remote registries Berth talks to (replication peers, proxy-cache
// upstreams): name, type, URL, username, the sealed password, TLS options (insecure, an
// extra CA certificate) and a description. Created by migrations/0015-registry-endpoints.ts.
// Never: unseal a password here (src/endpoints/service.ts holds the key), or return the
// sealed password from a listing (only endpointPasswordSealed does, for the service).
import type { Kysely } from "kysely";

export interface RegistryEndpointsTable {
  id: string;
  name: string;
  type: string;
  url: string;
  username: string | null;
  password_sealed: string | null;
  insecure: number;
  ca_cert: string | null;
  description: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface EndpointTables {
  registry_endpoints: RegistryEndpointsTable;
}

/** What kind of registry the endpoint is (informative; every kind speaks the OCI API). */
export const ENDPOINT_TYPES = ["distribution", "berth", "harbor", "docker-hub", "oci"] as const;
export type EndpointType = (typeof ENDPOINT_TYPES)[number];

/** An endpoint as stored, without its password. */
export interface StoredEndpoint {
  id: string;
  name: string;
  type: EndpointType;
  url: string;
  username: string | null;
  hasPassword: boolean;
  insecure: boolean;
  caCert: string | null;
  description: string;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

type Db = Kysely<EndpointTables>;

const COLUMNS = [
  "id",
  "name",
  "type",
  "url",
  "username",
  "password_sealed",
  "insecure",
  "ca_cert",
  "description",
  "created_by",
  "created_at",
  "updated_at",
] as const;

function toEndpoint(r: RegistryEndpointsTable): StoredEndpoint {
  return {
    id: r.id,
    name: r.name,
    type: r.type as EndpointType,
    url: r.url,
    username: r.username,
    hasPassword: r.password_sealed !== null,
    insecure: Number(r.insecure) === 1,
    caCert: r.ca_cert,
    description: r.description,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export interface EndpointRecord {
  name: string;
  type: EndpointType;
  url: string;
  username: string | null;
  passwordSealed: string | null;
  insecure: boolean;
  caCert: string | null;
  description: string;
}

export async function insertEndpoint(
  db: Db,
  id: string,
  e: EndpointRecord,
  createdBy: string,
): Promise<StoredEndpoint> {
  const now = Date.now();
  const row: RegistryEndpointsTable = {
    id,
    name: e.name,
    type: e.type,
    url: e.url,
    username: e.username,
    password_sealed: e.passwordSealed,
    insecure: e.insecure ? 1 : 0,
    ca_cert: e.caCert,
    description: e.description,
    created_by: createdBy,
    created_at: now,
    updated_at: now,
  };
  await db.insertInto("registry_endpoints").values(row).execute();
  return toEndpoint(row);
}

/** By id, or by name when no id matches (names cannot look like ids: see the service). */
export async function findEndpoint(db: Db, idOrName: string): Promise<StoredEndpoint | undefined> {
  const row = await db
    .selectFrom("registry_endpoints")
    .select(COLUMNS)
    .where((eb) => eb.or([eb("id", "=", idOrName), eb("name", "=", idOrName)]))
    .orderBy("id")
    .execute();
  const exact = row.find((r) => r.id === idOrName) ?? row[0];
  return exact ? toEndpoint(exact) : undefined;
}

export async function listEndpoints(db: Db): Promise<StoredEndpoint[]> {
  const rows = await db.selectFrom("registry_endpoints").select(COLUMNS).orderBy("name").execute();
  return rows.map(toEndpoint);
}

/** The sealed password of an endpoint (for the service to unseal when it connects). */
export async function endpointPasswordSealed(db: Db, id: string): Promise<string | null> {
  const row = await db
    .selectFrom("registry_endpoints")
    .select("password_sealed")
    .where("id", "=", id)
    .executeTakeFirst();
  return row?.password_sealed ?? null;
}

export async function updateEndpoint(db: Db, id: string, e: EndpointRecord): Promise<void> {
  await db
    .updateTable("registry_endpoints")
    .set({
      name: e.name,
      type: e.type,
      url: e.url,
      username: e.username,
      password_sealed: e.passwordSealed,
      insecure: e.insecure ? 1 : 0,
      ca_cert: e.caCert,
      description: e.description,
      updated_at: Date.now(),
    })
    .where("id", "=", id)
    .execute();
}

export async function deleteEndpoint(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom("registry_endpoints").where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
