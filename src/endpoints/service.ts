// Registry endpoints as a service: validation of what an administrator enters (URL, type,
// credentials, CA certificate), sealing of the password with the server's key before it is
// stored (AES-256-GCM, the key of webhooks/signing.ts: DATA/webhook-secrets.key or
// `webhooks.secretKey`, so a database dump alone reveals no credential), the connection test,
// and `get(id)` with the password unsealed for the features that connect (replication, the
// proxy cache) through registryClientFor(). Never: log or answer a password, or let an
// endpoint another feature uses be deleted.
import { randomBytes, X509Certificate } from "node:crypto";
import type { Kysely } from "kysely";
import { RegistryError } from "../client/errors.js";
import { type ClientOptions, RegistryClient } from "../client/registry-client.js";
import {
  deleteEndpoint,
  ENDPOINT_TYPES,
  type EndpointRecord,
  type EndpointTables,
  type EndpointType,
  endpointPasswordSealed,
  findEndpoint,
  insertEndpoint,
  listEndpoints,
  type StoredEndpoint,
  updateEndpoint,
} from "../meta/endpoints.js";
import type { SecretBox } from "../webhooks/signing.js";

/** An endpoint with its password unsealed: only for connecting, never for answering. */
export interface RegistryEndpoint extends StoredEndpoint {
  readonly password: string | null;
}

/** What an administrator gives to create an endpoint (or, partially, to change one). */
export interface EndpointInput {
  name?: string;
  type?: string;
  url?: string;
  /** null removes the credentials. */
  username?: string | null;
  password?: string | null;
  insecure?: boolean;
  /** PEM of a CA certificate to trust for this endpoint; null removes it. */
  caCert?: string | null;
  description?: string;
}

export interface PingResult {
  readonly ok: boolean;
  readonly message: string;
  readonly durationMs: number;
}

/** A client mistake in an endpoint's definition (answered 400, nothing stored). */
export class EndpointInputError extends Error {}
/** The endpoint is used (by a proxy project, a replication rule …): answered 409. */
export class EndpointInUseError extends Error {}
/** The name is taken (answered 409). */
export class EndpointExistsError extends Error {}

/** Names other features use an endpoint under, e.g. `proxy project "hub"`; [] when unused. */
export type EndpointUsage = (endpointId: string) => Promise<string[]>;

const NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;
const DOCKER_HUB_URL = "https://registry-1.docker.io";

export class RegistryEndpoints {
  private readonly usages: EndpointUsage[] = [];

  constructor(
    private readonly db: Kysely<EndpointTables>,
    private readonly box: SecretBox,
  ) {}

  /** Lets a feature that stores endpoint ids refuse their deletion while in use. */
  addUsage(usage: EndpointUsage): void {
    this.usages.push(usage);
  }

  list(): Promise<StoredEndpoint[]> {
    return listEndpoints(this.db);
  }

  /** By id or name, without the password. */
  find(idOrName: string): Promise<StoredEndpoint | undefined> {
    return findEndpoint(this.db, idOrName);
  }

  /** By id or name, with the password unsealed (to connect; never to answer). */
  async get(idOrName: string): Promise<RegistryEndpoint | undefined> {
    const stored = await findEndpoint(this.db, idOrName);
    if (!stored) return undefined;
    const sealed = await endpointPasswordSealed(this.db, stored.id);
    return { ...stored, password: sealed === null ? null : this.box.unseal(sealed) };
  }

  async create(input: EndpointInput, createdBy: string): Promise<StoredEndpoint> {
    const record = this.record(validateInput(input, undefined), input.password ?? null);
    if (await findEndpoint(this.db, record.name))
      throw new EndpointExistsError(`an endpoint named "${record.name}" already exists`);
    return insertEndpoint(this.db, `ep_${randomBytes(8).toString("hex")}`, record, createdBy);
  }

  /** Changes the given fields; a password left out stays as it was. */
  async update(idOrName: string, input: EndpointInput): Promise<StoredEndpoint | undefined> {
    const current = await this.get(idOrName);
    if (!current) return undefined;
    const merged = validateInput(input, current);
    if (merged.name !== current.name && (await findEndpoint(this.db, merged.name)))
      throw new EndpointExistsError(`an endpoint named "${merged.name}" already exists`);
    const password =
      input.username === null
        ? null
        : input.password !== undefined
          ? input.password
          : current.password;
    await updateEndpoint(this.db, current.id, this.record(merged, password));
    return findEndpoint(this.db, current.id);
  }

  /** Deletes an unused endpoint; false when there is none of that id or name. */
  async remove(idOrName: string): Promise<boolean> {
    const current = await findEndpoint(this.db, idOrName);
    if (!current) return false;
    const users = (await Promise.all(this.usages.map((u) => u(current.id)))).flat();
    if (users.length > 0)
      throw new EndpointInUseError(
        `endpoint "${current.name}" is in use by ${users.join(", ")}; remove those first`,
      );
    return deleteEndpoint(this.db, current.id);
  }

  /** Connection test: GET /v2/ with the endpoint's credentials and TLS options. */
  async ping(idOrName: string): Promise<PingResult | undefined> {
    const endpoint = await this.get(idOrName);
    if (!endpoint) return undefined;
    return pingEndpoint(endpoint);
  }

  private record(v: ValidInput, password: string | null): EndpointRecord {
    return {
      name: v.name,
      type: v.type,
      url: v.url,
      username: v.username,
      passwordSealed: v.username !== null && password ? this.box.seal(password) : null,
      insecure: v.insecure,
      caCert: v.caCert,
      description: v.description,
    };
  }
}

interface ValidInput {
  name: string;
  type: EndpointType;
  url: string;
  username: string | null;
  insecure: boolean;
  caCert: string | null;
  description: string;
}

/** The input merged over the current endpoint (for an update), validated. */
function validateInput(input: EndpointInput, current: StoredEndpoint | undefined): ValidInput {
  const name = input.name ?? current?.name;
  if (!name || !NAME.test(name))
    throw new EndpointInputError(
      "the endpoint name must be 1-63 lowercase letters, digits, dots or dashes, starting with a letter or digit",
    );
  const type = input.type ?? current?.type ?? "distribution";
  if (!(ENDPOINT_TYPES as readonly string[]).includes(type))
    throw new EndpointInputError(
      `unknown endpoint type "${type}" (one of ${ENDPOINT_TYPES.join(", ")})`,
    );
  const rawUrl = input.url ?? current?.url ?? (type === "docker-hub" ? DOCKER_HUB_URL : undefined);
  if (!rawUrl) throw new EndpointInputError("the endpoint needs a URL (https://host[:port])");
  const username = input.username === undefined ? (current?.username ?? null) : input.username;
  if (username !== null && (username === "" || /[:\s]/.test(username)))
    throw new EndpointInputError("the username must not be empty or contain ':' or spaces");
  if (input.password && username === null)
    throw new EndpointInputError("a password needs a username");
  const caCert = input.caCert === undefined ? (current?.caCert ?? null) : input.caCert;
  if (caCert !== null) checkCaCertificate(caCert);
  return {
    name,
    type: type as EndpointType,
    url: normalizeEndpointUrl(rawUrl),
    username,
    insecure: input.insecure ?? current?.insecure ?? false,
    caCert,
    description: (input.description ?? current?.description ?? "").slice(0, 1024),
  };
}

/** `scheme://host[:port]`, the only form an endpoint URL may take (no path, no credentials). */
export function normalizeEndpointUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EndpointInputError(`"${text}" is not a URL (write https://host[:port])`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new EndpointInputError(`the endpoint URL must start with https:// or http://`);
  if (url.username || url.password)
    throw new EndpointInputError(
      "put credentials in the username and password fields, not in the URL",
    );
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash)
    throw new EndpointInputError(
      `the endpoint URL must be scheme://host[:port] without a path (got "${text}")`,
    );
  return `${url.protocol}//${url.host}`;
}

function checkCaCertificate(pem: string): void {
  try {
    const cert = new X509Certificate(pem);
    if (!cert.ca) throw new EndpointInputError("the CA certificate is not a CA (basicConstraints)");
  } catch (err) {
    if (err instanceof EndpointInputError) throw err;
    throw new EndpointInputError("the CA certificate is not a PEM X.509 certificate");
  }
}

/** `host[:port]` of an endpoint, as the registry client names a registry. */
export function endpointRegistry(endpoint: Pick<StoredEndpoint, "url">): string {
  return new URL(endpoint.url).host;
}

/**
 * A registry client for the endpoint: its scheme exactly (no fallback), its credentials, its
 * TLS options. `options` tunes retries and timeouts (the proxy cache wants fast failure).
 */
export function registryClientFor(
  endpoint: RegistryEndpoint,
  options: Omit<ClientOptions, "credentials" | "scheme" | "insecure" | "caCertificates"> = {},
): RegistryClient {
  const username = endpoint.username;
  const password = endpoint.password;
  return new RegistryClient(endpointRegistry(endpoint), {
    ...options,
    scheme: new URL(endpoint.url).protocol === "http:" ? "http" : "https",
    insecure: endpoint.insecure,
    ...(endpoint.caCert ? { caCertificates: [endpoint.caCert] } : {}),
    credentials: async () =>
      username !== null && password !== null ? { username, password } : undefined,
  });
}

/** GET /v2/ through the endpoint's client; a failure is a result, not an exception. */
export async function pingEndpoint(endpoint: RegistryEndpoint): Promise<PingResult> {
  const started = Date.now();
  const client = registryClientFor(endpoint, { attempts: 1, timeoutMs: 10_000 });
  try {
    await client.ping();
    return { ok: true, message: `${endpoint.url} answered /v2/`, durationMs: Date.now() - started };
  } catch (err) {
    return { ok: false, message: pingFailure(endpoint, err), durationMs: Date.now() - started };
  } finally {
    await client.close();
  }
}

function pingFailure(endpoint: RegistryEndpoint, err: unknown): string {
  if (err instanceof RegistryError) {
    if (err.kind === "unauthorized")
      return endpoint.username
        ? `${endpoint.url} refused the credentials of ${endpoint.username}`
        : `${endpoint.url} requires credentials`;
    return err.message;
  }
  const e = err as { code?: string; cause?: { code?: string; message?: string } };
  const detail = e.cause?.message ?? (err as Error).message;
  return `cannot reach ${endpoint.url}: ${detail}`;
}
