// Content digests of context files, remembered by their stat (device, inode, size, mtime and
// ctime in nanoseconds), so a rebuild hashes only the files that changed, as git's index and
// BuildKit's content hash cache do. A file whose mtime is within the last two seconds is
// never remembered ("racily clean" in git's words: a write in the same clock tick could go
// unseen). The cache file is advisory: unreadable or stale entries are recomputed, never
// trusted, and it is replaced atomically (temp file, rename), mode 0600.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, rename, stat, writeFile } from "node:fs/promises";

interface Entry {
  /** `dev:ino:size:mtimeNs:ctimeNs` when the digest was taken. */
  readonly stamp: string;
  readonly digest: string;
}

const RACY_NS = 2_000_000_000n;

export class StatCache {
  private changed = false;

  private constructor(
    private readonly file: string,
    private readonly entries: Map<string, Entry>,
  ) {}

  static async load(file: string): Promise<StatCache> {
    let entries = new Map<string, Entry>();
    try {
      const parsed = JSON.parse(await readFile(file, "utf8")) as Record<string, Entry>;
      entries = new Map(Object.entries(parsed));
    } catch {
      // absent or unreadable: start empty
    }
    return new StatCache(file, entries);
  }

  /** sha256 (hex) of the file's content, from the cache when its stat is unchanged. */
  async digest(path: string): Promise<string> {
    const st = await stat(path, { bigint: true });
    const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const known = this.entries.get(path);
    if (known?.stamp === stamp) return known.digest;
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    const digest = hash.digest("hex");
    const now = BigInt(Date.now()) * 1_000_000n;
    if (now - st.mtimeNs > RACY_NS) {
      this.entries.set(path, { stamp, digest });
      this.changed = true;
    } else if (known) {
      this.entries.delete(path);
      this.changed = true;
    }
    return digest;
  }

  async save(): Promise<void> {
    if (!this.changed) return;
    const temp = `${this.file}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(temp, JSON.stringify(Object.fromEntries(this.entries)), { mode: 0o600 });
    await rename(temp, this.file);
    this.changed = false;
  }
}
