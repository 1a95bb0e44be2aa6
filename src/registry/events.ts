// What the registry tells the rest of Berth: a typed event emitter. The registry never calls
// scanning, replication, webhooks or audit directly; those subscribe here (jobs/ turns events
// into durable work). Listeners run synchronously in emit(): they must be quick and must not
// throw (an exception is caught and logged, never failing the request that caused it).
import { EventEmitter } from "node:events";

interface EventBase {
  repository: string;
  /** Name of the principal who acted (`anonymous` without credentials). */
  principal: string;
  remoteAddress: string;
  /** Milliseconds since the epoch. */
  at: number;
}

export interface BlobCommittedEvent extends EventBase {
  digest: string;
  size: number;
  /** True when the blob was linked by a cross-repository mount instead of uploaded. */
  mounted: boolean;
}

export interface ManifestPushedEvent extends EventBase {
  digest: string;
  tag?: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  /** Digest of the manifest's `subject`, for signatures, SBOMs and other referrers. */
  subject?: string;
}

export interface ManifestPulledEvent extends EventBase {
  digest: string;
  tag?: string;
  mediaType: string;
}

export interface ManifestDeletedEvent extends EventBase {
  digest: string;
  /** Tags that pointed at it and were removed with it. */
  tags: string[];
  /** The trash entry now holding it (restorable), when the trash is on. */
  trash?: number;
}

export interface TagDeletedEvent extends EventBase {
  tag: string;
  /** The trash entry now holding it (restorable), when the trash is on. */
  trash?: number;
}

export interface BlobDeletedEvent extends EventBase {
  digest: string;
}

export interface RegistryEventMap {
  "blob.committed": [BlobCommittedEvent];
  "blob.deleted": [BlobDeletedEvent];
  "manifest.pushed": [ManifestPushedEvent];
  "manifest.pulled": [ManifestPulledEvent];
  "manifest.deleted": [ManifestDeletedEvent];
  "tag.deleted": [TagDeletedEvent];
}

export class RegistryEvents extends EventEmitter<RegistryEventMap> {
  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {
    super({ captureRejections: false });
  }

  /** Emits without ever throwing into the request path. */
  publish<K extends keyof RegistryEventMap>(event: K, ...args: RegistryEventMap[K]): void {
    if (this.listenerCount(event) === 0) return;
    try {
      (this.emit as (e: K, ...a: RegistryEventMap[K]) => boolean)(event, ...args);
    } catch (err) {
      this.onListenerError(err);
    }
  }
}
