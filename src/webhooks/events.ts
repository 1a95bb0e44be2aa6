// What a webhook says: the event names users subscribe to (`push`, `pull`, `delete`, `scan`,
// `quota`, `replication`, `retention`, `signature`, or `all`), how outbox events become
// webhook events (one outbox row may give several: a batched pull row lists every manifest
// pulled; a pushed cosign signature is both `push` and `signature`), and the two payload
// formats: Harbor's default JSON (type, occur_at, operator, event_data.resources and
// .repository) and CloudEvents 1.0 in structured mode. Pure functions; never I/O.
import { randomUUID } from "node:crypto";
import type { OutboxEvent } from "../meta/outbox.js";
import type { WebhookFormat } from "../meta/webhooks.js";
import { projectOf } from "../oci/index.js";

export const EVENT_NAMES = [
  "push",
  "pull",
  "delete",
  "scan",
  "quota",
  "replication",
  "retention",
  "signature",
] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/** Harbor's event types (plus DELETE_TAG and SIGNATURE_ADDED, Berth's own). */
export type WebhookEventType =
  | "PUSH_ARTIFACT"
  | "PULL_ARTIFACT"
  | "DELETE_ARTIFACT"
  | "DELETE_TAG"
  | "SCANNING_COMPLETED"
  | "SCANNING_FAILED"
  | "QUOTA_WARNING"
  | "QUOTA_EXCEED"
  | "REPLICATION"
  | "TAG_RETENTION"
  | "SIGNATURE_ADDED"
  | "TEST";

export const EVENT_TYPES_OF: Readonly<Record<EventName, readonly WebhookEventType[]>> = {
  push: ["PUSH_ARTIFACT"],
  pull: ["PULL_ARTIFACT"],
  delete: ["DELETE_ARTIFACT", "DELETE_TAG"],
  scan: ["SCANNING_COMPLETED", "SCANNING_FAILED"],
  quota: ["QUOTA_WARNING", "QUOTA_EXCEED"],
  replication: ["REPLICATION"],
  retention: ["TAG_RETENTION"],
  signature: ["SIGNATURE_ADDED"],
};

/** CloudEvents `type` per event type. */
const CLOUDEVENT_TYPE: Readonly<Record<WebhookEventType, string>> = {
  PUSH_ARTIFACT: "dev.berth.artifact.pushed",
  PULL_ARTIFACT: "dev.berth.artifact.pulled",
  DELETE_ARTIFACT: "dev.berth.artifact.deleted",
  DELETE_TAG: "dev.berth.tag.deleted",
  SCANNING_COMPLETED: "dev.berth.scan.completed",
  SCANNING_FAILED: "dev.berth.scan.failed",
  QUOTA_WARNING: "dev.berth.quota.warning",
  QUOTA_EXCEED: "dev.berth.quota.exceeded",
  REPLICATION: "dev.berth.replication.finished",
  TAG_RETENTION: "dev.berth.retention.finished",
  SIGNATURE_ADDED: "dev.berth.signature.added",
  TEST: "dev.berth.test",
};

/**
 * Parses a comma-separated list of event names (`push,pull`, `all`); throws a RangeError
 * naming the unknown one.
 */
export function parseEventNames(list: readonly string[]): EventName[] {
  const names = new Set<EventName>();
  for (const raw of list.flatMap((s) => s.split(","))) {
    const name = raw.trim();
    if (name === "") continue;
    if (name === "all") return [...EVENT_NAMES];
    if (!(EVENT_NAMES as readonly string[]).includes(name)) {
      throw new RangeError(
        `unknown event "${name}" (use ${EVENT_NAMES.join(", ")} or all, comma-separated)`,
      );
    }
    names.add(name as EventName);
  }
  if (names.size === 0) throw new RangeError("name at least one event (or all)");
  return EVENT_NAMES.filter((n) => names.has(n));
}

export function subscribes(events: readonly string[], type: WebhookEventType): boolean {
  if (type === "TEST") return true;
  return events.some((n) => EVENT_TYPES_OF[n as EventName]?.includes(type));
}

export interface Resource {
  digest?: string;
  tag?: string;
  resource_url?: string;
  [key: string]: unknown;
}

/** One event as a webhook sees it, before formatting. */
export interface WebhookEvent {
  /** Stable identity (delivery key with the target): `outbox:<id>[:<n>]` or `test:<uuid>`. */
  key: string;
  type: WebhookEventType;
  project: string;
  repository: string;
  /** Milliseconds since the epoch. */
  at: number;
  operator: string;
  resources: Resource[];
  /** Extra fields of the event (scan summary, quota numbers, replication result…). */
  details?: Record<string, unknown>;
}

const SIGNATURE_TAG = /^sha256-([0-9a-f]{64})\.sig$/;
const SIGNATURE_ARTIFACT_TYPES = [
  "application/vnd.dev.cosign.artifact.sig.v1+json",
  "application/vnd.dev.sigstore.bundle+json",
];

function isSignatureArtifact(artifactType: string | undefined): boolean {
  if (!artifactType) return false;
  return (
    SIGNATURE_ARTIFACT_TYPES.includes(artifactType) ||
    artifactType.startsWith("application/vnd.dev.sigstore.bundle.")
  );
}

/** The webhook events one outbox row stands for (none for types webhooks ignore). */
export function webhookEventsOf(e: OutboxEvent, host: string): WebhookEvent[] {
  const base = {
    project: projectOf(e.repository),
    repository: e.repository,
    at: e.at,
    operator: e.principal,
  };
  const key = `outbox:${e.id}`;
  const url = (ref: string) =>
    `${host}/${e.repository}${ref.startsWith("sha256:") ? "@" : ":"}${ref}`;
  switch (e.type) {
    case "manifest.pushed": {
      const d = e.data;
      const resource: Resource = {
        digest: d.digest,
        ...(d.tag ? { tag: d.tag } : {}),
        resource_url: url(d.tag ?? d.digest),
        media_type: d.mediaType,
        size: d.size,
        ...(d.artifactType ? { artifact_type: d.artifactType } : {}),
      };
      const out: WebhookEvent[] = [{ ...base, key, type: "PUSH_ARTIFACT", resources: [resource] }];
      const tagSubject = d.tag ? SIGNATURE_TAG.exec(d.tag) : null;
      if ((d.subject && isSignatureArtifact(d.artifactType)) || tagSubject) {
        const subject = d.subject ?? `sha256:${tagSubject![1]}`;
        out.push({
          ...base,
          key: `${key}:signature`,
          type: "SIGNATURE_ADDED",
          resources: [{ ...resource, subject, subject_url: url(subject) }],
        });
      }
      return out;
    }
    case "manifests.pulled":
      return e.data.manifests.map((m) => ({
        ...base,
        repository: m.repository,
        project: projectOf(m.repository),
        key: `${key}:${m.id}`,
        type: "PULL_ARTIFACT",
        resources: [{ digest: m.digest, resource_url: url(m.digest) }],
      }));
    case "manifest.deleted":
      return [
        {
          ...base,
          key,
          type: "DELETE_ARTIFACT",
          resources: [
            { digest: e.data.digest, resource_url: url(e.data.digest), tags: e.data.tags },
          ],
        },
      ];
    case "tag.deleted":
      return [
        {
          ...base,
          key,
          type: "DELETE_TAG",
          resources: [{ tag: e.data.tag, resource_url: url(e.data.tag) }],
        },
      ];
    case "scan.completed":
    case "scan.failed": {
      const { digest, tag, ...rest } = e.data;
      return [
        {
          ...base,
          key,
          type: e.type === "scan.completed" ? "SCANNING_COMPLETED" : "SCANNING_FAILED",
          resources: [
            { digest, ...(tag ? { tag } : {}), resource_url: url(tag ?? digest), ...rest },
          ],
        },
      ];
    }
    case "quota.warning":
    case "quota.exceeded":
      return [
        {
          ...base,
          key,
          type: e.type === "quota.warning" ? "QUOTA_WARNING" : "QUOTA_EXCEED",
          resources: [],
          details: { ...e.data },
        },
      ];
    case "replication.finished":
      return [{ ...base, key, type: "REPLICATION", resources: [], details: { ...e.data } }];
    case "retention.finished":
      return [{ ...base, key, type: "TAG_RETENTION", resources: [], details: { ...e.data } }];
    default:
      return [];
  }
}

/** A test event for `webhook test`. */
export function testEvent(project: string, operator: string): WebhookEvent {
  return {
    key: `test:${randomUUID()}`,
    type: "TEST",
    project,
    repository: `${project}/webhook-test`,
    at: Date.now(),
    operator,
    resources: [],
    details: { message: "test event from berth admin webhook test" },
  };
}

/** Harbor's default payload (with `details` for the event kinds Harbor shapes otherwise). */
function harborPayload(e: WebhookEvent): Record<string, unknown> {
  const slash = e.repository.indexOf("/");
  return {
    type: e.type,
    occur_at: Math.floor(e.at / 1000),
    operator: e.operator,
    event_data: {
      resources: e.resources,
      repository: {
        name: slash === -1 ? e.repository : e.repository.slice(slash + 1),
        namespace: e.project,
        repo_full_name: e.repository,
      },
      ...(e.details ? { details: e.details } : {}),
    },
  };
}

/** The request body and its content type in the target's format. */
export function formatEvent(
  e: WebhookEvent,
  format: WebhookFormat,
  deliveryId: string,
): { body: string; contentType: string } {
  if (format === "cloudevents") {
    return {
      contentType: "application/cloudevents+json",
      body: JSON.stringify({
        specversion: "1.0",
        id: deliveryId,
        source: `/projects/${e.project}`,
        type: CLOUDEVENT_TYPE[e.type],
        subject: e.repository,
        time: new Date(e.at).toISOString(),
        datacontenttype: "application/json",
        data: harborPayload(e),
      }),
    };
  }
  return { contentType: "application/json", body: JSON.stringify(harborPayload(e)) };
}
