// A small LRU of manifests by repository and digest. Content under a digest never changes,
// so entries only need evicting when the manifest is deleted (this process deletes through
// evict()). Bounded by entry count and by total bytes, so big indexes cannot crowd memory.
// In a multi-replica deployment a delete on another replica is not seen here: keep the cache
// small there or disable it (manifests.cacheEntries: 0).
import type { StoredManifest } from "../meta/index.js";

const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

export class ManifestCache {
  private readonly entries = new Map<string, StoredManifest>();
  private totalBytes = 0;

  constructor(private readonly maxEntries: number) {}

  get(repository: string, digest: string): StoredManifest | undefined {
    if (this.maxEntries === 0) return undefined;
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

  evict(repository: string, digest: string): void {
    this.remove(`${repository}@${digest}`);
  }

  private remove(key: string): void {
    const old = this.entries.get(key);
    if (old) {
      this.totalBytes -= old.content.length;
      this.entries.delete(key);
    }
  }
}
