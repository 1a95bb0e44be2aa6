// In-process registry for HTTP tests: startServer() on 127.0.0.1 port 0 with a fresh temp
// data directory and a silent logger, plus small helpers to push blobs and manifests.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { type BerthConfig, loadConfig } from "../../src/config/config.js";
import { type RunningServer, type StartServerOptions, startServer } from "../../src/server.js";

export interface TestRegistry extends RunningServer {
  dataDir: string;
  config: BerthConfig;
  /** Closes the server and removes its data. */
  destroy(): Promise<void>;
}

export async function startTestRegistry(
  options: StartServerOptions & { env?: Record<string, string>; dataDir?: string } = {},
): Promise<TestRegistry> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "berth-registry-test-")));
  const config = loadConfig({
    env: options.env ?? {},
    overrides: { listen: "127.0.0.1:0", data: dataDir },
  });
  const server = await startServer(config, { logger: pino({ level: "silent" }), ...options });
  return {
    ...server,
    url: server.url,
    port: server.port,
    context: server.context,
    close: () => server.close(),
    dataDir,
    config,
    async destroy() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function randomBytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Pushes a blob monolithically (POST ?digest=) and returns its digest. */
export async function pushBlob(url: string, repository: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const res = await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${digest}`, {
    method: "POST",
    headers: { "Content-Type": "application/octet-stream" },
    body: data,
  });
  if (res.status !== 201) throw new Error(`blob push failed: ${res.status} ${await res.text()}`);
  return digest;
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

export interface PushedImage {
  digest: string;
  bytes: Buffer;
  config: string;
  layers: string[];
}

/** Pushes config + layers + an OCI manifest; returns the manifest digest and bytes. */
export async function pushImage(
  url: string,
  repository: string,
  tag: string,
  options: {
    layers?: Buffer[];
    subject?: { digest: string; size: number; mediaType: string };
    artifactType?: string;
    annotations?: Record<string, string>;
    seed?: number;
  } = {},
): Promise<PushedImage> {
  const seed = options.seed ?? 7;
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [] },
      seed,
    }),
  );
  const config = await pushBlob(url, repository, configBytes);
  const layerData = options.layers ?? [randomBytes(1000, seed)];
  const layers: string[] = [];
  for (const l of layerData) layers.push(await pushBlob(url, repository, l));
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: config,
      size: configBytes.length,
    },
    layers: layers.map((digest, i) => ({
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest,
      size: layerData[i]!.length,
    })),
  };
  if (options.subject) manifest.subject = options.subject;
  if (options.artifactType) manifest.artifactType = options.artifactType;
  if (options.annotations) manifest.annotations = options.annotations;
  const bytes = Buffer.from(JSON.stringify(manifest));
  const res = await fetch(`${url}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { "Content-Type": OCI_MANIFEST },
    body: bytes,
  });
  if (res.status !== 201)
    throw new Error(`manifest push failed: ${res.status} ${await res.text()}`);
  return { digest: sha256(bytes), bytes, config, layers };
}

export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}
