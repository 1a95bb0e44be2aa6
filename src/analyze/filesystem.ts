// The layered filesystem as analysis sees it: one node per path ever seen in any layer, each
// carrying the ordered list of what every layer did to that path (wrote it, removed it).
// Applying a layer follows the OCI layer rules: whiteouts and opaque directories hide what
// *lower* layers put there (never entries of the same layer), then the layer's entries are
// written. From the events alone any layer's merged view and its changes can be derived.
// Pure: no I/O. Holds per-path metadata only (never file content), so memory grows with the
// number of paths, not with layer sizes.
import type { LayerEntry, LayerEntryType } from "../image/layer-reader.js";

/** Why a path disappeared at a layer. */
export type RemovalCause =
  /** A `.wh.<name>` entry for the path or one of its parent directories. */
  | "whiteout"
  /** An opaque marker (`.wh..wh..opq`) on a parent directory. */
  | "opaque"
  /** The layer wrote a different kind of entry over it (a file over a directory). */
  | "replaced";

export interface PathEvent {
  readonly layer: number;
  readonly kind: "write" | "remove";
  /** The entry type written (for removals: the type of what was removed). */
  readonly type: LayerEntryType;
  /** Content bytes the layer stores for this path (tar header size; 0 for removals). */
  readonly size: number;
  /**
   * Whether dive's efficiency counts this event: a write that is a leaf of its layer's own
   * tree (no other entry of that layer lies beneath it), or any removal.
   */
  readonly counted: boolean;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** sha256 of a regular file's content, when it was hashed. */
  readonly digest?: string;
  readonly linkname?: string;
  /** A parent directory the layer implied without an entry of its own. */
  readonly implicit?: boolean;
  readonly cause?: RemovalCause;
  /** For removals: the path the whiteout, opaque marker or replacement named. */
  readonly root?: string;
}

export class PathNode {
  readonly events: PathEvent[] = [];
  children: Map<string, PathNode> | undefined;

  constructor(
    readonly name: string,
    readonly parent: PathNode | undefined,
  ) {}

  get path(): string {
    if (!this.parent || this.parent.name === "") return this.name;
    return `${this.parent.path}/${this.name}`;
  }

  /** The last event, i.e. the path's state after all layers applied so far. */
  get last(): PathEvent | undefined {
    return this.events[this.events.length - 1];
  }

  get live(): boolean {
    return this.last?.kind === "write";
  }

  /** The path's state as of layer `layer` (the last event at or below it). */
  stateAt(layer: number): PathEvent | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const event = this.events[i] as PathEvent;
      if (event.layer <= layer) return event;
    }
    return undefined;
  }

  child(name: string): PathNode | undefined {
    return this.children?.get(name);
  }

  ensureChild(name: string): PathNode {
    this.children ??= new Map();
    let node = this.children.get(name);
    if (!node) {
      node = new PathNode(name, this);
      this.children.set(name, node);
    }
    return node;
  }
}

/** A layer entry plus the content digest computed while it streamed past. */
export interface AnalyzedEntry extends LayerEntry {
  readonly digest?: string;
}

/** What applying one layer changed, counted over non-directory paths. */
export interface LayerChangeCounts {
  added: number;
  modified: number;
  removed: number;
  addedBytes: number;
  modifiedBytes: number;
  removedBytes: number;
}

export class LayeredFilesystem {
  readonly root = new PathNode("", undefined);
  layerCount = 0;

  lookup(path: string): PathNode | undefined {
    if (path === "") return this.root;
    let node: PathNode | undefined = this.root;
    for (const part of path.split("/")) {
      node = node.child(part);
      if (!node) return undefined;
    }
    return node;
  }

  /**
   * Applies layer `layer` (layers must be applied in order, 0 first). Entries are the layer's
   * tar entries in any order; a path listed twice keeps its last entry, as extraction would.
   */
  applyLayer(layer: number, entries: readonly AnalyzedEntry[]): void {
    if (layer !== this.layerCount) {
      throw new Error(`layer ${layer} applied out of order (expected ${this.layerCount})`);
    }
    this.layerCount++;
    const byPath = new Map<string, AnalyzedEntry>();
    const whiteouts: AnalyzedEntry[] = [];
    const opaque: AnalyzedEntry[] = [];
    for (const entry of entries) {
      if (entry.whiteout === "opaque") opaque.push(entry);
      else if (entry.whiteout === "file") whiteouts.push(entry);
      else if (entry.path !== "") byPath.set(entry.path, entry);
    }
    const nonLeaves = ancestorsOf([...byPath.keys(), ...whiteouts.map((w) => w.path)]);
    this.applyRemovals(layer, whiteouts, opaque);
    const writes = [...byPath.values()].sort((a, b) => depth(a.path) - depth(b.path));
    for (const entry of writes) this.write(layer, entry, !nonLeaves.has(entry.path));
  }

  /** Whiteouts and opaque markers act on lower layers only, so they go before any write. */
  private applyRemovals(layer: number, whiteouts: AnalyzedEntry[], opaque: AnalyzedEntry[]): void {
    for (const marker of opaque) {
      const dir = this.lookup(marker.path);
      const isDirectory = dir === this.root || (dir?.live && dir.last?.type === "directory");
      if (!dir || !isDirectory) continue;
      for (const child of dir.children?.values() ?? []) {
        removeSubtree(child, layer, "opaque", marker.path);
      }
    }
    for (const entry of whiteouts) {
      const node = this.lookup(entry.path);
      if (node?.live) removeSubtree(node, layer, "whiteout", entry.path);
    }
  }

  private write(layer: number, entry: AnalyzedEntry, leaf: boolean): void {
    const parts = entry.path.split("/");
    let node = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      node = node.ensureChild(parts[i] as string);
      ensureDirectory(node, layer);
    }
    node = node.ensureChild(parts[parts.length - 1] as string);
    if (node.live && node.last?.type === "directory" && entry.type !== "directory") {
      for (const child of node.children?.values() ?? []) {
        removeSubtree(child, layer, "replaced", entry.path);
      }
    }
    node.events.push({
      layer,
      kind: "write",
      type: entry.type,
      size: entry.size,
      counted: leaf,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      digest: entry.digest,
      linkname: entry.linkname,
    });
  }

  /** Every node, parents before children, siblings in name order. */
  *walk(from: PathNode = this.root): Generator<PathNode> {
    const children = [...(from.children?.values() ?? [])].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const child of children) {
      yield child;
      yield* this.walk(child);
    }
  }
}

/** Makes `node` a live directory at `layer` (a parent the layer implies). */
function ensureDirectory(node: PathNode, layer: number): void {
  const last = node.last;
  if (last?.kind === "write" && last.type === "directory") return;
  if (last?.kind === "write") {
    node.events.push({ ...removalOf(last, layer), cause: "replaced", root: node.path });
  }
  node.events.push({
    layer,
    kind: "write",
    type: "directory",
    size: 0,
    counted: false,
    mode: 0o755,
    uid: 0,
    gid: 0,
    implicit: true,
  });
}

/** Records the removal of `node` and of everything live beneath it. */
function removeSubtree(node: PathNode, layer: number, cause: RemovalCause, root: string): void {
  const last = node.last;
  if (last?.kind !== "write") return;
  for (const child of node.children?.values() ?? []) removeSubtree(child, layer, cause, root);
  node.events.push({ ...removalOf(last, layer), cause, root });
}

function removalOf(last: PathEvent, layer: number): PathEvent {
  return {
    layer,
    kind: "remove",
    type: last.type,
    size: 0,
    counted: true,
    mode: last.mode,
    uid: last.uid,
    gid: last.gid,
  };
}

/** Every proper ancestor directory of the given paths: these are not leaves of the layer. */
function ancestorsOf(paths: Iterable<string>): Set<string> {
  const result = new Set<string>();
  for (const path of paths) {
    let slash = path.lastIndexOf("/");
    while (slash > 0) {
      const parent = path.slice(0, slash);
      if (result.has(parent)) break;
      result.add(parent);
      slash = parent.lastIndexOf("/");
    }
  }
  return result;
}

function depth(path: string): number {
  let n = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) n++;
  return n;
}

/** How a path changed at `layer`, comparing its state before the layer with after it. */
export type PathChange = "added" | "modified" | "removed";

export function changeAt(node: PathNode, layer: number): PathChange | undefined {
  const atLayer = node.events.filter((e) => e.layer === layer);
  if (atLayer.length === 0) return undefined;
  const before = node.stateAt(layer - 1);
  const after = atLayer[atLayer.length - 1] as PathEvent;
  const wasLive = before?.kind === "write";
  if (after.kind === "remove") return wasLive ? "removed" : undefined;
  if (!wasLive) return "added";
  if (after.type === "directory" && before.type === "directory") {
    if (after.implicit) return undefined;
    const same = after.mode === before.mode && after.uid === before.uid && after.gid === before.gid;
    return same ? undefined : "modified";
  }
  return "modified";
}

/** Counts every layer's changes over non-directory paths (directories are bookkeeping). */
export function countChanges(fs: LayeredFilesystem): LayerChangeCounts[] {
  const counts: LayerChangeCounts[] = Array.from({ length: fs.layerCount }, () => ({
    added: 0,
    modified: 0,
    removed: 0,
    addedBytes: 0,
    modifiedBytes: 0,
    removedBytes: 0,
  }));
  for (const node of fs.walk()) {
    let previousLayer = -1;
    for (const event of node.events) {
      if (event.layer === previousLayer) continue;
      previousLayer = event.layer;
      const change = changeAt(node, event.layer);
      if (!change) continue;
      const state =
        change === "removed" ? node.stateAt(event.layer - 1) : node.stateAt(event.layer);
      if (!state || state.type === "directory") continue;
      const layerCounts = counts[event.layer] as LayerChangeCounts;
      layerCounts[change]++;
      layerCounts[`${change}Bytes`] += state.size;
    }
  }
  return counts;
}
