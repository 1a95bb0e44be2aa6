// Registry credentials from the files docker and podman already use, so an existing
// `docker login` or `podman login` just works: REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/
// containers/auth.json, ~/.config/containers/auth.json, ~/.docker/config.json (`auths`,
// `credHelpers`, `credsStore` through `docker-credential-<name>` helpers). Writes keep every
// other key of the file and are atomic with mode 0600. Never logs or prints a secret.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface Credential {
  readonly username: string;
  readonly password: string;
}

/** Looks up the credential for a registry (and repository, for repo-scoped podman entries). */
export type CredentialResolver = (
  registry: string,
  repository?: string,
) => Promise<Credential | undefined>;

interface AuthFileDoc {
  auths?: Record<
    string,
    { auth?: string; identitytoken?: string; username?: string; password?: string }
  >;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

export class CredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CredentialError";
  }
}

const DOCKER_HUB_KEYS = [
  "docker.io",
  "index.docker.io",
  "registry-1.docker.io",
  "https://index.docker.io/v1/",
];

/** The auth files consulted, in order; `explicit` (e.g. --authfile) wins. */
export function authFilePaths(explicit?: string): string[] {
  if (explicit) return [explicit];
  const env = process.env;
  const home = env.HOME ?? homedir();
  const paths: string[] = [];
  if (env.REGISTRY_AUTH_FILE) paths.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, "containers", "auth.json"));
  else if (process.getuid?.() === 0) paths.push("/run/containers/0/auth.json");
  paths.push(join(env.XDG_CONFIG_HOME ?? join(home, ".config"), "containers", "auth.json"));
  paths.push(dockerConfigPath());
  return paths;
}

export function dockerConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG ?? join(process.env.HOME ?? homedir(), ".docker");
  return join(dir, "config.json");
}

/** Where `berth login` writes: --authfile, else REGISTRY_AUTH_FILE, else docker's config.json. */
export function loginFilePath(explicit?: string): string {
  return explicit ?? process.env.REGISTRY_AUTH_FILE ?? dockerConfigPath();
}

async function readAuthFile(path: string): Promise<AuthFileDoc | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const doc = JSON.parse(text) as unknown;
    return typeof doc === "object" && doc !== null ? (doc as AuthFileDoc) : {};
  } catch {
    throw new CredentialError(`${path} is not valid JSON`);
  }
}

/** Normalises an `auths` key (`https://host/v1/`, `host`, `host/ns/repo`) to `host[/path]`. */
export function normalizeAuthKey(key: string): string {
  if (DOCKER_HUB_KEYS.includes(key)) return "docker.io";
  let k = key.replace(/^[a-z]+:\/\//, "");
  if (key.includes("://")) k = k.split("/")[0] ?? k;
  while (k.endsWith("/")) k = k.slice(0, -1);
  if (DOCKER_HUB_KEYS.includes(k)) return "docker.io";
  return k;
}

function decodeEntry(
  entry: NonNullable<AuthFileDoc["auths"]>[string],
  path: string,
): Credential | undefined {
  if (entry.username && entry.password)
    return { username: entry.username, password: entry.password };
  if (!entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon === -1) throw new CredentialError(`${path} holds a malformed "auth" entry`);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The best `auths` match: the longest key that is `registry` or a prefix path of `registry/repo`. */
function matchAuths(doc: AuthFileDoc, registry: string, repository?: string) {
  const target = repository ? `${registry}/${repository}` : registry;
  let best: { key: string; entry: NonNullable<AuthFileDoc["auths"]>[string] } | undefined;
  for (const [rawKey, entry] of Object.entries(doc.auths ?? {})) {
    const key = normalizeAuthKey(rawKey);
    const matches = key === registry || (target.startsWith(`${key}/`) && key.startsWith(registry));
    if (matches && (!best || key.length > best.key.length)) best = { key, entry };
  }
  return best?.entry;
}

function helperFor(doc: AuthFileDoc, registry: string): string | undefined {
  for (const [key, helper] of Object.entries(doc.credHelpers ?? {})) {
    if (normalizeAuthKey(key) === registry) return helper;
  }
  return doc.credsStore || undefined;
}

/** The resolver over the standard files (or one explicit file). */
export function fileCredentialResolver(explicitFile?: string): CredentialResolver {
  return async (registry, repository) => {
    for (const path of authFilePaths(explicitFile)) {
      const doc = await readAuthFile(path);
      if (!doc) continue;
      const entry = matchAuths(doc, registry, repository);
      if (entry) {
        const credential = decodeEntry(entry, path);
        if (credential) return credential;
      }
      const helper = helperFor(doc, registry);
      if (helper) {
        const fromHelper = await helperGet(helper, registry);
        if (fromHelper) return fromHelper;
      }
    }
    return undefined;
  };
}

/** Stores a credential the way the target file is set up (helper if configured, else auths). */
export async function storeCredential(
  registry: string,
  credential: Credential,
  explicitFile?: string,
): Promise<string> {
  const path = loginFilePath(explicitFile);
  const doc = (await readAuthFile(path)) ?? {};
  const helper = helperFor(doc, registry);
  if (helper) {
    await runHelper(
      helper,
      "store",
      JSON.stringify({
        ServerURL: serverUrl(registry),
        Username: credential.username,
        Secret: credential.password,
      }),
    );
    return `docker-credential-${helper}`;
  }
  const auths = { ...(doc.auths ?? {}) };
  for (const key of Object.keys(auths)) if (normalizeAuthKey(key) === registry) delete auths[key];
  auths[registry === "docker.io" ? "https://index.docker.io/v1/" : registry] = {
    auth: Buffer.from(`${credential.username}:${credential.password}`).toString("base64"),
  };
  await writeAuthFile(path, { ...doc, auths });
  return path;
}

/** Every file Berth knows to hold logins: the lookup files and the one `berth login` writes. */
export function knownAuthFiles(): string[] {
  return [...new Set([...authFilePaths(), loginFilePath()])];
}

/** The files (among `paths`) that hold a login for `registry`, and its helpers. */
export async function credentialLocations(registry: string, paths: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths) {
    const doc = await readAuthFile(path).catch(() => undefined);
    if (!doc) continue;
    if (Object.keys(doc.auths ?? {}).some((k) => normalizeAuthKey(k) === registry))
      found.push(path);
    const helper = helperFor(doc, registry);
    if (helper && (await helperGet(helper, registry))) found.push(`docker-credential-${helper}`);
  }
  return found;
}

/** Removes the registry from the auth files `paths` (and their helpers); returns where it was. */
export async function eraseCredential(registry: string, paths: string[]): Promise<string[]> {
  const removedFrom: string[] = [];
  for (const path of paths) {
    const doc = await readAuthFile(path);
    if (!doc) continue;
    const keys = Object.keys(doc.auths ?? {}).filter((k) => normalizeAuthKey(k) === registry);
    if (keys.length > 0) {
      const auths = { ...(doc.auths ?? {}) };
      for (const k of keys) delete auths[k];
      await writeAuthFile(path, { ...doc, auths });
      removedFrom.push(path);
    }
    const helper = helperFor(doc, registry);
    if (helper && (await helperGet(helper, registry))) {
      await runHelper(helper, "erase", serverUrl(registry));
      removedFrom.push(`docker-credential-${helper}`);
    }
  }
  return removedFrom;
}

async function writeAuthFile(path: string, doc: AuthFileDoc): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.tmp-${randomBytes(6).toString("hex")}`;
  await writeFile(temp, `${JSON.stringify(doc, null, "\t")}\n`, { mode: 0o600 });
  await rename(temp, path);
}

function serverUrl(registry: string): string {
  return registry === "docker.io" ? "https://index.docker.io/v1/" : registry;
}

async function helperGet(helper: string, registry: string): Promise<Credential | undefined> {
  let out: string;
  try {
    out = await runHelper(helper, "get", serverUrl(registry));
  } catch {
    return undefined;
  }
  try {
    const doc = JSON.parse(out) as { Username?: string; Secret?: string };
    if (!doc.Secret) return undefined;
    return { username: doc.Username ?? "", password: doc.Secret };
  } catch {
    return undefined;
  }
}

function runHelper(helper: string, action: string, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, [action], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString("utf8");
    });
    child.on("error", () =>
      reject(new CredentialError(`credential helper docker-credential-${helper} is not installed`)),
    );
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else
        reject(new CredentialError(`docker-credential-${helper} ${action} failed: ${out.trim()}`));
    });
    child.stdin.end(input);
  });
}
