// Summarises V8 CPU profiles (`node --cpu-prof` output): the top frames by self time and by
// total (inclusive) time, as a share of the profile's samples, idle and GC included, so the
// notes in bench/README.md can quote what bounds a hot path.
//
//   node --import tsx bench/profile-top.ts FILE.cpuprofile [TOP=25]
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//, "").replace(/.*\/(node_modules|dist|src)\//, "$1/");
  return `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
}

function main(): void {
  const [file, topText = "25"] = process.argv.slice(2);
  if (!file) throw new Error("usage: profile-top.ts FILE.cpuprofile [TOP]");
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (!node) continue;
    self.set(label(node), (self.get(label(node)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const l = label(byId.get(at) as ProfileNode);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + 1);
    }
  }
  const n = profile.samples.length;
  const top = Number(topText);
  const show = (title: string, m: Map<string, number>) => {
    process.stdout.write(`${title} (${n} samples)\n`);
    for (const [l, c] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${((100 * c) / n).toFixed(1).padStart(5)}%  ${l}\n`);
    }
  };
  show("self", self);
  show("total", total);
}

main();
