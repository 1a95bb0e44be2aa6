// Starts the reference registry — CNCF distribution 2.8, /usr/bin/docker-registry — for tests
// and benchmarks, with a generated config: listen on 127.0.0.1:<free port>, filesystem storage
// in a temp directory, delete enabled, no auth, upload purging off, a fixed upload-state secret (so uploads
// resume across a restart), quiet logs.
//
// Usage:
//   const reference = await startReferenceRegistry();   // reference.url, reference.host
//   ... skopeo copy ... docker://${reference.host}/repo:tag ...
//   await reference.stop();                              // SIGTERM by PID, removes its temp data
// Restart on the same data: startReferenceRegistry({ dataDir }) (a caller's dataDir is never
// deleted by stop(); call removeData()). kill9() is a crash and deletes nothing.
//
// It must never touch the system service's config or data (/etc/docker/registry,
// /var/lib/docker-registry), and never signal a process it did not start.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { Agent } from "undici";
import { startManagedServer } from "./managed-server.js";
import { withFreePort } from "./process-control.js";

export const DOCKER_REGISTRY_BIN = "/usr/bin/docker-registry";

export interface ReferenceRegistry {
  url: string;
  host: string;
  port: number;
  pid: number;
  /** Storage root directory of this instance. */
  dataDir: string;
  output(): string;
  /** SIGTERM by PID (SIGKILL after a grace period); deletes the temp data it created. */
  stop(): Promise<void>;
  /** SIGKILL by PID: a crash. Deletes nothing but the generated config. */
  kill9(): Promise<void>;
  removeData(): Promise<void>;
}

export interface StartReferenceOptions {
  /** Storage root to use (for a restart on the same data); a fresh temp dir when omitted. */
  dataDir?: string;
  /** Keep the data dir on stop(). */
  keepData?: boolean;
  /** Require Basic auth (htpasswd, bcrypt) of this one user. */
  htpasswd?: { username: string; password: string };
  /** Serve TLS with this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string };
}

export interface ReferenceConfigExtras {
  /** htpasswd file for Basic auth. */
  htpasswdFile?: string;
  tls?: { certFile: string; keyFile: string };
}

export function referenceRegistryConfig(
  host: string,
  rootDirectory: string,
  extras: ReferenceConfigExtras = {},
): string {
  return [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${rootDirectory}`,
    "  delete:",
    "    enabled: true",
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "http:",
    `  addr: ${host}`,
    // A fixed secret keeps upload URLs (their signed _state) valid across a restart.
    "  secret: berth-test-upload-state-secret",
    ...(extras.tls
      ? ["  tls:", `    certificate: ${extras.tls.certFile}`, `    key: ${extras.tls.keyFile}`]
      : []),
    ...(extras.htpasswdFile
      ? ["auth:", "  htpasswd:", "    realm: reference", `    path: ${extras.htpasswdFile}`]
      : []),
    "",
  ].join("\n");
}

export async function startReferenceRegistry(
  options: StartReferenceOptions = {},
): Promise<ReferenceRegistry> {
  const configDir = await mkdtemp(join(tmpdir(), "reference-registry-config-"));
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "reference-registry-data-")));
  const ownsData = options.dataDir === undefined && !options.keepData;
  const configPath = join(configDir, "config.yml");
  const extras: ReferenceConfigExtras = { tls: options.tls };
  if (options.htpasswd) {
    extras.htpasswdFile = join(configDir, "htpasswd");
    const hash = bcrypt.hashSync(options.htpasswd.password, 8);
    await writeFile(extras.htpasswdFile, `${options.htpasswd.username}:${hash}\n`, {
      mode: 0o600,
    });
  }
  const scheme = options.tls ? "https" : "http";
  const removeConfig = () => rm(configDir, { recursive: true, force: true });
  const { port, server } = await withFreePort(async (port) => {
    const listen = `127.0.0.1:${port}`;
    await writeFile(configPath, referenceRegistryConfig(listen, dataDir, extras));
    const started = await startManagedServer({
      name: "docker-registry",
      command: DOCKER_REGISTRY_BIN,
      args: ["serve", configPath],
      healthUrl: `${scheme}://${listen}/v2/`,
      ...(options.tls
        ? { healthDispatcher: new Agent({ connect: { rejectUnauthorized: false } }) }
        : {}),
    });
    return { port, server: started };
  }).catch(async (error: unknown) => {
    await removeConfig();
    throw error;
  });
  const host = `127.0.0.1:${port}`;
  return {
    url: `${scheme}://${host}`,
    host,
    port,
    pid: server.pid,
    dataDir,
    output: server.output,
    stop: async () => {
      await server.stop();
      await removeConfig();
      if (ownsData) await rm(dataDir, { recursive: true, force: true });
    },
    kill9: async () => {
      await server.kill9();
      await removeConfig();
    },
    removeData: () => rm(dataDir, { recursive: true, force: true }),
  };
}
