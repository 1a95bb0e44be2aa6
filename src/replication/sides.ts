// The two ends of a replication: this Berth (LocalSide, straight on meta/ and storage/, the
// way an upload commits) and a remote registry endpoint (RemoteSide, over the registry
// client). The engine sees only ReplicationSide: list repositories and tags, resolve a tag,
// open an image as an ImageSource or ImageDestination (transport/types.ts, what `berth copy`
// and `berth mirror` use), list referrers, store a referrer so the other side finds it, and
// delete. Local writes pin each blob, commit its bytes through a digest check, then record
// and link it; manifests are stored with their references and a `manifest.pushed` outbox
// event in one transaction (meta/manifests.ts), like a push.
// Never: make a blob readable in a repository without its bytes having been received and
// verified there, or buffer a blob.
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { Kysely } from "kysely";
import { RegistryError } from "../client/errors.js";
import type { RegistryClient } from "../client/registry-client.js";
import { VerifyingStream } from "../client/verifying-stream.js";
import {
  type Database,
  deleteManifest,
  findRepositoryBlob,
  getManifestByDigest,
  listReferrers,
  listRepositories,
  listTags,
  pinBlob,
  putManifest,
  recordBlobInRepository,
  resolveTag,
  SYSTEM_ACTOR,
} from "../meta/index.js";
import {
  annotationsOf,
  type Descriptor,
  effectiveArtifactType,
  type ImageIndex,
  isDigest,
  MediaType,
  parseDigest,
  parseManifest,
  projectOf,
  referencedDescriptors,
} from "../oci/index.js";
import type { BlobStore } from "../storage/index.js";
import { RegistryDestination, RegistrySource } from "../transport/registry.js";
import type {
  ImageDestination,
  ImageSource,
  ManifestBytes,
  ManifestPlacement,
} from "../transport/types.js";

export interface ReplicationSide {
  readonly description: string;
  listRepositories(): Promise<string[]>;
  listTags(repository: string): Promise<string[]>;
  /** The digest a tag (or digest) names, undefined when absent. */
  resolve(repository: string, reference: string): Promise<string | undefined>;
  source(repository: string, reference: string): ImageSource;
  destination(repository: string, tag: string | undefined): ImageDestination;
  /** Referrers of `digest` (OCI 1.1 API, or the `sha256-<hex>` referrers tag). */
  referrers(repository: string, digest: string): Promise<Descriptor[]>;
  /**
   * Stores a manifest that has a subject so that this side's referrers listing finds it:
   * by the referrers API when the registry processes `subject`, else by maintaining the
   * `sha256-<hex>` referrers tag index.
   */
  putReferrer(repository: string, manifest: ManifestBytes, descriptor: Descriptor): Promise<void>;
  deleteManifest(repository: string, digest: string): Promise<void>;
  close(): Promise<void>;
}

/** The OCI 1.1 referrers tag of a subject (`sha256-<hex>`). */
export function referrersTag(subject: string): string {
  const d = parseDigest(subject);
  return `${d.algorithm}-${d.encoded}`;
}

/** Tags that are attachments (cosign's `.sig/.att/.sbom`, the referrers tag), not images. */
export function isAttachmentTag(tag: string): boolean {
  return /^sha256-[a-f0-9]{64}(\.(sig|att|sbom))?$/.test(tag);
}

/** Mounts tried per missing blob before it is uploaded (each try is a POST). */
export const MOUNT_TRIES = 3;

export class RemoteSide implements ReplicationSide {
  /** Repositories of this registry written by replication, most recent first (mount sources). */
  private readonly written: string[];

  constructor(
    readonly description: string,
    readonly client: RegistryClient,
    /** Repositories to list when the registry refuses its catalog (pull rules name them). */
    private readonly knownRepositories: string[] = [],
    /** Repositories earlier runs wrote here: a blob missing in one may be mounted from them. */
    mountCandidates: string[] = [],
  ) {
    this.written = [...mountCandidates];
  }

  async listRepositories(): Promise<string[]> {
    try {
      return await this.client.catalog();
    } catch (err) {
      if (this.knownRepositories.length > 0) return this.knownRepositories;
      throw err;
    }
  }

  async listTags(repository: string): Promise<string[]> {
    try {
      return await this.client.listTags(repository);
    } catch (err) {
      if (err instanceof RegistryError && err.kind === "not-found") return [];
      throw err;
    }
  }

  async resolve(repository: string, reference: string): Promise<string | undefined> {
    return (await this.client.headManifest(repository, reference))?.digest;
  }

  source(repository: string, reference: string): ImageSource {
    const ref = isDigest(reference) ? { digest: reference } : { tag: reference };
    return new RegistrySource(`${this.description}/${repository}`, this.client, {
      registry: this.client.registry,
      repository,
      ...ref,
    });
  }

  destination(repository: string, tag: string | undefined): ImageDestination {
    const dest = new RegistryDestination(`${this.description}/${repository}`, this.client, {
      registry: this.client.registry,
      repository,
      ...(tag ? { tag } : {}),
    });
    // HEAD first (the copy engine), then a cross-repository mount from a repository this
    // registry already holds replicated content in, then an upload.
    dest.mountFrom = this.written.filter((r) => r !== repository).slice(0, MOUNT_TRIES);
    if (!this.written.includes(repository)) this.written.unshift(repository);
    return closeless(dest);
  }

  referrers(repository: string, digest: string): Promise<Descriptor[]> {
    return this.client.referrers(repository, digest);
  }

  async putReferrer(
    repository: string,
    manifest: ManifestBytes,
    descriptor: Descriptor,
  ): Promise<void> {
    const put = await this.client.putManifestAndSubject(
      repository,
      manifest.digest,
      manifest.bytes,
      manifest.mediaType,
    );
    const parsed = parseManifest(manifest.bytes, manifest.mediaType);
    const subject = parsed.subject?.digest;
    if (put.subjectProcessed || !subject) return;
    const tag = referrersTag(subject);
    let manifests: Descriptor[] = [];
    try {
      const m = await this.client.getManifest(repository, tag);
      const index = parseManifest(m.bytes, m.mediaType);
      if (index.kind === "index") manifests = index.index.manifests;
    } catch (err) {
      if (!(err instanceof RegistryError && err.kind === "not-found")) throw err;
    }
    if (manifests.some((m) => m.digest === descriptor.digest)) return;
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [...manifests, descriptor],
    };
    await this.client.putManifest(
      repository,
      tag,
      Buffer.from(JSON.stringify(index)),
      MediaType.OciIndex,
    );
  }

  async deleteManifest(repository: string, digest: string): Promise<void> {
    try {
      await this.client.deleteManifest(repository, digest);
    } catch (err) {
      if (err instanceof RegistryError && err.kind === "not-found") return;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** The client is the side's: closing one image's destination must not close it. */
function closeless(dest: RegistryDestination): RegistryDestination {
  dest.close = async () => {};
  return dest;
}

/** The destination cannot take the artifact, whatever the number of attempts. */
export class DestinationError extends Error {}

/** How long a blob row stays pinned while its bytes are committed (ms). */
const PIN_MS = 30 * 60_000;

export class LocalSide implements ReplicationSide {
  readonly description = "this registry";

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: BlobStore,
  ) {}

  async listRepositories(): Promise<string[]> {
    const all: string[] = [];
    for (let page = await listRepositories(this.db, undefined, 1000); page.length > 0; ) {
      all.push(...page);
      if (page.length < 1000) break;
      page = await listRepositories(this.db, page[page.length - 1], 1000);
    }
    return all;
  }

  async listTags(repository: string): Promise<string[]> {
    const all: string[] = [];
    for (let page = await listTags(this.db, repository, undefined, 1000); page.length > 0; ) {
      all.push(...page);
      if (page.length < 1000) break;
      page = await listTags(this.db, repository, page[page.length - 1], 1000);
    }
    return all;
  }

  async resolve(repository: string, reference: string): Promise<string | undefined> {
    if (!isDigest(reference)) return resolveTag(this.db, repository, reference);
    return (await getManifestByDigest(this.db, repository, reference))?.digest;
  }

  source(repository: string, reference: string): ImageSource {
    return new LocalSource(this.db, this.store, repository, reference);
  }

  destination(repository: string, tag: string | undefined): ImageDestination {
    return new LocalDestination(this.db, this.store, repository, tag);
  }

  async referrers(repository: string, digest: string): Promise<Descriptor[]> {
    const rows = await listReferrers(this.db, repository, digest);
    return rows.map((r) => ({
      mediaType: r.mediaType,
      digest: r.digest,
      size: r.size,
      ...(r.artifactType ? { artifactType: r.artifactType } : {}),
      ...(r.annotations ? { annotations: r.annotations } : {}),
    }));
  }

  async putReferrer(repository: string, manifest: ManifestBytes): Promise<void> {
    // Berth processes `subject` itself: the referrers API lists the manifest once stored.
    await this.destination(repository, undefined).putManifest(manifest, undefined, "child");
  }

  async deleteManifest(repository: string, digest: string): Promise<void> {
    await deleteManifest(this.db, repository, digest);
  }

  async close(): Promise<void> {}
}

class LocalSource implements ImageSource {
  readonly description: string;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: BlobStore,
    private readonly repository: string,
    private readonly reference: string,
  ) {
    this.description = `${repository}${isDigest(reference) ? "@" : ":"}${reference}`;
  }

  async getManifest(digest?: string): Promise<ManifestBytes> {
    let wanted = digest ?? this.reference;
    if (!isDigest(wanted)) {
      const resolved = await resolveTag(this.db, this.repository, wanted);
      if (!resolved) throw new RegistryError("not-found", `${this.description} does not exist`);
      wanted = resolved;
    }
    const m = await getManifestByDigest(this.db, this.repository, wanted);
    if (!m) throw new RegistryError("not-found", `${this.repository}@${wanted} does not exist`);
    return { bytes: m.content, mediaType: m.mediaType, digest: m.digest };
  }

  async getBlob(descriptor: Descriptor): Promise<Readable> {
    if (!(await findRepositoryBlob(this.db, this.repository, descriptor.digest)))
      throw new RegistryError(
        "not-found",
        `blob ${descriptor.digest} is not in ${this.repository}`,
      );
    return this.store.read(descriptor.digest);
  }

  async close(): Promise<void> {}
}

class LocalDestination implements ImageDestination {
  readonly description: string;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: BlobStore,
    private readonly repository: string,
    private readonly tag: string | undefined,
  ) {
    this.description = `${repository}${tag ? `:${tag}` : ""}`;
  }

  private projectChecked: Promise<void> | undefined;

  /** Pulls land only in projects that exist (as pushes do; nothing is created implicitly). */
  private requireProject(): Promise<void> {
    this.projectChecked ??= (async () => {
      const project = projectOf(this.repository);
      const row = await this.db
        .selectFrom("projects")
        .select("id")
        .where("name", "=", project)
        .executeTakeFirst();
      if (!row)
        throw new DestinationError(
          `project "${project}" does not exist here; create it first (berth admin project create ${project})`,
        );
    })();
    return this.projectChecked;
  }

  async hasBlob(descriptor: Descriptor): Promise<boolean> {
    await this.requireProject();
    return (await findRepositoryBlob(this.db, this.repository, descriptor.digest)) !== undefined;
  }

  async putBlob(descriptor: Descriptor, content: Readable): Promise<void> {
    const { digest, size } = descriptor;
    const until = Date.now() + PIN_MS;
    const pin = await pinBlob(this.db, digest, size, until);
    if (!pin.pinned) throw new RegistryError("server", `blob ${digest} is being deleted; retry`);
    const id = randomUUID();
    await this.store.createUpload(id);
    try {
      const written = await this.store.writeUpload(
        id,
        0,
        content,
        new VerifyingStream({ digest, size }),
      );
      if (written !== size)
        throw new RegistryError("protocol", `blob ${digest}: ${written} bytes, expected ${size}`);
      await this.store.commitUpload(id, digest, size);
    } catch (err) {
      await this.store.deleteUpload(id).catch(() => {});
      throw err;
    }
    await recordBlobInRepository(this.db, this.repository, digest, size, SYSTEM_ACTOR, until);
  }

  async putManifest(
    manifest: ManifestBytes,
    tag?: string,
    placement?: ManifestPlacement,
  ): Promise<void> {
    await this.requireProject();
    if (tag === undefined && placement === "top") tag = this.tag;
    const parsed = parseManifest(manifest.bytes, manifest.mediaType);
    const refs = referencedDescriptors(parsed);
    await putManifest(this.db, {
      repository: this.repository,
      digest: manifest.digest,
      mediaType: parsed.mediaType,
      content: manifest.bytes,
      artifactType: effectiveArtifactType(parsed),
      subjectDigest: parsed.subject?.digest,
      annotations: annotationsOf(parsed),
      references: [
        ...refs.blobs.map((d) => ({ kind: "blob" as const, digest: d.digest })),
        ...refs.manifests.map((d) => ({ kind: "manifest" as const, digest: d.digest })),
      ],
      ...(tag ? { tag } : {}),
      actor: { principal: "replication", remoteAddress: "" },
    });
  }

  async close(): Promise<void> {}
}
