// The registry client: the OCI Distribution API as methods (manifests, blobs, uploads,
// mounts, tags, catalog, referrers) over RegistryHttp. Used by the CLI, transports,
// replication and the proxy cache. Blob downloads stream and resume with `Range` after a
// dropped connection; uploads stream (monolithic PUT, or PATCH chunks of a set size) after a
// HEAD existence check. Never holds a blob in memory.
import type { Readable } from "node:stream";
import {
  baseMediaType,
  type Descriptor,
  digestOf,
  type ImageIndex,
  isDigest,
  MANIFEST_MEDIA_TYPES,
  MediaType,
  parseDigest,
} from "../oci/index.js";
import { downloadBlob } from "./blob-download.js";
import { uploadChunked } from "./chunked-upload.js";
import { RegistryError, refusedCredentials } from "./errors.js";
import { type ClientOptions, headerOf, RegistryHttp } from "./http.js";

export type { ClientOptions } from "./http.js";

export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly digest: string;
}

export interface ManifestHead {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
}

export interface UploadOptions {
  /** Try a cross-repository mount from these repositories of the same registry first. */
  mountFrom?: string[];
  /** Upload in PATCH chunks of this many bytes instead of one streamed PUT. */
  chunkSize?: number;
}

const MANIFEST_ACCEPT = [...MANIFEST_MEDIA_TYPES, MediaType.DockerSchema1Signed].join(", ");
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Answers to GET /v2/<repo>/referrers/<digest> that mean "no referrers API here". */
const REFERRERS_UNSUPPORTED = new Set([400, 404, 405, 406, 501]);

const pull = (repo: string) => `repository:${repo}:pull`;
const push = (repo: string) => `repository:${repo}:pull,push`;

export class RegistryClient {
  readonly http: RegistryHttp;

  constructor(
    readonly registry: string,
    options: ClientOptions = {},
  ) {
    this.http = new RegistryHttp(registry, options);
  }

  /** Checks the registry answers /v2/ with the stored (or given) credentials. */
  async ping(): Promise<void> {
    const res = await this.http.send({
      method: "GET",
      path: "/v2/",
      scopes: [],
      allowUnauthorized: true,
    });
    if (res.statusCode === 200) {
      await res.body.dump();
      return;
    }
    if (res.statusCode !== 401) await this.http.fail(res, "the /v2/ endpoint");
    const challenge = headerOf(res, "www-authenticate");
    await res.body.dump();
    await this.http.auth.onUnauthorized(challenge, [], false);
    const again = await this.http.send({
      method: "GET",
      path: "/v2/",
      scopes: [],
      allowUnauthorized: true,
    });
    if (again.statusCode === 200) {
      await again.body.dump();
      return;
    }
    if (again.statusCode === 401) {
      await again.body.dump();
      const credential = await this.http.options.credentials?.(this.registry);
      throw credential
        ? refusedCredentials(this.registry, credential.username)
        : new RegistryError(
            "unauthorized",
            `${this.registry} requires authentication; run "berth login ${this.registry}"`,
            401,
          );
    }
    await this.http.fail(again, "the /v2/ endpoint");
  }

  async getManifest(repo: string, reference: string): Promise<FetchedManifest> {
    const res = await this.http.send({
      method: "GET",
      path: `/v2/${repo}/manifests/${reference}`,
      scopes: [pull(repo)],
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (res.statusCode !== 200) await this.http.fail(res, `manifest ${at(repo, reference)}`);
    const bytes = Buffer.from(await res.body.arrayBuffer());
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new RegistryError("protocol", `manifest ${at(repo, reference)} is larger than 4 MiB`);
    }
    const header = headerOf(res, "content-type");
    const mediaType = header ? baseMediaType(header) : mediaTypeFromBody(bytes);
    if (mediaType === MediaType.DockerSchema1Signed || mediaType === MediaType.DockerSchema1) {
      throw new RegistryError(
        "protocol",
        `${at(repo, reference)} is a Docker schema 1 image, which is not supported`,
      );
    }
    const algorithm = isDigest(reference) ? parseDigest(reference).algorithm : "sha256";
    const digest = digestOf(bytes, algorithm);
    if (isDigest(reference) && digest !== reference) {
      throw new RegistryError(
        "protocol",
        `${this.registry} served manifest bytes that do not match ${reference}`,
      );
    }
    return {
      bytes,
      mediaType: MANIFEST_MEDIA_TYPES.includes(mediaType) ? mediaType : mediaTypeFromBody(bytes),
      digest,
    };
  }

  /** The manifest's digest, media type and size without its body; undefined if absent. */
  async headManifest(repo: string, reference: string): Promise<ManifestHead | undefined> {
    const res = await this.http.send({
      method: "HEAD",
      path: `/v2/${repo}/manifests/${reference}`,
      scopes: [pull(repo)],
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (res.statusCode !== 200 && res.statusCode !== 404)
      await this.http.fail(res, `manifest ${at(repo, reference)}`);
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    const digest = headerOf(res, "docker-content-digest");
    if (!digest) {
      const full = await this.getManifest(repo, reference);
      return { digest: full.digest, mediaType: full.mediaType, size: full.bytes.length };
    }
    return {
      digest,
      mediaType: baseMediaType(headerOf(res, "content-type") ?? ""),
      size: Number(headerOf(res, "content-length") ?? 0),
    };
  }

  async putManifest(
    repo: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<string> {
    return (await this.putManifestAndSubject(repo, reference, bytes, mediaType)).digest;
  }

  /**
   * PUT of a manifest that may carry a `subject`: also says whether the registry processed
   * the subject (the `OCI-Subject` header of OCI 1.1). When it did not, the pusher maintains
   * the `sha256-<hex>` referrers tag itself.
   */
  async putManifestAndSubject(
    repo: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<{ digest: string; subjectProcessed: boolean }> {
    const res = await this.http.send({
      method: "PUT",
      path: `/v2/${repo}/manifests/${reference}`,
      scopes: [push(repo)],
      headers: { "content-type": mediaType },
      body: bytes,
    });
    if (res.statusCode !== 201 && res.statusCode !== 200 && res.statusCode !== 202) {
      await this.http.fail(res, `manifest ${at(repo, reference)}`);
    }
    await res.body.dump();
    return {
      digest: headerOf(res, "docker-content-digest") ?? digestOf(bytes),
      subjectProcessed: headerOf(res, "oci-subject") !== undefined,
    };
  }

  async deleteManifest(repo: string, digest: string): Promise<void> {
    const res = await this.http.send({
      method: "DELETE",
      path: `/v2/${repo}/manifests/${digest}`,
      scopes: [`repository:${repo}:delete`, push(repo)],
    });
    if (res.statusCode !== 202 && res.statusCode !== 200) {
      if (res.statusCode === 405) {
        await res.body.dump();
        throw new RegistryError(
          "denied",
          `${this.registry} does not allow deleting manifests`,
          405,
        );
      }
      await this.http.fail(res, `manifest ${repo}@${digest}`);
    }
    await res.body.dump();
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const res = await this.http.send({
      method: "HEAD",
      path: `/v2/${repo}/blobs/${digest}`,
      scopes: [pull(repo)],
    });
    if (res.statusCode !== 200 && res.statusCode !== 404)
      await this.http.fail(res, `blob ${digest} in ${repo}`);
    await res.body.dump();
    return res.statusCode === 200;
  }

  /** Streams a blob, resuming with Range after dropped connections; verifies its digest. */
  getBlob(repo: string, descriptor: Descriptor): Promise<Readable> {
    return downloadBlob(this, repo, descriptor);
  }

  /** Mounts a blob from another repository of this registry; true when it is now present. */
  async mountBlob(repo: string, digest: string, from: string): Promise<boolean> {
    const res = await this.http.send({
      method: "POST",
      path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      scopes: [push(repo), pull(from)],
      // No right to read `from` is not an error here: the blob is then uploaded instead.
      allowUnauthorized: true,
    });
    await res.body.dump();
    if (res.statusCode === 201) return true;
    if (res.statusCode === 202) {
      await this.cancelUpload(repo, headerOf(res, "location"));
      return false;
    }
    return false;
  }

  /** Uploads a blob from a stream (not retried here: the caller re-opens the source). */
  async uploadBlob(
    repo: string,
    descriptor: Descriptor,
    content: Readable,
    options: UploadOptions = {},
  ): Promise<void> {
    for (const from of options.mountFrom ?? []) {
      if (from !== repo && (await this.mountBlob(repo, descriptor.digest, from))) {
        content.destroy();
        return;
      }
    }
    const location = await this.startUpload(repo);
    if (options.chunkSize && descriptor.size > options.chunkSize) {
      const final = await uploadChunked(
        this,
        repo,
        location,
        content,
        options.chunkSize,
        descriptor.size,
      );
      await this.finishUpload(repo, final, descriptor, undefined);
      return;
    }
    await this.finishUpload(repo, location, descriptor, content);
  }

  async startUpload(repo: string): Promise<string> {
    const res = await this.http.send({
      method: "POST",
      path: `/v2/${repo}/blobs/uploads/`,
      scopes: [push(repo)],
    });
    if (res.statusCode !== 202) await this.http.fail(res, `an upload to ${repo}`);
    await res.body.dump();
    const location = headerOf(res, "location");
    if (!location)
      throw new RegistryError("protocol", `${this.registry} started an upload without a Location`);
    return this.http.url(new URL(location, this.http.baseUrl).toString());
  }

  private async finishUpload(
    repo: string,
    location: string,
    descriptor: Descriptor,
    content: Readable | undefined,
  ): Promise<void> {
    const url = new URL(location);
    url.searchParams.set("digest", descriptor.digest);
    const res = await this.http.send({
      method: "PUT",
      path: url.toString(),
      scopes: [push(repo)],
      headers: content
        ? { "content-type": "application/octet-stream", "content-length": String(descriptor.size) }
        : { "content-length": "0" },
      body: content ?? Buffer.alloc(0),
    });
    if (res.statusCode !== 201 && res.statusCode !== 204)
      await this.http.fail(res, `blob ${descriptor.digest} upload to ${repo}`);
    await res.body.dump();
  }

  private async cancelUpload(repo: string, location: string | undefined): Promise<void> {
    if (!location) return;
    try {
      const res = await this.http.send({
        method: "DELETE",
        path: new URL(location, this.http.baseUrl).toString(),
        scopes: [push(repo)],
      });
      await res.body.dump();
    } catch {
      // an abandoned upload session expires on its own
    }
  }

  /** Every tag of a repository, following `Link` pagination. */
  async listTags(repo: string): Promise<string[]> {
    const tags: string[] = [];
    await this.paginate(`/v2/${repo}/tags/list?n=1000`, [pull(repo)], `tags of ${repo}`, (doc) => {
      tags.push(...(((doc as { tags?: string[] | null }).tags ?? []) as string[]));
    });
    return tags;
  }

  async catalog(): Promise<string[]> {
    const repos: string[] = [];
    await this.paginate("/v2/_catalog?n=1000", ["registry:catalog:*"], "the catalog", (doc) => {
      repos.push(...((doc as { repositories?: string[] | null }).repositories ?? []));
    });
    return repos;
  }

  /** Referrers of a manifest (OCI 1.1 API, else the `sha256-<hex>` tag schema fallback). */
  async referrers(repo: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : "";
    const res = await this.http.send({
      method: "GET",
      path: `/v2/${repo}/referrers/${digest}${query}`,
      scopes: [pull(repo)],
      headers: { accept: MediaType.OciIndex },
    });
    const type = baseMediaType(headerOf(res, "content-type") ?? "");
    if (res.statusCode === 200 && type === MediaType.OciIndex) {
      const all = parseIndexManifests(await res.body.text(), `referrers of ${digest}`);
      return artifactType ? all.filter((d) => d.artifactType === artifactType) : all;
    }
    // A registry without the API answers 404 (the spec's signal to fall back); older ones
    // also answer 400/405/406/501 for the unknown route, or 200 with something else.
    if (res.statusCode !== 200 && !REFERRERS_UNSUPPORTED.has(res.statusCode))
      await this.http.fail(res, `referrers of ${digest}`);
    await res.body.dump();
    return this.referrersByTag(repo, digest, artifactType);
  }

  private async referrersByTag(
    repo: string,
    digest: string,
    artifactType?: string,
  ): Promise<Descriptor[]> {
    const d = parseDigest(digest);
    const tag = `${d.algorithm}-${d.encoded}`;
    let index: FetchedManifest;
    try {
      index = await this.getManifest(repo, tag);
    } catch (err) {
      if (err instanceof RegistryError && err.kind === "not-found") return [];
      throw err;
    }
    const all = parseIndexManifests(index.bytes.toString("utf8"), `${repo}:${tag}`);
    return artifactType ? all.filter((m) => m.artifactType === artifactType) : all;
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private async paginate(
    first: string,
    scopes: string[],
    what: string,
    take: (doc: unknown) => void,
  ): Promise<void> {
    let path: string | undefined = first;
    for (let page = 0; path && page < 10_000; page++) {
      const res = await this.http.send({ method: "GET", path, scopes });
      if (res.statusCode !== 200) await this.http.fail(res, what);
      const text = await res.body.text();
      try {
        take(JSON.parse(text));
      } catch {
        throw new RegistryError("protocol", `${this.registry} sent invalid JSON for ${what}`);
      }
      path = nextLink(headerOf(res, "link"), this.http.baseUrl);
    }
  }
}

/** `repo:tag` or `repo@digest`, as users write references. */
function at(repo: string, reference: string): string {
  return isDigest(reference) ? `${repo}@${reference}` : `${repo}:${reference}`;
}

/** The `rel="next"` target of a Link header, resolved against the registry. */
export function nextLink(header: string | undefined, base: string): string | undefined {
  if (!header) return undefined;
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header);
  if (!match?.[1]) return undefined;
  const url = new URL(match[1], base);
  return `${url.pathname}${url.search}`;
}

/** The `manifests` of an index document; a protocol error (not a crash) when it is not one. */
function parseIndexManifests(text: string, what: string): Descriptor[] {
  let doc: ImageIndex;
  try {
    doc = JSON.parse(text) as ImageIndex;
  } catch {
    throw new RegistryError("protocol", `the registry sent invalid JSON for ${what}`);
  }
  return Array.isArray(doc?.manifests) ? doc.manifests : [];
}

function mediaTypeFromBody(bytes: Buffer): string {
  try {
    const doc = JSON.parse(bytes.toString("utf8")) as {
      mediaType?: string;
      manifests?: unknown;
      schemaVersion?: number;
    };
    if (doc.mediaType) return doc.mediaType;
    if (doc.schemaVersion === 1) return MediaType.DockerSchema1;
    return Array.isArray(doc.manifests) ? MediaType.OciIndex : MediaType.OciManifest;
  } catch {
    throw new RegistryError("protocol", "the registry sent a manifest that is not JSON");
  }
}
