// The merged filesystem as a tree, as of one layer: every visible path with its size (a
// directory's is the sum beneath it) and the layer that last wrote it; for a chosen layer,
// only what that layer added (+), modified (~) or removed (-), like dive's layer view. Pure:
// derives everything from the layered filesystem's events.
import { formatByteSize } from "./byte-size.js";
import {
  changeAt,
  type LayeredFilesystem,
  type PathChange,
  type PathEvent,
  type PathNode,
} from "./filesystem.js";

export interface TreeEntry {
  readonly name: string;
  /** Absolute path. */
  readonly path: string;
  readonly type: PathEvent["type"];
  readonly size: number;
  /** The layer whose entry this is (for removed paths: the layer that had stored it). */
  readonly layer: number;
  readonly change?: PathChange;
  readonly linkname?: string;
  readonly children: TreeEntry[];
}

export interface TreeOptions {
  /** Show the filesystem as of this layer and only what this layer changed. */
  layer?: number;
}

/** The tree's top-level entries. */
export function buildTree(fs: LayeredFilesystem, options: TreeOptions = {}): TreeEntry[] {
  const at = options.layer ?? fs.layerCount - 1;
  const changesOnly = options.layer !== undefined;
  return childrenOf(fs.root, at, changesOnly);
}

function childrenOf(node: PathNode, at: number, changesOnly: boolean): TreeEntry[] {
  const result: TreeEntry[] = [];
  const names = [...(node.children?.keys() ?? [])].sort();
  for (const name of names) {
    const entry = toEntry(node.child(name) as PathNode, at, changesOnly);
    if (entry) result.push(entry);
  }
  return result;
}

function toEntry(node: PathNode, at: number, changesOnly: boolean): TreeEntry | undefined {
  const change = changeAt(node, at);
  const state = node.stateAt(at);
  const removed = change === "removed";
  if (removed && !changesOnly) return undefined;
  const shown = removed ? node.stateAt(at - 1) : state;
  if (!shown || (!removed && shown.kind !== "write")) return undefined;
  const children = removed
    ? removedChildren(node, at)
    : shown.type === "directory"
      ? childrenOf(node, at, changesOnly)
      : [];
  if (changesOnly && !change && children.length === 0) return undefined;
  const size =
    shown.type === "directory" ? children.reduce((total, c) => total + c.size, 0) : shown.size;
  return {
    name: node.name,
    path: `/${node.path}`,
    type: shown.type,
    size,
    layer: shown.layer,
    change,
    linkname: shown.linkname,
    children,
  };
}

/** Everything a removal at `at` took away beneath `node`. */
function removedChildren(node: PathNode, at: number): TreeEntry[] {
  const result: TreeEntry[] = [];
  for (const name of [...(node.children?.keys() ?? [])].sort()) {
    const child = node.child(name) as PathNode;
    if (changeAt(child, at) !== "removed") continue;
    const entry = toEntry(child, at, true);
    if (entry) result.push(entry);
  }
  return result;
}

const MARKS: Record<PathChange, string> = { added: "+", modified: "~", removed: "-" };

/** Text lines: change mark (or owning layer), size, and the path drawn as a tree. */
export function renderTree(entries: readonly TreeEntry[], options: TreeOptions = {}): string[] {
  const lines: string[] = [];
  const walk = (list: readonly TreeEntry[], prefix: string) => {
    list.forEach((entry, i) => {
      const last = i === list.length - 1;
      const mark =
        options.layer !== undefined
          ? entry.change
            ? MARKS[entry.change]
            : " "
          : `L${entry.layer}`;
      const link = entry.linkname ? ` → ${entry.linkname}` : "";
      const name = entry.type === "directory" ? `${entry.name}/` : entry.name;
      lines.push(
        `${mark.padEnd(4)} ${formatByteSize(entry.size).padStart(9)}  ${prefix}${last ? "└── " : "├── "}${name}${link}`,
      );
      walk(entry.children, `${prefix}${last ? "    " : "│   "}`);
    });
  };
  walk(entries, "");
  return lines;
}
