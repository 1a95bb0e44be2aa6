// The audit trail of registry events (push, pull, delete of artifacts, tags and blobs): a
// subscriber to the registry's events that writes audit entries. Lives beside the other
// compositions of auth and registry (api/), so that auth/ never imports registry/.

import type { Principal } from "../auth/access.js";
import type { AuditLog } from "../auth/audit.js";
import { projectOf } from "../auth/permissions.js";
import type { TrashEntry } from "../meta/trash.js";
import type { RegistryEvents } from "../registry/events.js";

function actorFor(name: string): Pick<Principal, "name" | "kind"> {
  if (name === "anonymous" || name === "") return { name: "anonymous", kind: "anonymous" };
  return { name, kind: name.startsWith("robot$") ? "robot" : "user" };
}

/** Records registry events in the audit log. */
export function auditRegistryEvents(events: RegistryEvents, audit: AuditLog): void {
  events.on("manifest.pushed", (e) =>
    audit.note({
      actor: actorFor(e.principal),
      action: "push",
      resourceType: "artifact",
      resource: `${e.repository}${e.tag ? `:${e.tag}` : ""}@${e.digest}`,
      project: projectOf(e.repository),
      remoteAddress: e.remoteAddress,
      detail: {
        mediaType: e.mediaType,
        size: e.size,
        ...(e.subject ? { subject: e.subject } : {}),
      },
    }),
  );
  // Every manifest GET: batched (audit.ts), the one record on the data path's hot loop.
  events.on("manifest.pulled", (e) =>
    audit.notePull({
      actor: actorFor(e.principal),
      action: "pull",
      resourceType: "artifact",
      resource: `${e.repository}${e.tag ? `:${e.tag}` : ""}@${e.digest}`,
      project: projectOf(e.repository),
      remoteAddress: e.remoteAddress,
    }),
  );
  events.on("manifest.deleted", (e) =>
    audit.note({
      actor: actorFor(e.principal),
      action: "delete",
      resourceType: "artifact",
      resource: `${e.repository}@${e.digest}`,
      project: projectOf(e.repository),
      remoteAddress: e.remoteAddress,
      detail: { tags: e.tags, ...(e.trash !== undefined ? { trash: e.trash } : {}) },
    }),
  );
  events.on("tag.deleted", (e) =>
    audit.note({
      actor: actorFor(e.principal),
      action: "delete",
      resourceType: "tag",
      resource: `${e.repository}:${e.tag}`,
      project: projectOf(e.repository),
      remoteAddress: e.remoteAddress,
      ...(e.trash !== undefined ? { detail: { trash: e.trash } } : {}),
    }),
  );
  events.on("blob.deleted", (e) =>
    audit.note({
      actor: actorFor(e.principal),
      action: "delete",
      resourceType: "blob",
      resource: `${e.repository}@${e.digest}`,
      project: projectOf(e.repository),
      remoteAddress: e.remoteAddress,
    }),
  );
}

/** Audit entries for trash entries purged for good (one per entry; the trash-purge job). */
export function auditTrashPurge(audit: AuditLog) {
  return async (entries: TrashEntry[], requestedBy: string | undefined): Promise<void> => {
    for (const e of entries) {
      await audit.record({
        actor: requestedBy ? actorFor(requestedBy) : { name: "scheduler", kind: "system" },
        action: "trash.purged",
        resourceType: "trash",
        resource: e.kind === "tag" ? `${e.repository}:${e.tag}` : `${e.repository}@${e.digest}`,
        project: projectOf(e.repository),
        detail: { id: e.id, tags: e.tags, size: e.size },
      });
    }
  };
}
