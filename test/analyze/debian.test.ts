// analyze on the real Debian image (debootstrap bookworm, test/support/debian-image.ts), and
// on that image with one more layer that deletes /usr/share/doc and adds apt lists. Expected
// numbers come from GNU tar's own listing of the Debian layer, not from Berth's reader.
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeImage, type ImageAnalysis } from "../../src/analyze/index.js";
import { type Descriptor, MediaType } from "../../src/oci/index.js";
import { openImageSource, resolveImage } from "../../src/transport/index.js";
import { type DebianImage, debianImage } from "../support/debian-image.js";
import { OciLayoutWriter } from "../support/oci-layout.js";
import { runOk } from "../support/process-control.js";
import { file, whiteout, writeFixtureImage } from "./fixture-image.js";

let debian: DebianImage;
let work: string;
/** From `tar -tvzf`: Σ regular-file sizes, all and under ./usr/share/doc/, and entry count. */
let listing: { totalBytes: number; docBytes: number; docFiles: number };
let tarBytes: number;

async function analyze(reference: string): Promise<ImageAnalysis> {
  const source = await openImageSource(reference);
  try {
    return await analyzeImage(source, await resolveImage(source));
  } finally {
    await source.close();
  }
}

function blobFile(layoutDir: string, digest: string): string {
  return join(layoutDir, "blobs", "sha256", digest.slice("sha256:".length));
}

beforeAll(async () => {
  debian = await debianImage();
  work = await mkdtemp(join(tmpdir(), "berth-analyze-debian-"));
  const blob = blobFile(debian.layoutDir, debian.layer.digest);
  const { stdout } = await runOk("tar", ["--numeric-owner", "-tvzf", blob]);
  listing = { totalBytes: 0, docBytes: 0, docFiles: 0 };
  for (const line of stdout.split("\n")) {
    const m = /^(\S)\S*\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] !== "-") continue;
    const size = Number(m[2]);
    listing.totalBytes += size;
    if ((m[3] ?? "").startsWith("./usr/share/doc/")) {
      listing.docBytes += size;
      listing.docFiles++;
    }
  }
  const wc = await runOk("sh", ["-c", `gzip -dc '${blob}' | wc -c`]);
  tarBytes = Number(wc.stdout.trim());
}, 30 * 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the Debian image", () => {
  it("analyzes the debootstrap layer with sizes matching the blob", async () => {
    const a = await analyze(debian.reference);
    expect(a.layers).toHaveLength(1);
    const [layer] = a.layers;
    expect(layer?.compressedBytes).toBe(debian.layer.size);
    expect(layer?.uncompressedBytes).toBe(tarBytes);
    expect(layer?.contentBytes).toBe(listing.totalBytes);
    expect(layer?.diffId).toBe(debian.diffId);
    expect(layer?.changes.added).toBeGreaterThan(1000);
    // One layer writes every path once: nothing is wasted.
    expect(a.totals.efficiency).toBeGreaterThan(0);
    expect(a.totals.efficiency).toBeLessThanOrEqual(1);
    expect(a.totals.wastedBytes).toBe(0);
  });

  it("counts /usr/share/doc deleted by a later layer as wasted, and the apt lists left behind", async () => {
    expect(listing.docFiles).toBeGreaterThan(100);
    const layoutDir = join(work, "layout");
    const image = await writeFixtureImage(layoutDir, [
      {
        createdBy: "RUN /bin/sh -c rm -rf /usr/share/doc && apt-get update # buildkit",
        entries: [
          whiteout("usr/share/doc"),
          file("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", 150_000, "r"),
          file(
            "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4",
            850_000,
            "p",
          ),
        ],
      },
    ]);
    // Put the Debian layer underneath: same blob, diff_id and history, then our layer.
    const stacked = await writeFixtureImageOnTop(layoutDir, image.layers[0], image.diffIds[0]);
    const a = await analyze(stacked);

    // L0: every Debian file once (Σ = listing.totalBytes). L1: a whiteout of /usr/share/doc,
    // which removes every path beneath it (counted 0 bytes each), plus 1,000,000 new bytes.
    // discovered = totalBytes + 1,000,000
    // minimum    = totalBytes − docBytes + 1,000,000   (each removed doc file's minimum is 0)
    // wasted     = docBytes                             (every doc file: written, then removed)
    // user bytes = 1,000,000 (layer 1). user wasted = the wasted events layer 1 stores: only
    // 0-byte removals, so 0 and 0% (dive's docBytes / 1,000,000 counts layer 0's bytes).
    const added = 150_000 + 850_000;
    expect(a.totals.wastedBytes).toBe(listing.docBytes);
    expect(a.totals.efficiency).toBeCloseTo(
      (listing.totalBytes - listing.docBytes + added) / (listing.totalBytes + added),
      12,
    );
    expect(a.totals.userSizeBytes).toBe(added);
    expect(a.totals.userWastedBytes).toBe(0);
    expect(a.totals.userWastedPercent).toBe(0);
    expect(a.layers[1]?.changes.removed).toBeGreaterThanOrEqual(listing.docFiles);

    const doc = a.findings.find((f) => f.kind === "removed-in-later-layer");
    expect(doc).toMatchObject({ path: "/usr/share/doc", bytes: listing.docBytes });
    // No --dockerfile: layer 0 is not known to be the base image's, so it is not blamed.
    expect(doc).toMatchObject({ fromBase: false, origin: "unknown" });
    const lists = a.findings.find((f) => f.kind === "cache-left-behind");
    expect(lists).toMatchObject({ path: "/var/lib/apt/lists", bytes: added, cause: { layer: 1 } });
  });
});

/**
 * Rewrites the layout's config, manifest and index.json (with test/support's OciLayoutWriter)
 * so the Debian layer, streamed in from its own layout, is layer 0 and `top` (the fixture's
 * only layer) is layer 1. Returns the `oci:` reference.
 */
async function writeFixtureImageOnTop(
  layoutDir: string,
  top: Descriptor | undefined,
  topDiffId: string | undefined,
): Promise<string> {
  if (!top || !topDiffId) throw new Error("fixture layer missing");
  const layout = await OciLayoutWriter.create(layoutDir);
  const base = await layout.writeBlobStream(
    createReadStream(blobFile(debian.layoutDir, debian.layer.digest)),
    debian.layer.mediaType,
  );
  const config = await layout.writeJson(
    {
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [debian.diffId, topDiffId] },
      history: [
        { created_by: "debootstrap --variant=minbase bookworm (berth test fixture)" },
        { created_by: "RUN /bin/sh -c rm -rf /usr/share/doc && apt-get update # buildkit" },
      ],
    },
    MediaType.OciConfig,
  );
  const manifest = await layout.writeJson(
    { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [base, top] },
    MediaType.OciManifest,
  );
  layout.addManifest(manifest, "stacked");
  await layout.finish();
  return `oci:${layoutDir}:stacked`;
}
