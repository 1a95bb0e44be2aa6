// The pull-through cache of proxy-cache projects (docs/registries.md): a repository
// `PROJECT/REST` of a project bound to an endpoint mirrors the upstream's `REST` (for a
// docker-hub endpoint, a one-component `REST` means `library/REST`).
//
// - Manifests by tag: the local copy is served while its last upstream check is younger than
//   the project's TTL; after that the upstream is asked with a HEAD and, when its digest
//   differs, the new manifest is fetched. A manifest whose blobs are all here is stored at
//   once; otherwise its upstream bytes are served and a durable `proxy.cache` job brings in
//   its blobs (and child manifests) and stores it.
// - Blobs: a miss streams from the upstream to the client while the same bytes are written
//   (and verified against the digest) into storage through the registry's upload path, so
//   quota applies as to a push. Concurrent misses of one blob in this process fetch it once.
// - The upstream down, slow (timeout) or rate-limiting (429): cached manifests and blobs are
//   served, tags from their last known digest, marked `X-Berth-Cache: stale`; logged and
//   counted (berth_proxy_cache_requests_total{result="stale"}).
// - What is stored goes through the registry's push admission as a push would (quota,
//   quality gate, immutable tags; the image's config is brought in first so the gate can
//   judge it), as PROXY_PRINCIPAL; what is served goes through the pull admission (trust
//   policy, vulnerability gate), served from upstream bytes or from the cache; where the
//   project has a trust policy, a miss brings in the upstream's signatures first.
// Never: serve bytes that do not match their digest from storage (the upload path verifies),
// or hold a blob in memory.
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Principal } from "../auth/access.js";
import { RegistryError as ClientError } from "../client/errors.js";
import type { FetchedManifest, RegistryClient } from "../client/registry-client.js";
import { type RegistryEndpoints, registryClientFor } from "../endpoints/index.js";
import type { JobContext, Jobs } from "../jobs/index.js";
import {
  type Database,
  findRepositoryBlob,
  getManifestByDigest,
  getTrustPolicy,
  MissingReferenceError,
  putManifest,
  resolveTag,
} from "../meta/index.js";
import {
  findProxyProject,
  findProxyTag,
  type ProxyProject,
  recordProxyTag,
} from "../meta/proxy-projects.js";
import { proxyCacheRequests } from "../metrics/registry.js";
import {
  annotationsOf,
  effectiveArtifactType,
  parseDigest,
  parseManifest,
  projectOf,
  referencedDescriptors,
} from "../oci/index.js";
import type { RegistryCall, RegistryContext } from "../registry/context.js";
import { RegistryError } from "../registry/errors.js";
import {
  CACHE_STATUS_HEADER,
  type ManifestOutcome,
  type PullThrough,
} from "../registry/pull-through.js";
import { attachmentTag } from "../sign/attached.js";

export const PROXY_CACHE_JOB_KIND = "proxy.cache";
const PROXY_ACTOR = { principal: "proxy-cache", remoteAddress: "" };
/**
 * Who stores what the cache brings in, for the push admission (quota, quality gate, …):
 * only this object is let past the proxy project's refusal of pushes (compared by identity).
 */
export const PROXY_PRINCIPAL: Principal = Object.freeze({
  name: "proxy-cache",
  kind: "system",
  isAdmin: true,
});

export interface ProxyCacheOptions {
  /** Connect/headers timeout for upstream requests (ms). */
  readonly upstreamTimeoutMs: number;
}

interface CachePayload {
  repository: string;
  digest: string;
  tag?: string;
}

/** An upstream failure that is not "it does not exist": the cue to serve stale copies. */
class UpstreamUnavailable extends Error {}

export class ProxyCache implements PullThrough {
  private readonly projects = new Map<string, { at: number; proxy: ProxyProject | undefined }>();
  private readonly clients = new Map<string, { key: string; client: RegistryClient }>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  private registry: RegistryContext | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly endpoints: RegistryEndpoints,
    private readonly logger: Logger,
    private readonly options: ProxyCacheOptions,
  ) {}

  /** Registers the `proxy.cache` job. */
  register(jobs: Jobs): void {
    this.jobs = jobs;
    jobs.workers.register<CachePayload>(PROXY_CACHE_JOB_KIND, (ctx) => this.runCacheJob(ctx));
  }
  private jobs: Jobs | undefined;

  /** The registry's services (its upload path and admission), given once the server is built. */
  bind(registry: RegistryContext): void {
    this.registry = registry;
  }

  /** Forgets what it knows of a project's binding (after a change through the API). */
  invalidate(project?: string): void {
    if (project === undefined) this.projects.clear();
    else this.projects.delete(project);
  }

  async manifest(
    ctx: RegistryContext,
    repository: string,
    reference: { tag?: string; digest?: string },
    principal: Principal,
  ): Promise<ManifestOutcome | undefined> {
    this.registry ??= ctx;
    const proxy = await this.proxyOf(repository);
    if (!proxy) return undefined;
    const upstream = upstreamName(proxy, repository, await this.endpointType(proxy));
    if (reference.digest !== undefined) {
      if (await getManifestByDigest(this.db, repository, reference.digest))
        return this.counted("hit", { kind: "local", status: "hit" });
      const fetched = await this.upstreamCall(proxy, (c) =>
        c.getManifest(upstream, reference.digest!),
      ).catch((err) => this.unavailable(proxy, repository, err, "manifest"));
      if (!fetched) throw manifestUnknown(reference.digest);
      return this.admit(proxy, repository, fetched, undefined, principal);
    }
    const tag = reference.tag!;
    const local = await resolveTag(this.db, repository, tag);
    const check = await findProxyTag(this.db, repository, tag);
    if (local && check?.digest === local && Date.now() - check.checkedAt < proxy.ttlSeconds * 1000)
      return this.counted("hit", { kind: "local", status: "hit" });
    let head: Awaited<ReturnType<RegistryClient["headManifest"]>>;
    try {
      head = await this.upstreamCall(proxy, (c) => c.headManifest(upstream, tag));
    } catch (err) {
      if (local) return this.stale(proxy, repository, tag, err);
      return this.unavailable(proxy, repository, err, "manifest");
    }
    if (!head) {
      if (local)
        return this.stale(proxy, repository, tag, new Error("the upstream no longer has the tag"));
      throw manifestUnknown(tag);
    }
    if (head.digest === local) {
      await recordProxyTag(this.db, proxy.projectId, repository, tag, local);
      return this.counted("hit", { kind: "local", status: "hit" });
    }
    let fetched: FetchedManifest | undefined;
    try {
      fetched = await this.upstreamCall(proxy, (c) => c.getManifest(upstream, head.digest));
    } catch (err) {
      if (local) return this.stale(proxy, repository, tag, err);
      return this.unavailable(proxy, repository, err, "manifest");
    }
    if (!fetched) throw manifestUnknown(tag);
    return this.admit(proxy, repository, fetched, tag, principal);
  }

  /**
   * Brings in the upstream's referrers of `subject` (OCI 1.1 referrers API, or its
   * `sha256-<hex>` referrers tag) that are not cached yet, blobs and all, so the registry's
   * listing has them; with the upstream unavailable the cached ones are listed (stale).
   */
  async referrers(ctx: RegistryContext, repository: string, subject: string): Promise<void> {
    this.registry ??= ctx;
    const proxy = await this.proxyOf(repository);
    if (!proxy) return;
    const upstream = upstreamName(proxy, repository, await this.endpointType(proxy));
    let listed: Awaited<ReturnType<RegistryClient["referrers"]>>;
    try {
      listed = await this.upstreamCall(proxy, (c) => c.referrers(upstream, subject));
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      this.logger.warn(
        { repository, subject, endpoint: proxy.endpointName, reason: describe(err) },
        "proxy cache: upstream unavailable, listing the cached referrers",
      );
      this.counted("stale", undefined);
      return;
    }
    for (const referrer of listed) {
      if (await getManifestByDigest(this.db, repository, referrer.digest)) continue;
      const m = await this.cacheManifest(
        ctx,
        proxy,
        repository,
        upstream,
        referrer.digest,
        () => {},
      );
      await this.storeManifest(repository, m, undefined);
      this.counted("miss", undefined);
    }
  }

  async blob(
    ctx: RegistryContext,
    call: RegistryCall,
    digest: string,
    principal: Principal,
  ): Promise<boolean> {
    this.registry ??= ctx;
    const proxy = await this.proxyOf(call.repository);
    if (!proxy) return false;
    const key = `${call.repository}@${digest}`;
    const running = this.inflight.get(key);
    if (running) {
      // Another request is fetching it: wait for its copy, then the registry serves it.
      await running.catch(() => undefined);
      if (await findRepositoryBlob(this.db, call.repository, digest)) {
        this.counted("hit", undefined);
        return false;
      }
    }
    // This request fetches it: later requests for the same blob wait for this one's copy.
    let release: () => void = () => undefined;
    const turn = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.inflight.set(key, turn);
    const done = () => {
      if (this.inflight.get(key) === turn) this.inflight.delete(key);
      release();
    };
    try {
      return await this.fetchBlob(ctx, call, proxy, digest, principal, done);
    } catch (err) {
      done();
      throw err;
    }
  }

  /** A blob miss answered from the upstream; `done` is called once its copy is stored (or not). */
  private async fetchBlob(
    ctx: RegistryContext,
    call: RegistryCall,
    proxy: ProxyProject,
    digest: string,
    principal: Principal,
    done: () => void,
  ): Promise<boolean> {
    const upstream = upstreamName(proxy, call.repository, await this.endpointType(proxy));
    const client = await this.clientOf(proxy);
    const path = `/v2/${upstream}/blobs/${digest}`;
    let res: Awaited<ReturnType<RegistryClient["http"]["send"]>>;
    try {
      res = await client.http.send({
        method: call.method === "HEAD" ? "HEAD" : "GET",
        path,
        scopes: [`repository:${upstream}:pull`],
      });
    } catch (err) {
      return this.unavailable(proxy, call.repository, err, "blob");
    }
    if (res.statusCode === 404) {
      await res.body.dump();
      throw new RegistryError("BLOB_UNKNOWN", "blob unknown to registry", { detail: { digest } });
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      return this.unavailable(proxy, call.repository, new Error(`HTTP ${res.statusCode}`), "blob");
    }
    const length = Number(res.headers["content-length"] ?? Number.NaN);
    const headers: Record<string, string | number> = {
      "Content-Type": "application/octet-stream",
      "Docker-Content-Digest": digest,
      ETag: `"${digest}"`,
      [CACHE_STATUS_HEADER]: "miss",
    };
    if (Number.isFinite(length)) headers["Content-Length"] = length;
    this.counted("miss", undefined);
    if (call.method === "HEAD") {
      await res.body.dump();
      done();
      call.res.writeHead(200, headers);
      call.res.end();
      return true;
    }
    const toClient = new PassThrough({ highWaterMark: 256 * 1024 });
    const toStore = new PassThrough({ highWaterMark: 256 * 1024 });
    const source = res.body as unknown as Readable;
    source.pipe(toClient);
    source.pipe(toStore);
    source.once("error", (err) => {
      toClient.destroy(err);
      toStore.destroy(err);
    });
    const stored = this.store(ctx, call.repository, digest, toStore, length, principal).finally(
      done,
    );
    stored.catch((err) =>
      this.logger.warn(
        { err, repository: call.repository, digest },
        "proxy cache: the blob was served but not stored",
      ),
    );
    call.res.writeHead(200, headers);
    try {
      await pipeline(toClient, call.res);
    } catch {
      // The client went away: the copy into storage carries on.
      call.res.destroy();
    }
    return true;
  }

  /** Writes a stream into storage as blob `digest` of `repository` (verified, quota-checked). */
  private async store(
    ctx: RegistryContext,
    repository: string,
    digest: string,
    source: Readable,
    length: number,
    principal: Principal,
  ): Promise<void> {
    const size = await ctx.uploads.uploadWhole(
      repository,
      parseDigest(digest),
      { source, ...(Number.isFinite(length) ? { declaredLength: length } : {}) },
      async (bytes) => {
        await ctx.admission.beforeBlobCommit?.({ repository, digest, size: bytes, principal });
      },
      PROXY_ACTOR,
    );
    ctx.events.publish("blob.committed", {
      repository,
      digest,
      size,
      mounted: false,
      principal: principal.name,
      remoteAddress: "",
      at: Date.now(),
    });
  }

  /** Stores a fetched manifest when its references are here; else serves it and queues a job. */
  private async admit(
    proxy: ProxyProject,
    repository: string,
    m: FetchedManifest,
    tag: string | undefined,
    principal: Principal,
  ): Promise<ManifestOutcome> {
    void principal;
    // The push admission judges an image by its config (labels, platform): have it here.
    await this.bringConfig(proxy, repository, m);
    // The pull admission's trust check reads signatures from the cache: bring them first.
    await this.bringSignatures(proxy, repository, m.digest);
    try {
      await this.storeManifest(repository, m, tag);
      if (tag) await recordProxyTag(this.db, proxy.projectId, repository, tag, m.digest);
      return this.counted("miss", { kind: "local", status: "miss" });
    } catch (err) {
      if (!(err instanceof MissingReferenceError)) throw err;
    }
    if (tag) await recordProxyTag(this.db, proxy.projectId, repository, tag, m.digest);
    await this.jobs?.queue.enqueue(
      PROXY_CACHE_JOB_KIND,
      { repository, digest: m.digest, ...(tag ? { tag } : {}) } satisfies CachePayload,
      { maxAttempts: 5 },
    );
    return this.counted("miss", {
      kind: "upstream",
      content: m.bytes,
      mediaType: m.mediaType,
      digest: m.digest,
    });
  }

  /**
   * Stores a fetched manifest as a push would: through the registry's push admission first
   * (quota, quality gate, immutable tags; a refusal stores nothing), then in one transaction
   * with its references (MissingReferenceError while blobs are still upstream).
   */
  private async storeManifest(repository: string, m: FetchedManifest, tag: string | undefined) {
    const parsed = parseManifest(m.bytes, m.mediaType);
    const refs = referencedDescriptors(parsed);
    await this.admitPut(repository, m, parsed, tag);
    await putManifest(this.db, {
      repository,
      digest: m.digest,
      mediaType: parsed.mediaType,
      content: m.bytes,
      artifactType: effectiveArtifactType(parsed),
      subjectDigest: parsed.subject?.digest,
      annotations: annotationsOf(parsed),
      references: [
        ...refs.blobs.map((d) => ({ kind: "blob" as const, digest: d.digest })),
        ...refs.manifests.map((d) => ({ kind: "manifest" as const, digest: d.digest })),
      ],
      tag,
      actor: PROXY_ACTOR,
    });
  }

  /**
   * Where the project has a trust policy (enforce or report), brings in the upstream's
   * signatures of `digest` before the pull admission judges it: OCI 1.1 referrers (or their
   * referrers tag) and cosign's `sha256-<hex>.sig` tag. Without them a first pull of a signed
   * image would be judged unsigned. An upstream that cannot say leaves what is cached.
   */
  private async bringSignatures(proxy: ProxyProject, repository: string, digest: string) {
    const ctx = this.registry;
    const policy = await getTrustPolicy(this.db, projectOf(repository));
    if (!ctx || !policy || policy.mode === "off") return;
    await this.referrers(ctx, repository, digest);
    const tag = attachmentTag(digest, "sig");
    if (await resolveTag(this.db, repository, tag)) return;
    const upstream = upstreamName(proxy, repository, await this.endpointType(proxy));
    const head = await this.upstreamCall(proxy, (c) => c.headManifest(upstream, tag)).catch(
      () => undefined,
    );
    if (!head) return;
    const sig = await this.cacheManifest(ctx, proxy, repository, upstream, head.digest, () => {});
    await this.storeManifest(repository, sig, tag);
  }

  /** Stores an image manifest's config blob from the upstream unless it is here already. */
  private async bringConfig(proxy: ProxyProject, repository: string, m: FetchedManifest) {
    const parsed = parseManifest(m.bytes, m.mediaType);
    const ctx = this.registry;
    if (parsed.kind !== "image" || !ctx) return;
    const config = parsed.image.config;
    if (await findRepositoryBlob(this.db, repository, config.digest)) return;
    const upstream = upstreamName(proxy, repository, await this.endpointType(proxy));
    const body = await (await this.clientOf(proxy)).getBlob(upstream, config);
    await this.store(ctx, repository, config.digest, body, config.size, PROXY_PRINCIPAL);
  }

  /** The push admission of a manifest the cache is about to store (or to serve before storing). */
  private async admitPut(
    repository: string,
    m: FetchedManifest,
    parsed: ReturnType<typeof parseManifest>,
    tag: string | undefined,
  ): Promise<void> {
    await this.registry?.admission.beforeManifestPut?.({
      repository,
      reference: tag ?? m.digest,
      ...(tag ? { tag } : {}),
      digest: m.digest,
      manifest: parsed,
      bytes: m.bytes,
      principal: PROXY_PRINCIPAL,
    });
  }

  /** The `proxy.cache` job: brings in a manifest's blobs and child manifests, then stores it. */
  private async runCacheJob(job: JobContext<CachePayload>): Promise<unknown> {
    const { repository, digest, tag } = job.payload;
    const ctx = this.registry;
    if (!ctx) throw new Error("the registry is not started yet");
    const proxy = await this.proxyOf(repository);
    if (!proxy) return { skipped: "no longer a proxy project" };
    const upstream = upstreamName(proxy, repository, await this.endpointType(proxy));
    const fetched = await this.cacheManifest(ctx, proxy, repository, upstream, digest, (l) =>
      job.log(l),
    );
    const check = tag ? await findProxyTag(this.db, repository, tag) : undefined;
    // The tag only when the upstream still said this digest at the last check.
    const keepTag = tag !== undefined && (check === undefined || check.digest === digest);
    await this.storeManifest(repository, fetched, keepTag ? tag : undefined);
    job.log(`cached ${repository}@${digest}${keepTag ? ` as ${tag}` : ""}`);
    return { repository, digest, tag: keepTag ? tag : null };
  }

  private async cacheManifest(
    ctx: RegistryContext,
    proxy: ProxyProject,
    repository: string,
    upstream: string,
    digest: string,
    log: (line: string) => void,
  ): Promise<FetchedManifest> {
    const m = await this.upstreamCall(proxy, (c) => c.getManifest(upstream, digest));
    const refs = referencedDescriptors(parseManifest(m.bytes, m.mediaType));
    for (const child of refs.manifests) {
      if (await getManifestByDigest(this.db, repository, child.digest)) continue;
      const fetched = await this.cacheManifest(ctx, proxy, repository, upstream, child.digest, log);
      await this.storeManifest(repository, fetched, undefined);
    }
    for (const blob of refs.blobs) {
      if (await findRepositoryBlob(this.db, repository, blob.digest)) continue;
      const key = `${repository}@${blob.digest}`;
      const running = this.inflight.get(key);
      if (running) {
        await running.catch(() => undefined);
        if (await findRepositoryBlob(this.db, repository, blob.digest)) continue;
      }
      const client = await this.clientOf(proxy);
      const body = await client.getBlob(upstream, blob);
      const stored = this.store(ctx, repository, blob.digest, body, blob.size, PROXY_PRINCIPAL);
      this.inflight.set(key, stored);
      await stored.finally(() => this.inflight.delete(key));
      log(`fetched ${blob.digest} (${blob.size} bytes)`);
    }
    return m;
  }

  private async proxyOf(repository: string): Promise<ProxyProject | undefined> {
    const slash = repository.indexOf("/");
    if (slash === -1) return undefined;
    const project = repository.slice(0, slash);
    const known = this.projects.get(project);
    if (known && Date.now() - known.at < 5_000) return known.proxy;
    const proxy = await findProxyProject(this.db, project);
    this.projects.set(project, { at: Date.now(), proxy });
    return proxy;
  }

  private async endpointType(proxy: ProxyProject): Promise<string> {
    return (await this.endpoints.find(proxy.endpointId))?.type ?? "distribution";
  }

  private async clientOf(proxy: ProxyProject): Promise<RegistryClient> {
    const endpoint = await this.endpoints.get(proxy.endpointId);
    if (!endpoint) throw new UpstreamUnavailable(`endpoint ${proxy.endpointName} is gone`);
    const key = `${endpoint.url} ${endpoint.updatedAt}`;
    const cached = this.clients.get(endpoint.id);
    if (cached?.key === key) return cached.client;
    if (cached) void cached.client.close();
    const client = registryClientFor(endpoint, {
      attempts: 1,
      timeoutMs: this.options.upstreamTimeoutMs,
      userAgent: "berth-proxy-cache/1",
    });
    this.clients.set(endpoint.id, { key, client });
    return client;
  }

  /** Runs a call on the upstream; undefined for "not found", UpstreamUnavailable otherwise. */
  private async upstreamCall<T>(
    proxy: ProxyProject,
    call: (client: RegistryClient) => Promise<T>,
  ): Promise<T> {
    const client = await this.clientOf(proxy);
    try {
      return await call(client);
    } catch (err) {
      if (err instanceof ClientError && err.kind === "not-found") return undefined as T;
      throw new UpstreamUnavailable(describe(err));
    }
  }

  private stale(
    proxy: ProxyProject,
    repository: string,
    tag: string,
    err: unknown,
  ): ManifestOutcome {
    this.logger.warn(
      { repository, tag, endpoint: proxy.endpointName, reason: describe(err) },
      "proxy cache: upstream unavailable, serving the cached copy",
    );
    return this.counted("stale", { kind: "local", status: "stale" });
  }

  private unavailable(proxy: ProxyProject, repository: string, err: unknown, what: string): never {
    if (err instanceof RegistryError) throw err;
    this.logger.warn(
      { repository, endpoint: proxy.endpointName, reason: describe(err) },
      `proxy cache: upstream unavailable and the ${what} is not cached`,
    );
    proxyCacheRequests.inc({ result: "unavailable" });
    throw new RegistryError(
      "UNKNOWN",
      `the upstream of proxy project "${proxy.project}" is unavailable and this ${what} is not cached`,
      { status: 503, headers: { "Retry-After": "30" } },
    );
  }

  private counted<T>(result: "hit" | "miss" | "stale", value: T): T {
    proxyCacheRequests.inc({ result });
    return value;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.client.close()));
    this.clients.clear();
  }
}

/** The upstream repository of `repository` (PROJECT/REST → REST; library/ on Docker Hub). */
export function upstreamName(proxy: ProxyProject, repository: string, type: string): string {
  const rest = repository.slice(proxy.project.length + 1);
  return type === "docker-hub" && !rest.includes("/") ? `library/${rest}` : rest;
}

function manifestUnknown(reference: string): RegistryError {
  return new RegistryError("MANIFEST_UNKNOWN", "manifest unknown", {
    detail: { reference: reference.slice(0, 200) },
  });
}

function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } };
  return e?.cause?.message ? `${e.message}: ${e.cause.message}` : (e?.message ?? String(err));
}
