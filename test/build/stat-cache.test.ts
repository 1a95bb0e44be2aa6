// The build's stat cache of context-file digests: an unchanged file is remembered (and its
// digest reused across builds), any change of content is seen (size, mtime or ctime moves),
// and a file written in the last two seconds is never remembered (racily clean).
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StatCache } from "../../src/build/stat-cache.js";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

describe("StatCache", () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-statcache-"));
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("remembers old files by stat, sees every change, and never trusts a fresh file", async () => {
    const file = join(work, "cache.json");
    const old = join(work, "old.txt");
    const fresh = join(work, "fresh.txt");
    await writeFile(old, "one");
    await utimes(old, 1_600_000_000, 1_600_000_000);
    await writeFile(fresh, "two");
    const first = await StatCache.load(file);
    expect(await first.digest(old)).toBe(sha("one"));
    expect(await first.digest(fresh)).toBe(sha("two"));
    await first.save();
    const saved = JSON.parse(await readFile(file, "utf8")) as Record<string, { digest: string }>;
    expect(Object.keys(saved)).toEqual([old]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    // Same size, mtime put back: the ctime still moves, so the new content is hashed.
    await writeFile(old, "uno");
    await utimes(old, 1_600_000_000, 1_600_000_000);
    const second = await StatCache.load(file);
    expect(await second.digest(old)).toBe(sha("uno"));
    expect(await second.digest(fresh)).toBe(sha("two"));
  });

  it("starts empty from an unreadable cache file", async () => {
    const file = join(work, "broken.json");
    await writeFile(file, "{not json");
    const cache = await StatCache.load(file);
    const f = join(work, "x.txt");
    await writeFile(f, "x");
    expect(await cache.digest(f)).toBe(sha("x"));
  });
});
