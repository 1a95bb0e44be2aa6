// readLayer (src/image/layer-reader.ts) on the layer shapes analysis depends on: hard links,
// zstd (compressed by the real zstd CLI), opaque directories and whiteouts, `./` prefixes,
// the uncompressed byte count, and failures of the underlying stream.
import { PassThrough, Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { describe, expect, it } from "vitest";
import { type LayerEntry, readLayer } from "../../src/image/layer-reader.js";
import { dir, file, hardlink, opaque, packTar, whiteout, zstdCompress } from "./fixture-image.js";

async function entriesOf(blob: Buffer): Promise<{ entries: LayerEntry[]; tarBytes: number }> {
  const entries: LayerEntry[] = [];
  const { tarBytes } = await readLayer(Readable.from([blob]), (entry) => {
    entries.push(entry);
  });
  return { entries, tarBytes };
}

const sample = () =>
  packTar([
    dir("usr"),
    file("usr/bin/app", 1234, "x", { mode: 0o755, uid: 1000, gid: 1000 }),
    hardlink("usr/bin/app-alias", "usr/bin/app"),
    opaque("etc/conf.d"),
    whiteout("var/cache/old"),
  ]);

describe("readLayer", () => {
  it("reads a zstd layer made by the zstd CLI exactly as the plain tar", async () => {
    const plainTar = await sample();
    const zstd = await zstdCompress(plainTar);
    expect([...zstd.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    const fromZstd = await entriesOf(zstd);
    const fromPlain = await entriesOf(plainTar);
    const fromGzip = await entriesOf(gzipSync(plainTar));
    expect(fromZstd).toEqual(fromPlain);
    expect(fromGzip).toEqual(fromPlain);
    expect(fromZstd.tarBytes).toBe(plainTar.length);
  });

  it("decodes hard links, opaque directories and whiteouts", async () => {
    const { entries } = await entriesOf(await sample());
    const byPath = new Map(entries.map((e) => [e.path, e]));
    expect(byPath.get("usr/bin/app")).toMatchObject({
      type: "file",
      size: 1234,
      mode: 0o755,
      uid: 1000,
    });
    expect(byPath.get("usr/bin/app-alias")).toMatchObject({
      type: "hardlink",
      size: 0,
      linkname: "usr/bin/app",
    });
    expect(byPath.get("etc/conf.d")).toMatchObject({ type: "directory", whiteout: "opaque" });
    expect(byPath.get("var/cache/old")).toMatchObject({ whiteout: "file" });
    expect(entries.some((e) => e.path.includes(".wh."))).toBe(false);
  });

  it("normalises ./ prefixes and absolute hard-link targets", async () => {
    const pack = tar.pack();
    pack.entry({ name: "./", type: "directory" });
    pack.entry({ name: "./bin/tool", size: 3 }, "abc");
    pack.entry({ name: "./bin/tool2", type: "link", linkname: "/bin/tool" });
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    const { entries } = await entriesOf(Buffer.concat(chunks));
    expect(entries.map((e) => [e.path, e.linkname])).toEqual([
      ["bin/tool", undefined],
      ["bin/tool2", "bin/tool"],
    ]);
  });

  it("fails, rather than hangs, when the compressed source stream fails", async () => {
    const gz = gzipSync(await sample());
    const source = new PassThrough();
    const reading = readLayer(source, () => {});
    source.write(gz.subarray(0, 20));
    setImmediate(() => source.destroy(new Error("connection reset")));
    await expect(reading).rejects.toThrow(/connection reset/);
  });

  it("rejects a truncated gzip layer", async () => {
    const gz = gzipSync(await sample());
    await expect(entriesOf(gz.subarray(0, gz.length - 30))).rejects.toThrow(/not a readable tar/);
  });
});
