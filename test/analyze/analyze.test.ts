// analyzeImage against images built in the test with known content (see known-image.ts):
// every total is computed by hand below, with the arithmetic spelled out.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AnalyzeError,
  analyzeImage,
  buildTree,
  type Finding,
  type ImageAnalysis,
  renderTree,
} from "../../src/analyze/index.js";
import { openImageSource, resolveImage } from "../../src/transport/index.js";
import { runOk } from "../support/process-control.js";
import { startReferenceRegistry } from "../support/reference-registry.js";
import {
  dir,
  type FixtureImage,
  file,
  packTar,
  whiteout,
  writeFixtureImage,
} from "./fixture-image.js";
import { KNOWN_DOCKERFILE, knownImageSteps } from "./known-image.js";

let work: string;
let known: FixtureImage;

async function analyze(reference: string, dockerfile?: string): Promise<ImageAnalysis> {
  const source = await openImageSource(reference);
  try {
    const image = await resolveImage(source);
    return await analyzeImage(
      source,
      image,
      dockerfile ? { dockerfile: { text: dockerfile } } : {},
    );
  } finally {
    await source.close();
  }
}

function findingsOf(analysis: ImageAnalysis, kind: Finding["kind"]): Finding[] {
  return analysis.findings.filter((f) => f.kind === kind);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-analyze-"));
  known = await writeFixtureImage(join(work, "known"), knownImageSteps());
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("the known image", () => {
  it("computes dive's totals exactly", async () => {
    const a = await analyze(known.reference);
    // Counted events per path (size of each write; removals count 0):
    //   /etc/app.conf       1000 (L0) + 1500 (L1)   cumulative 2500  min 1000  inefficient
    //   /etc/motd            300 (L0) + 0 (L2 rm)    cumulative  300  min    0  inefficient
    //   /bin/tool           5000 (L0) + 5000 (L2)   cumulative 10000 min 5000  inefficient
    //   /bin/tool-link, /bin/sh, /srv/b-link   0 (hard links and symlinks store 0 bytes)
    //   /opt/data/one       2000 (L0) + 0 (L2, its directory's whiteout)  2000  min 0  inefficient
    //   /opt/data/two       3000 (L0) + 0 (L2)      cumulative 3000  min    0  inefficient
    //   /opt/data           removal only (its L0 entry has children: not a leaf)   0
    //   /srv/a               700 (L0) + 0 (L3, opaque /srv)  cumulative 700  min 0  inefficient
    //   /var/lib/apt/lists/deb_Packages 8000, /usr/bin/curl 4000, /srv/b 400,
    //   /srv/tool-copy 5000: written once each           cumulative = min
    // discovered = 2500+300+10000+2000+3000+700 + 8000+4000+400+5000 = 35900
    // minimum    = 1000+0+5000+0+0+0           + 8000+4000+400+5000 = 23400
    // efficiency = 23400 / 35900
    // wasted     = 2500+300+10000+2000+3000+700 = 18500
    // layer sizes (Σ tar entry sizes): L0 1000+300+5000+2000+3000+700 = 12000,
    //   L1 1500+8000+4000 = 13500, L2 5000, L3 400+5000 = 5400 → total 35900
    // user size = 13500+5000+5400 = 23900
    // user wasted = the inefficient paths' events in layers 1-3:
    //   /etc/app.conf 1500 (L1) + /bin/tool 5000 (L2) + removals 0 = 6500
    // user wasted percent = 6500 / 23900 (dive's 18500 / 23900 also counts layer 0's copies)
    expect(a.totals.wastedBytes).toBe(18500);
    expect(a.totals.userWastedBytes).toBe(6500);
    expect(a.totals.efficiency).toBeCloseTo(23400 / 35900, 12);
    expect(a.totals.sizeBytes).toBe(35900);
    expect(a.totals.userSizeBytes).toBe(23900);
    expect(a.totals.userWastedPercent).toBeCloseTo(6500 / 23900, 12);
    expect(a.layers.map((l) => l.contentBytes)).toEqual([12000, 13500, 5000, 5400]);
    expect(a.inefficiencies.map((i) => [i.path, i.count, i.wastedBytes, i.layers])).toEqual([
      ["/bin/tool", 2, 10000, [0, 2]],
      ["/opt/data/two", 2, 3000, [0, 2]],
      ["/etc/app.conf", 2, 2500, [0, 1]],
      ["/opt/data/one", 2, 2000, [0, 2]],
      ["/srv/a", 2, 700, [0, 3]],
      ["/etc/motd", 2, 300, [0, 2]],
    ]);
  });

  it("measures each layer compressed and uncompressed, gzip, zstd and plain alike", async () => {
    const a = await analyze(known.reference);
    expect(a.layers.map((l) => l.mediaType)).toEqual([
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+zstd",
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar",
    ]);
    expect(a.layers.map((l) => l.compressedBytes)).toEqual(known.layers.map((l) => l.size));
    expect(a.layers.map((l) => l.uncompressedBytes)).toEqual(known.tarSizes);
    // A plain tar layer is its own uncompressed form.
    expect(a.layers[3]?.compressedBytes).toBe(a.layers[3]?.uncompressedBytes);
    expect(a.layers.map((l) => l.diffId)).toEqual(known.diffIds);
    expect(a.totals.compressedBytes).toBe(known.layers.reduce((n, l) => n + l.size, 0));
  });

  it("attributes each layer to its history step, skipping empty_layer entries", async () => {
    const a = await analyze(known.reference);
    // history: 0 ADD (layer 0), 1 CMD (empty), 2 ENV (empty), 3 RUN (layer 1), 4 WORKDIR
    // (empty), 5 RUN (layer 2), 6 COPY (layer 3)
    expect(a.layers.map((l) => l.historyIndex)).toEqual([0, 3, 5, 6]);
    expect(a.layers[1]?.createdBy).toContain("apt-get update");
    expect(a.layers[3]?.createdBy).toBe("COPY srv /srv # buildkit");
    expect(a.history.filter((h) => h.emptyLayer).map((h) => h.index)).toEqual([1, 2, 4]);
    expect(a.warnings).toEqual([]);
  });

  it("counts files added, modified and removed per layer (whiteouts and opaque dirs)", async () => {
    const a = await analyze(known.reference);
    const counts = a.layers.map((l) => [l.changes.added, l.changes.modified, l.changes.removed]);
    // L0 adds 8 non-directories (app.conf, motd, tool, tool-link, sh, one, two, srv/a);
    // L1 adds lists + curl, modifies app.conf; L2 modifies tool, removes motd + one + two;
    // L3 adds b, b-link, tool-copy and its opaque /srv removes srv/a.
    expect(counts).toEqual([
      [8, 0, 0],
      [2, 1, 0],
      [0, 1, 3],
      [3, 0, 1],
    ]);
    expect(a.layers[2]?.changes.removedBytes).toBe(300 + 2000 + 3000);
    expect(a.layers[3]?.changes.addedBytes).toBe(400 + 5000);
  });

  it("connects berth lint to the layers: each waste names the lint rule of its instruction", async () => {
    const a = await analyze(known.reference, KNOWN_DOCKERFILE);
    const [apt] = findingsOf(a, "cache-left-behind");
    // The 8 kB of apt lists left by layer 1 is what lint rule BL2005 warns about at line 5.
    expect(apt?.lint?.map((l) => [l.ruleId, l.severity, l.line])).toEqual([
      ["BL2005", "warning", 5],
      ["BL2003", "info", 6],
      ["BL2004", "info", 6],
    ]);
    expect(apt?.lint?.[0]?.docs).toBe("docs/lint/BL2005.md");
    // Wastes caused by base layers or by instructions without lint findings carry none.
    for (const f of findingsOf(a, "removed-in-later-layer")) expect(f.lint).toBeUndefined();
    // And each lint finding names the layer its line built, with that layer's size.
    const layer1 = a.layers[1]?.contentBytes;
    expect(layer1).toBeGreaterThan(8000);
    expect(a.lint?.map((l) => [l.ruleId, l.line, l.layer, l.layerBytes])).toEqual([
      ["BL3005", 2, undefined, undefined],
      ["BL3013", 2, undefined, undefined],
      ["BL1002", 2, undefined, undefined],
      ["BL2005", 5, 1, layer1],
      ["BL2003", 6, 1, layer1],
      ["BL2004", 6, 1, layer1],
    ]);
    // Without a Dockerfile there is nothing to lint.
    const plain = await analyze(known.reference);
    expect(plain.lint).toBeUndefined();
    expect(findingsOf(plain, "cache-left-behind")[0]?.lint).toBeUndefined();
  });

  it("explains each waste with its layer, instruction, Dockerfile line and a fix", async () => {
    const a = await analyze(known.reference, KNOWN_DOCKERFILE);
    expect(a.layers.map((l) => l.dockerfile?.line)).toEqual([undefined, 5, 8, 9]);
    expect(a.layers.map((l) => l.fromBase)).toEqual([true, false, false, false]);

    const [apt] = findingsOf(a, "cache-left-behind");
    expect(apt).toMatchObject({ bytes: 8000, files: 1, path: "/var/lib/apt/lists" });
    expect(apt?.cause).toMatchObject({ layer: 1, dockerfile: { line: 5, endLine: 6 } });
    expect(apt?.message).toBe(
      "8 kB of /var/lib/apt/lists written by layer 1 `RUN apt-get update && apt-get install -y curl` (Dockerfile line 5) is still in the image",
    );
    expect(apt?.fix).toContain("rm -rf /var/lib/apt/lists/*");

    const removed = findingsOf(a, "removed-in-later-layer");
    expect(removed.map((f) => [f.path, f.bytes, f.files, f.cause.layer, f.other?.layer])).toEqual([
      ["/opt/data", 5000, 2, 0, 2],
      ["/srv/a", 700, 1, 0, 3],
      ["/etc/motd", 300, 1, 0, 2],
    ]);
    expect(removed[0]?.fromBase).toBe(true);
    expect(removed[0]?.fix).toContain("saves nothing");

    const [chmod] = findingsOf(a, "rewritten-unchanged");
    expect(chmod).toMatchObject({ path: "/bin/tool", bytes: 5000, cause: { layer: 0 } });
    expect(chmod?.other).toMatchObject({ layer: 2, dockerfile: { line: 8 } });
    expect(chmod?.message).toContain("only to change ownership or permissions");

    const [overwritten] = findingsOf(a, "overwritten");
    expect(overwritten).toMatchObject({ path: "/etc/app.conf", bytes: 1000 });
    expect(overwritten?.other?.layer).toBe(1);

    const [duplicate] = findingsOf(a, "duplicate-content");
    expect(duplicate).toMatchObject({ path: "/srv/tool-copy", bytes: 5000, cause: { layer: 3 } });
    expect(duplicate?.other?.layer).toBe(2);
  });

  it("draws the merged tree and one layer's changes", async () => {
    const a = await analyze(known.reference);
    const full = renderTree(buildTree(a.filesystem)).join("\n");
    expect(full).toContain("srv/");
    expect(full).toContain("tool-copy");
    expect(full).not.toMatch(/\bmotd\b/);
    expect(full).not.toMatch(/── a$/m);
    const layer2 = buildTree(a.filesystem, { layer: 2 });
    const lines = renderTree(layer2, { layer: 2 });
    expect(lines.filter((l) => l.startsWith("-")).map((l) => l.split(/\s+/).pop())).toEqual([
      "motd",
      "data/",
      "one",
      "two",
    ]);
    expect(lines.filter((l) => l.startsWith("~")).map((l) => l.split(/\s+/).pop())).toEqual([
      "tool",
    ]);
    const opt = layer2.find((e) => e.name === "opt");
    expect(opt?.size).toBe(5000);
  });

  it("reads the same image through other transports (oci-archive, docker-archive)", async () => {
    const ociArchive = join(work, "known-oci.tar");
    await runOk("skopeo", ["copy", "--quiet", known.reference, `oci-archive:${ociArchive}:test`]);
    const fromOciArchive = await analyze(`oci-archive:${ociArchive}:test`);
    expect(fromOciArchive.totals.wastedBytes).toBe(18500);
    expect(fromOciArchive.totals.efficiency).toBeCloseTo(23400 / 35900, 12);
    expect(fromOciArchive.layers.map((l) => l.uncompressedBytes)).toEqual(known.tarSizes);

    // Docker archives cannot hold zstd layers: the same content, every layer gzip.
    const steps = knownImageSteps().map((s) =>
      "entries" in s ? { ...s, compression: "gzip" as const } : s,
    );
    const gzipOnly = await writeFixtureImage(join(work, "known-gzip"), steps);
    const dockerArchive = join(work, "known-docker.tar");
    await runOk("skopeo", [
      "copy",
      "--quiet",
      gzipOnly.reference,
      `docker-archive:${dockerArchive}:known:test`,
    ]);
    const fromDockerArchive = await analyze(`docker-archive:${dockerArchive}`);
    expect(fromDockerArchive.totals.wastedBytes).toBe(18500);
    expect(fromDockerArchive.totals.efficiency).toBeCloseTo(23400 / 35900, 12);
    expect(fromDockerArchive.layers.map((l) => l.uncompressedBytes)).toEqual(known.tarSizes);
    expect(fromDockerArchive.layers.map((l) => l.historyIndex)).toEqual([0, 3, 5, 6]);
  });

  it("reads the image from a registry (docker://, the reference registry)", async () => {
    const registry = await startReferenceRegistry();
    try {
      await runOk("skopeo", [
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        known.reference,
        `docker://${registry.host}/analyze/known:test`,
      ]);
      const a = await analyze(`docker://${registry.host}/analyze/known:test`);
      expect(a.totals.wastedBytes).toBe(18500);
      expect(a.totals.efficiency).toBeCloseTo(23400 / 35900, 12);
      // skopeo gzips the plain-tar layer on push; the content is the same.
      expect(a.layers.map((l) => l.uncompressedBytes)).toEqual(known.tarSizes);
      expect(a.layers[3]?.compressedBytes).toBeLessThan(known.tarSizes[3] ?? 0);
    } finally {
      await registry.stop();
    }
  });

  it("refuses a layer whose bytes do not match its digest", async () => {
    const copy = await writeFixtureImage(join(work, "corrupt"), knownImageSteps());
    const layer = copy.layers[2];
    if (!layer) throw new Error("fixture has no layer 2");
    const path = join(copy.layoutDir, "blobs", "sha256", layer.digest.slice(7));
    const bytes = await readFile(path);
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0xff;
    await writeFile(path, bytes);
    await expect(analyze(copy.reference)).rejects.toBeInstanceOf(AnalyzeError);
  });

  it("refuses a readable layer that is not the one the manifest names", async () => {
    // A valid gzip tar in place of layer 2: only the digest check can tell.
    const copy = await writeFixtureImage(join(work, "swapped"), knownImageSteps());
    const layer = copy.layers[2];
    if (!layer) throw new Error("fixture has no layer 2");
    const path = join(copy.layoutDir, "blobs", "sha256", layer.digest.slice(7));
    await writeFile(path, gzipSync(await packTar([file("etc/other", 10, "o")])));
    const failure = analyze(copy.reference);
    await expect(failure).rejects.toBeInstanceOf(AnalyzeError);
    await expect(failure).rejects.toThrow(`layer ${layer.digest} does not match its digest`);
  });
});

describe("caches, temporary files and toolchains", () => {
  it("names the cause and the fix for each kind", async () => {
    const image = await writeFixtureImage(join(work, "caches"), [
      {
        createdBy: "/bin/sh -c #(nop) ADD file:base in / ",
        entries: [
          dir("etc"),
          file("etc/os-release", 100, "o"),
          file("etc/old1", 150, "1"),
          file("etc/old2", 250, "2"),
        ],
      },
      {
        createdBy: "RUN /bin/sh -c apk add python3 && pip install requests # buildkit",
        entries: [
          file("var/cache/apk/APKINDEX.tar.gz", 3000, "k"),
          file("root/.cache/pip/wheels/x.whl", 2500, "w"),
          file("root/.npm/_cacache/index", 1200, "n"),
          file("tmp/build.log", 900, "l"),
          file("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 1_200_000, "g"),
          file("var/lib/apt/lists/main_Packages", 6000, "p"),
        ],
      },
      {
        createdBy: "RUN /bin/sh -c rm -rf /var/lib/apt/lists/* # buildkit",
        entries: [
          whiteout("var/lib/apt/lists/main_Packages"),
          whiteout("etc/old1"),
          whiteout("etc/old2"),
        ],
      },
    ]);
    const a = await analyze(image.reference);
    const byPath = new Map(a.findings.map((f) => [`${f.kind} ${f.path}`, f]));
    expect(byPath.get("cache-left-behind /var/cache/apk")?.fix).toContain("apk add --no-cache");
    expect(byPath.get("cache-left-behind /root/.cache/pip")?.fix).toContain("--no-cache-dir");
    expect(byPath.get("cache-left-behind /root/.npm")?.fix).toContain("npm cache clean");
    expect(byPath.get("cache-left-behind /tmp")?.bytes).toBe(900);
    const toolchain = byPath.get("build-toolchain /usr/lib/gcc/x86_64-linux-gnu/12/cc1");
    expect(toolchain?.bytes).toBe(1_200_000);
    expect(toolchain?.fix).toContain("COPY --from=build");
    const lists = byPath.get("removed-in-later-layer /var/lib/apt/lists");
    expect(lists?.bytes).toBe(6000);
    expect(lists?.cause.layer).toBe(1);
    expect(lists?.other?.layer).toBe(2);
    expect(lists?.message).toContain("is deleted by layer 2 `RUN rm -rf /var/lib/apt/lists/*`");
    expect(lists?.fix).toContain("remove it in the same RUN");
    // Files deleted one by one in a directory make one finding for the directory.
    const etc = byPath.get("removed-in-later-layer /etc");
    // Without --dockerfile nothing says layer 0 is the base image's: it is not blamed on it.
    expect(etc).toMatchObject({ bytes: 400, files: 2, fromBase: false, origin: "unknown" });
    expect(etc?.fix).not.toContain("these files come from the base image");
    expect(etc?.fix).toContain("--dockerfile");
    // The largest finding comes first.
    expect(a.findings[0]?.kind).toBe("build-toolchain");
  });

  it("scores a single-layer image with nothing wasted as fully efficient", async () => {
    const image = await writeFixtureImage(join(work, "single"), [
      { createdBy: "ADD rootfs.tar / # buildkit", entries: [file("hello", 10, "h")] },
    ]);
    const a = await analyze(image.reference);
    expect(a.totals).toMatchObject({ efficiency: 1, wastedBytes: 0, userSizeBytes: 0 });
    expect(a.totals.userWastedPercent).toBe(0);
    expect(a.findings).toEqual([]);
  });
});
