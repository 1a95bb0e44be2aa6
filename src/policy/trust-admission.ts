// Enforces per-project trust policies at the registry: the `beforeManifestPull` admission hook
// (GET and HEAD of a manifest, by tag or digest). It reads what is attached to the image
// straight from the metadata database and blob store (no HTTP), hands it to the one
// signature evaluator (sign/verify.ts), and decides with policy/trust.ts.
//
// Caches (per process): a project's policy for POLICY_TTL_MS (and dropped at once when this
// process changes it), and per repository the "is this digest signed by this key set"
// answers, dropped whenever a manifest or tag of that repository is pushed or deleted (a new
// or removed signature is always one of those). With several replicas, another replica's
// policy change takes effect within POLICY_TTL_MS; signature changes are seen at once only by
// the replica that took them, and by the others within SIGNED_TTL_MS.
// HEAD is never gated: it reveals only digest, media type and size (what a signer needs to
// sign an image of an enforcing project), while every pull needs a GET. Never gates
// attachments, never throws anything but RegistryError DENIED for a refusal.
import { createPublicKey } from "node:crypto";
import type { Kysely } from "kysely";
import {
  type Database,
  getManifestByDigest,
  getTrustPolicy,
  listReferrers,
  resolveTag,
  type TrustMode,
} from "../meta/index.js";
import { isDigest, parseManifest, projectOf } from "../oci/index.js";
import type { Admission, ManifestPullRequest } from "../registry/admission.js";
import { RegistryError } from "../registry/errors.js";
import type { RegistryEvents } from "../registry/events.js";
import { isAttachmentArtifact } from "../sign/attached.js";
import {
  type AttachmentReader,
  discoverSignatures,
  MAX_ATTACHMENT_BYTES,
} from "../sign/discover.js";
import { evaluateSignatures, type TrustedKey, validSignatures } from "../sign/verify.js";
import type { BlobStore } from "../storage/index.js";
import { decideTrust, type TrustSubject } from "./trust.js";

const POLICY_TTL_MS = 2_000;
const SIGNED_TTL_MS = 30_000;
/** Parsed subjects kept (a manifest's bytes never change under its digest). */
const SUBJECT_CACHE_ENTRIES = 4096;

interface LoadedPolicy {
  mode: TrustMode;
  keys: TrustedKey[];
  /** Identifies the key set in cache keys: rotating keys invalidates every answer. */
  keySetId: string;
  loadedAt: number;
}

export interface TrustAuditSink {
  refused(entry: {
    project: string;
    repository: string;
    digest: string;
    principal: ManifestPullRequest["principal"];
    reason: string;
    mode: TrustMode;
  }): void;
}

export interface TrustAdmissionDeps {
  db: Kysely<Database>;
  store: BlobStore;
  events: RegistryEvents;
  audit: TrustAuditSink;
  now?: () => number;
}

export class TrustAdmission implements Admission {
  private readonly policies = new Map<string, LoadedPolicy>();
  /** repository → (digest|keySetId → signed?, at) */
  private readonly signed = new Map<string, Map<string, { signed: boolean; at: number }>>();
  private readonly subjects = new Map<
    string,
    Omit<TrustSubject, "isAttachment"> & { attachment: boolean | "by-tag" }
  >();
  private readonly now: () => number;

  constructor(private readonly deps: TrustAdmissionDeps) {
    this.now = deps.now ?? Date.now;
    const drop = (e: { repository: string }) => this.signed.delete(e.repository);
    deps.events.on("manifest.pushed", drop);
    deps.events.on("manifest.deleted", drop);
    deps.events.on("tag.deleted", drop);
  }

  get db(): Kysely<Database> {
    return this.deps.db;
  }

  /** What is attached to images of `repository`, read from metadata and blobs. */
  reader(repository: string): AttachmentReader {
    return metaAttachmentReader(this.deps, repository);
  }

  /** Forget a project's cached policy (after this process changed it). */
  invalidate(project: string): void {
    this.policies.delete(project);
  }

  async beforeManifestPull(request: ManifestPullRequest): Promise<void> {
    if (request.method === "HEAD") return;
    const project = projectOf(request.repository);
    const policy = await this.policy(project);
    if (policy.mode === "off") return;
    const subject = await this.subject(request);
    if (!subject) return;
    const isSigned = await this.signedLookup(request.repository, policy, subject);
    const decision = decideTrust(project, policy.mode, subject, isSigned);
    if (decision.signed || subject.isAttachment) return;
    this.deps.audit.refused({
      project,
      repository: request.repository,
      digest: request.digest,
      principal: request.principal,
      reason: decision.reason,
      mode: policy.mode,
    });
    if (!decision.allow) {
      throw new RegistryError("DENIED", decision.reason, { detail: { policy: "trust", project } });
    }
  }

  private async policy(project: string): Promise<LoadedPolicy> {
    const cached = this.policies.get(project);
    if (cached && this.now() - cached.loadedAt < POLICY_TTL_MS) return cached;
    const stored = await getTrustPolicy(this.deps.db, project);
    const keys: TrustedKey[] = (stored?.keys ?? []).map((k) => ({
      fingerprint: k.fingerprint,
      key: createPublicKey(k.publicKeyPem),
    }));
    const loaded: LoadedPolicy = {
      mode: stored?.mode ?? "off",
      keys,
      keySetId: keys.map((k) => k.fingerprint).join(","),
      loadedAt: this.now(),
    };
    this.policies.set(project, loaded);
    return loaded;
  }

  private async subject(request: ManifestPullRequest): Promise<TrustSubject | undefined> {
    const key = `${request.repository}@${request.digest}`;
    let known = this.subjects.get(key);
    if (!known) {
      // Not stored yet (a proxy-cache miss served from the upstream's bytes): judged by the
      // bytes being served, never let through unjudged.
      const stored =
        (await getManifestByDigest(this.deps.db, request.repository, request.digest)) ??
        (request.content
          ? { digest: request.digest, content: request.content, mediaType: request.mediaType }
          : undefined);
      if (!stored) return undefined;
      const parsed = parseManifest(stored.content, stored.mediaType);
      known =
        parsed.kind === "index"
          ? {
              digest: stored.digest,
              attachment: parsed.subject !== undefined,
              children: parsed.index.manifests.map((m) => m.digest),
            }
          : {
              digest: stored.digest,
              attachment: isAttachmentArtifact(parsed.image) || "by-tag",
              children: [],
            };
      if (this.subjects.size >= SUBJECT_CACHE_ENTRIES) this.subjects.clear();
      this.subjects.set(key, known);
    }
    // Whether the tag is an attachment tag (`sha256-<hex>.sig`) depends on the request.
    const isAttachment =
      known.attachment === "by-tag" ? isAttachmentArtifact({}, request.tag) : known.attachment;
    return { digest: known.digest, isAttachment, children: known.children };
  }

  /** Computes (or recalls) which of the subject's digests are signed, then answers by digest. */
  private async signedLookup(
    repository: string,
    policy: LoadedPolicy,
    subject: TrustSubject,
  ): Promise<(digest: string) => boolean> {
    const digests = [subject.digest, ...subject.children];
    const answers = new Map<string, boolean>();
    for (const digest of digests)
      answers.set(digest, await this.isSigned(repository, policy, digest));
    return (digest) => answers.get(digest) === true;
  }

  private async isSigned(
    repository: string,
    policy: LoadedPolicy,
    digest: string,
  ): Promise<boolean> {
    let perRepo = this.signed.get(repository);
    if (!perRepo) {
      perRepo = new Map();
      this.signed.set(repository, perRepo);
    }
    const key = `${digest}|${policy.keySetId}`;
    const hit = perRepo.get(key);
    if (hit && this.now() - hit.at < SIGNED_TTL_MS) return hit.signed;
    const evidence = await discoverSignatures(this.reader(repository), digest);
    const signed =
      validSignatures(evaluateSignatures(evidence, { digest, keys: policy.keys })).length > 0;
    perRepo.set(key, { signed, at: this.now() });
    return signed;
  }
}

/** The AttachmentReader of sign/discover.ts over the registry's own metadata and blobs. */
function metaAttachmentReader(deps: TrustAdmissionDeps, repository: string): AttachmentReader {
  return {
    async manifest(reference) {
      const digest = isDigest(reference)
        ? reference
        : await resolveTag(deps.db, repository, reference);
      const m = digest ? await getManifestByDigest(deps.db, repository, digest) : undefined;
      return m && { bytes: m.content, digest: m.digest, mediaType: m.mediaType };
    },
    async blob(descriptor) {
      if (descriptor.size > MAX_ATTACHMENT_BYTES)
        throw new RegistryError("DENIED", "attachment too large");
      const chunks: Buffer[] = [];
      for await (const c of await deps.store.read(descriptor.digest)) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    async referrers(digest) {
      const rows = await listReferrers(deps.db, repository, digest);
      return rows.map((r) => ({
        mediaType: r.mediaType,
        digest: r.digest,
        size: r.size,
        ...(r.artifactType ? { artifactType: r.artifactType } : {}),
        ...(r.annotations ? { annotations: r.annotations } : {}),
      }));
    },
  };
}
