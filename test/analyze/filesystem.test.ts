// The layered filesystem's OCI rules on edge cases, through the pure API (entries as the
// layer reader yields them): whiteout and re-create in one layer, an opaque root, a file
// replaced by a directory and back, a path listed twice in one layer.
import { describe, expect, it } from "vitest";
import { changeAt, countChanges } from "../../src/analyze/filesystem.js";
import { computeEfficiency, LayeredFilesystem } from "../../src/analyze/index.js";
import type { LayerEntry } from "../../src/image/layer-reader.js";

const meta = { mode: 0o644, uid: 0, gid: 0 };
const f = (path: string, size: number): LayerEntry => ({ path, type: "file", size, ...meta });
const d = (path: string): LayerEntry => ({
  path,
  type: "directory",
  size: 0,
  ...meta,
  mode: 0o755,
});
const wh = (path: string): LayerEntry => ({
  path,
  type: "other",
  size: 0,
  ...meta,
  whiteout: "file",
});
const opq = (path: string): LayerEntry => ({
  path,
  type: "directory",
  size: 0,
  ...meta,
  whiteout: "opaque",
});

function build(...layers: LayerEntry[][]): LayeredFilesystem {
  const fs = new LayeredFilesystem();
  for (const [i, entries] of layers.entries()) fs.applyLayer(i, entries);
  return fs;
}

function visible(fs: LayeredFilesystem): string[] {
  return [...fs.walk()].filter((n) => n.live).map((n) => n.path);
}

describe("LayeredFilesystem", () => {
  it("applies a whiteout before the same layer re-creates the directory", () => {
    const fs = build([d("a"), f("a/x", 100)], [wh("a"), d("a"), f("a/y", 50)]);
    expect(visible(fs)).toEqual(["a", "a/y"]);
    expect(countChanges(fs)[1]).toMatchObject({ added: 1, removed: 1, removedBytes: 100 });
    // a/x: 100 (L0) + 0 (L1 removal) → wasted 100, min 0; a/y: 50 once.
    // efficiency = (0 + 50) / (100 + 50)
    const totals = computeEfficiency(fs);
    expect(totals.wastedBytes).toBe(100);
    expect(totals.efficiency).toBeCloseTo(50 / 150, 12);
  });

  it("lets an opaque marker at the root hide every lower path", () => {
    const fs = build([f("x", 10), d("etc"), f("etc/y", 20)], [opq(""), f("z", 5)]);
    expect(visible(fs)).toEqual(["z"]);
    // x: 10+0, etc/y: 20+0 (etc is not a leaf in L0), z: 5.
    const totals = computeEfficiency(fs);
    expect(totals.wastedBytes).toBe(30);
    expect(totals.efficiency).toBeCloseTo(5 / 35, 12);
  });

  it("handles a file replaced by a directory and a directory replaced by a file", () => {
    const fs = build([f("p", 30), d("q"), f("q/inner", 40)], [f("p/child", 5), f("q", 7)]);
    expect(visible(fs)).toEqual(["p", "p/child", "q"]);
    const p = fs.lookup("p");
    expect(p?.last).toMatchObject({ type: "directory", implicit: true });
    expect(fs.lookup("q/inner")?.last).toMatchObject({ kind: "remove", cause: "replaced" });
    expect(changeAt(fs.lookup("q") as NonNullable<ReturnType<typeof fs.lookup>>, 1)).toBe(
      "modified",
    );
    // p: 30 (L0) + 0 (replaced) → 30 wasted; q/inner: 40 + 0 → 40 wasted;
    // q: written as a leaf file in L1 only (its L0 directory entry had children) → 7;
    // p/child: 5. efficiency = (0 + 0 + 7 + 5) / (30 + 40 + 7 + 5)
    const totals = computeEfficiency(fs);
    expect(totals.wastedBytes).toBe(70);
    expect(totals.efficiency).toBeCloseTo(12 / 82, 12);
  });

  it("keeps the last of two entries for one path in a layer", () => {
    const fs = build([f("dup", 10), f("dup", 25)]);
    expect(fs.lookup("dup")?.events).toHaveLength(1);
    expect(fs.lookup("dup")?.last?.size).toBe(25);
  });

  it("refuses layers out of order", () => {
    const fs = new LayeredFilesystem();
    expect(() => fs.applyLayer(1, [])).toThrow(/out of order/);
  });
});
