// Walks a registry's data directory and rehashes every committed, content-addressed blob
// file, reporting any whose bytes do not match the digest its path claims. Understands Berth's
// filesystem layout (blobs/<algorithm>/<xx>/<hex>) and distribution's
// (docker/registry/v2/blobs/<algorithm>/<xx>/<hex>/data). Upload areas are not blobs and are
// skipped. Used after kill -9 to prove no visible blob is corrupt.
// Read-only: it must never modify the data directory.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, dirname, join, sep } from "node:path";
import { pipeline } from "node:stream/promises";

const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

/** The digest a file's path claims, or undefined when the file is not a committed blob. */
export function claimedDigest(path: string): string | undefined {
  const parts = path.split(sep);
  if (parts.includes("uploads") || parts.includes("_uploads")) return undefined;
  const name = basename(path);
  const hexName = name === "data" ? basename(dirname(path)) : name;
  for (const [algorithm, length] of Object.entries(HEX_LENGTH)) {
    if (
      hexName.length === length &&
      /^[a-f0-9]+$/.test(hexName) &&
      parts.includes(algorithm) &&
      parts.includes("blobs")
    ) {
      return `${algorithm}:${hexName}`;
    }
  }
  return undefined;
}

async function* filesUnder(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else if (entry.isFile()) yield path;
  }
}

async function hashFile(path: string, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(path), hash);
  return `${algorithm}:${hash.digest("hex")}`;
}

export interface IntegrityReport {
  /** How many blob files were rehashed. */
  checked: number;
  /** The digest of every blob file found (one entry per file). */
  digests: string[];
  /** Files whose bytes do not match the digest in their path. */
  mismatches: { path: string; claimed: string; actual: string }[];
}

export async function verifyStoredBlobs(dataDir: string): Promise<IntegrityReport> {
  const report: IntegrityReport = { checked: 0, digests: [], mismatches: [] };
  for await (const path of filesUnder(dataDir)) {
    const claimed = claimedDigest(path);
    if (!claimed) continue;
    const actual = await hashFile(path, claimed.split(":")[0] as string);
    report.checked++;
    report.digests.push(claimed);
    if (actual !== claimed) report.mismatches.push({ path, claimed, actual });
  }
  return report;
}
