// Registry enforcement of a project's quality-gate policy at push: before a container image
// manifest (or an index) is stored, the facts the push-decidable rules need (size, labels,
// base image, platforms) are gathered with the same gatherer the CLI uses
// (gate-image-facts.ts) over the registry's own storage, and judged by the same evaluator
// (gate.ts). A failing verdict refuses the PUT with DENIED naming every failed rule and its
// evidence. Rules that need a scan or a signature are "not decidable at push" and do not
// refuse. Artifacts (signatures, SBOMs, anything with a subject or a non-image config) are
// never gated. Every verdict (accepted or refused) is recorded per (repository, digest) in
// `gate_results` (src/meta/gate-results.ts) for the API. Never modifies the request; reads
// manifests and configs, never layer bytes.
import type { Kysely } from "kysely";
import type { AuditLog } from "../auth/audit.js";
import type { Database } from "../meta/database.js";
import { getGatePolicy } from "../meta/gate-policies.js";
import { recordGateResult } from "../meta/gate-results.js";
import { getManifestByDigest, resolveTag } from "../meta/manifests.js";
import { MediaType, type ParsedManifest, parseImageReference, projectOf } from "../oci/index.js";
import type { Admission, ManifestPutRequest } from "../registry/admission.js";
import { RegistryError } from "../registry/errors.js";
import type { BlobStore } from "../storage/index.js";
import type { ImageSource, ManifestBytes } from "../transport/index.js";
import {
  evaluateGate,
  GATE_RULES,
  type GatePolicy,
  type GateVerdict,
  PUSH_DECIDABLE,
  parseGatePolicy,
} from "./gate.js";
import { gatherImageFacts } from "./gate-image-facts.js";

export const NOT_DECIDABLE_AT_PUSH =
  "not decidable at push (needs a scan, a signature or the layer contents); vulnerabilities, forbiddenPackages and forbiddenLicenses gate pulls once the image is scanned (policy/vulnerability-admission.ts); run berth gate in CI for the others";

/** The policy's push-decidable rules only. */
export function pushDecidable(policy: GatePolicy): GatePolicy {
  const out: Record<string, unknown> = {};
  for (const rule of GATE_RULES) {
    if (PUSH_DECIDABLE.has(rule) && policy[rule] !== undefined) out[rule] = policy[rule];
  }
  return out as GatePolicy;
}

/** An image held by this registry: manifests from the metadata, blobs from the store. */
export class StoredImageSource implements ImageSource {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: BlobStore,
    private readonly repository: string,
    private readonly top: ManifestBytes,
    readonly description: string,
  ) {}

  async getManifest(digest?: string): Promise<ManifestBytes> {
    if (digest === undefined || digest === this.top.digest) return this.top;
    const m = await getManifestByDigest(this.db, this.repository, digest);
    if (!m) throw new Error(`manifest ${digest} is not stored in ${this.repository}`);
    return { bytes: m.content, mediaType: m.mediaType, digest: m.digest };
  }

  getBlob(descriptor: { digest: string }) {
    return this.store.read(descriptor.digest);
  }

  async close(): Promise<void> {}
}

const IMAGE_CONFIGS = new Set<string>([MediaType.OciConfig, MediaType.DockerConfig]);

/** cosign's tag scheme (`sha256-<hex>.sig|.att|.sbom`) and the referrers fallback tag. */
const ATTACHMENT_TAG = /^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$/;

/** Filesystem layers of an image (anything else — signatures, SBOMs, files — is an artifact). */
function isFilesystemLayer(mediaType: string): boolean {
  return (
    mediaType.startsWith("application/vnd.oci.image.layer.") ||
    mediaType.startsWith("application/vnd.docker.image.rootfs.")
  );
}

/**
 * Whether the manifest is a container image (or an index of them), not an artifact: no
 * subject, no artifactType, an image config, filesystem layers only, and not stored under
 * a signature/attestation/referrers tag.
 */
export function isGatedImage(manifest: ParsedManifest, tag?: string): boolean {
  if (tag !== undefined && ATTACHMENT_TAG.test(tag)) return false;
  if (manifest.kind === "index") {
    return manifest.index.subject === undefined && manifest.index.artifactType === undefined;
  }
  const image = manifest.image;
  return (
    image.subject === undefined &&
    image.artifactType === undefined &&
    IMAGE_CONFIGS.has(image.config.mediaType) &&
    image.layers.every((l) => isFilesystemLayer(l.mediaType))
  );
}

export class GateAdmission implements Admission {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: BlobStore,
    private readonly audit?: AuditLog,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The verdict for a pushed manifest, or undefined when the project has no policy. */
  async verdictFor(request: ManifestPutRequest): Promise<GateVerdict | undefined> {
    return (await this.judge(request))?.verdict;
  }

  private async judge(
    request: ManifestPutRequest,
  ): Promise<{ verdict: GateVerdict; policyUpdatedAt: string } | undefined> {
    if (!isGatedImage(request.manifest, request.tag)) return undefined;
    const project = projectOf(request.repository);
    const stored = await getGatePolicy(this.db, project);
    if (!stored) return undefined;
    const policy = parseGatePolicy(stored.policy, `the gate policy of project ${project}`);
    const name = `${request.repository}${request.tag ? `:${request.tag}` : ""}@${request.digest}`;
    const top: ManifestBytes = {
      bytes: request.bytes,
      mediaType: request.manifest.mediaType,
      digest: request.digest,
    };
    const source = new StoredImageSource(this.db, this.store, request.repository, top, name);
    const isIndex = request.manifest.kind === "index";
    const { facts } = await gatherImageFacts(source, pushDecidable(policy), {
      // An index's images were checked when each was pushed; an untagged image is a part of
      // an index still to come, whose platforms are checked when the index is pushed.
      imageRules: !isIndex,
      platformRule: isIndex || request.tag !== undefined,
      openBase: (reference) => this.openBase(reference),
    });
    const verdict = evaluateGate(policy, facts, {
      now: this.now(),
      undecidedReason: NOT_DECIDABLE_AT_PUSH,
    });
    return { verdict, policyUpdatedAt: stored.updatedAt };
  }

  async beforeManifestPut(request: ManifestPutRequest): Promise<void> {
    const judged = await this.judge(request);
    if (!judged) return;
    const { verdict } = judged;
    await recordGateResult(this.db, {
      repository: request.repository,
      digest: request.digest,
      verdict: verdict.verdict,
      rules: [...verdict.rules],
      policyUpdatedAt: judged.policyUpdatedAt,
      evaluatedAt: this.now().toISOString(),
    });
    if (verdict.verdict === "pass") return;
    const failed = verdict.rules.filter((r) => r.status === "fail");
    this.audit?.note({
      actor: request.principal,
      action: "gate.deny",
      resourceType: "artifact",
      resource: verdict.image,
      project: projectOf(request.repository),
      outcome: "failure",
      detail: {
        rules: failed.map((r) => ({ rule: r.rule, message: r.message, evidence: r.evidence })),
      },
    });
    const reasons = failed.map(
      (r) => `${r.rule}: ${r.message}${r.evidence.length ? ` (${r.evidence.join("; ")})` : ""}`,
    );
    throw new RegistryError(
      "DENIED",
      `the quality gate of project "${projectOf(request.repository)}" refuses this image: ${reasons.join(" | ")}`,
      {
        detail: {
          rules: failed.map((r) => ({ rule: r.rule, message: r.message, evidence: r.evidence })),
        },
      },
    );
  }

  /**
   * An approved base named in the policy, looked up in this registry's repositories by its
   * repository path (the host part of the reference is not consulted: the registry cannot
   * know every name it is reached by). A base not stored here can still match by annotation.
   */
  private async openBase(reference: string): Promise<ImageSource> {
    const ref = parseImageReference(reference.replace(/^docker:\/\//, ""));
    const digest = ref.digest ?? (await resolveTag(this.db, ref.repository, ref.tag ?? "latest"));
    if (!digest) throw new Error(`${reference} is not stored in this registry`);
    const m = await getManifestByDigest(this.db, ref.repository, digest);
    if (!m) throw new Error(`${reference} is not stored in this registry`);
    return new StoredImageSource(
      this.db,
      this.store,
      ref.repository,
      { bytes: m.content, mediaType: m.mediaType, digest: m.digest },
      reference,
    );
  }
}
