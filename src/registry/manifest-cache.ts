// A small LRU of manifests by repository and digest. Content under a digest never changes,
// so entries only need evicting when the manifest is deleted (this process deletes through
// evict()). Bounded by entry count and by total bytes, so big indexes cannot crowd memory.
// With several replicas (PostgreSQL) an eviction is published to the others through the
// database's cluster channel (src/meta/cluster.ts) before the deleting request answers, and
// while this replica cannot hear that channel the cache answers nothing (every read goes to
// the database) and is emptied when the channel comes back.
import { type Cluster, SINGLE_PROCESS, type StoredManifest } from "../meta/index.js";

const TOPIC = "manifest.evict";

const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

export class ManifestCache {
  private readonly entries = new Map<string, StoredManifest>();
  private totalBytes = 0;

  private cluster: Cluster = SINGLE_PROCESS;

  constructor(private readonly maxEntries: number) {}

  /** Shares evictions with the other replicas of `cluster` (call once, at startup). */
  join(cluster: Cluster): void {
    this.cluster = cluster;
    cluster.subscribe(TOPIC, (data) => {
      if (data.repository && data.digest) this.remove(`${data.repository}@${data.digest}`);
    });
    cluster.onReset(() => this.clear());
  }

  get(repository: string, digest: string): StoredManifest | undefined {
    if (this.maxEntries === 0 || !this.cluster.live) return undefined;
    const key = `${repository}@${digest}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(repository: string, manifest: StoredManifest): void {
    if (this.maxEntries === 0 || manifest.content.length > MAX_TOTAL_BYTES / 16) return;
    const key = `${repository}@${manifest.digest}`;
    this.remove(key);
    this.entries.set(key, manifest);
    this.totalBytes += manifest.content.length;
    while (this.entries.size > this.maxEntries || this.totalBytes > MAX_TOTAL_BYTES) {
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest);
    }
  }

  /** Forgets the manifest here and on every other replica (resolves once they are told). */
  async evict(repository: string, digest: string): Promise<void> {
    this.remove(`${repository}@${digest}`);
    if (this.maxEntries > 0) {
      await this.cluster.publish({ topic: TOPIC, data: { repository, digest } });
    }
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }

  private remove(key: string): void {
    const old = this.entries.get(key);
    if (old) {
      this.totalBytes -= old.content.length;
      this.entries.delete(key);
    }
  }
}
