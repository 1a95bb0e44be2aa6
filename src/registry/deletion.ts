// Safe deletes, shared by the /v2/ DELETE route, the management API and retention (one code
// path, so each refuses and audits alike). A pure planner over the repository's facts says
// what a deletion removes; a thin shell asks the admission hooks (immutable tags), deletes in
// one transaction and keeps the manifest cache and the registry events in step.
//
// - A tag delete (OCI 1.1 `DELETE /v2/<name>/manifests/<tag>`) removes the tag only.
// - A manifest delete removes the manifest, every tag pointing at it, and its referrers
//   (signatures, SBOMs, attestations whose `subject` it is, recursively), as Harbor deletes
//   accessories with their subject: a referrer without its subject is unreachable garbage.
// - Deleting a manifest that an index of the same repository lists (and that is not deleted
//   with it) is refused (409, code DENIED, naming the index) unless forced; the check runs
//   again inside the deleting transaction. /v2/ never forces.
// - Deleting an index removes the index only; its children stay (untagged) for GC/retention.
// - With the trash on (`trash.keep` > 0), what a deletion removes moves to one trash entry in
//   the same transaction (meta/trash.ts): restorable together (the manifest, its tags and its
//   referrers) until purged; the events and audit entries name the entry.
// It never touches blob bytes or repository blob links: garbage collection reclaims those.
import type { Kysely } from "kysely";
import type { Database } from "../meta/database.js";
import {
  deleteManifests,
  deleteTag,
  type RepositoryFacts,
  repositoryFacts,
} from "../meta/index.js";
import type { Admission } from "./admission.js";
import { RegistryError } from "./errors.js";
import type { RegistryEvents } from "./events.js";
import type { ManifestCache } from "./manifest-cache.js";

export type DeletionTarget =
  | { tag: string; digest?: undefined }
  | { digest: string; tag?: undefined };

export interface PlannedManifest {
  digest: string;
  tags: string[];
  /** Why it goes: "requested", or "referrer of sha256:…". */
  reason: string;
}

export interface DeletionPlan {
  repository: string;
  target: DeletionTarget;
  /** Every tag the deletion removes. */
  tags: string[];
  manifests: PlannedManifest[];
  /** Indexes outside the plan that list a planned manifest: the delete is refused unless forced. */
  listedBy: { index: string; child: string }[];
}

/** The pure planner. Undefined when the target does not exist. */
export function planFromFacts(
  facts: RepositoryFacts,
  target: DeletionTarget,
): DeletionPlan | undefined {
  const { repository } = facts;
  if (target.tag !== undefined) {
    const m = facts.manifests.find((x) => x.tags.includes(target.tag));
    if (!m) return undefined;
    return { repository, target, tags: [target.tag], manifests: [], listedBy: [] };
  }
  const byDigest = new Map(facts.manifests.map((m) => [m.digest, m]));
  const root = byDigest.get(target.digest);
  if (!root) return undefined;
  const planned: PlannedManifest[] = [
    { digest: root.digest, tags: root.tags, reason: "requested" },
  ];
  const seen = new Set([root.digest]);
  for (let i = 0; i < planned.length; i++) {
    const subject = planned[i]!.digest;
    for (const m of facts.manifests) {
      if (m.subjectDigest === subject && !seen.has(m.digest)) {
        seen.add(m.digest);
        planned.push({ digest: m.digest, tags: m.tags, reason: `referrer of ${subject}` });
      }
    }
  }
  const listedBy: { index: string; child: string }[] = [];
  for (const m of facts.manifests) {
    if (seen.has(m.digest)) continue;
    for (const child of m.children) if (seen.has(child)) listedBy.push({ index: m.digest, child });
  }
  return {
    repository,
    target,
    tags: planned.flatMap((p) => p.tags),
    manifests: planned,
    listedBy,
  };
}

export async function planDeletion(
  db: Kysely<Database>,
  repository: string,
  target: DeletionTarget,
): Promise<DeletionPlan | undefined> {
  const facts = await repositoryFacts(db, repository);
  return facts && planFromFacts(facts, target);
}

export function listedByError(
  repository: string,
  listedBy: DeletionPlan["listedBy"],
): RegistryError {
  const first = listedBy[0]!;
  const more = listedBy.length > 1 ? ` (and ${listedBy.length - 1} more)` : "";
  return new RegistryError(
    "DENIED",
    `manifest ${first.child} is listed by index ${first.index} in ${repository}${more}; ` +
      "deleting it would break that index (delete the index first, or force the delete through the management API)",
    { status: 409, detail: { listedBy } },
  );
}

export interface DeletionServices {
  readonly db: Kysely<Database>;
  /** `trash.keepMs` > 0: deletions go to the trash; 0: they are final. */
  readonly config: { readonly trash: { readonly keepMs: number } };
  readonly events: RegistryEvents;
  readonly manifestCache: ManifestCache;
  readonly admission: Pick<Admission, "beforeDelete">;
}

export interface DeletionActor {
  readonly principal: string;
  readonly remoteAddress: string;
}

/**
 * Carries out a plan: refuses (RegistryError) when the admission hooks refuse or, unless
 * `force`, an index lists a planned manifest. Returns what was removed.
 */
export async function executeDeletion(
  services: DeletionServices,
  plan: DeletionPlan,
  who: DeletionActor,
  force = false,
  /** Why, as the trash entry records it. */
  reason = "deleted",
): Promise<{
  tags: string[];
  manifests: { digest: string; tags: string[] }[];
  trashId?: number;
}> {
  const { repository } = plan;
  const trash = services.config.trash.keepMs > 0 ? { reason } : undefined;
  if (!force && plan.listedBy.length > 0) throw listedByError(repository, plan.listedBy);
  await services.admission.beforeDelete?.({
    repository,
    tags: plan.tags,
    manifests: plan.manifests.map((m) => m.digest),
  });
  const base = { repository, principal: who.principal, remoteAddress: who.remoteAddress };
  if (plan.target.tag !== undefined) {
    const removed = await deleteTag(services.db, repository, plan.target.tag, who, trash);
    if (!removed) {
      throw new RegistryError("MANIFEST_UNKNOWN", "manifest unknown", {
        detail: { reference: plan.target.tag },
      });
    }
    const inTrash = removed.trashId !== undefined ? { trash: removed.trashId } : {};
    services.events.publish("tag.deleted", {
      ...base,
      tag: plan.target.tag,
      at: Date.now(),
      ...inTrash,
    });
    return { tags: [plan.target.tag], manifests: [], ...inTrashId(removed.trashId) };
  }
  // Referrers first in the event order, the requested manifest last; one transaction for all.
  const digests = plan.manifests.map((m) => m.digest);
  const result = await deleteManifests(services.db, repository, digests, !force, who, trash);
  if (result.listedBy.length > 0) throw listedByError(repository, result.listedBy);
  const inTrash = result.trashId !== undefined ? { trash: result.trashId } : {};
  for (const m of [...result.deleted].reverse()) {
    await services.manifestCache.evict(repository, m.digest);
    services.events.publish("manifest.deleted", {
      ...base,
      digest: m.digest,
      tags: m.tags,
      at: Date.now(),
      ...inTrash,
    });
  }
  if (result.deleted.length === 0) {
    throw new RegistryError("MANIFEST_UNKNOWN", "manifest unknown", {
      detail: { reference: plan.target.digest },
    });
  }
  return {
    tags: result.deleted.flatMap((m) => m.tags),
    manifests: result.deleted,
    ...inTrashId(result.trashId),
  };
}

function inTrashId(trashId: number | undefined): { trashId?: number } {
  return trashId !== undefined ? { trashId } : {};
}
