// Explains where an image's bytes are wasted, layer by layer, with the instruction that
// caused each waste and a concrete fix: caches and temporary files left in the image, files
// deleted or replaced by a later layer (still stored in the earlier one), files rewritten
// unchanged (a chmod/chown that copies them), the same content stored by several layers, and
// build toolchains shipped in the final image. Pure: works on the layered filesystem and the
// layers' history; never reads blobs.

import { formatByteSize } from "./byte-size.js";
import type { DockerfileLocation } from "./dockerfile-map.js";
import type { LayeredFilesystem, PathEvent, PathNode } from "./filesystem.js";
import { displayCommand, parseCreatedBy } from "./history.js";
import type { LintNote } from "./lint-link.js";

export type FindingKind =
  /** A package-manager cache or temporary files still in the final image. */
  | "cache-left-behind"
  /** Files a later layer deletes: the earlier layer still ships them. */
  | "removed-in-later-layer"
  /** Files a later layer replaces with different content. */
  | "overwritten"
  /** Files a later layer writes again with identical content (chmod/chown/re-copy). */
  | "rewritten-unchanged"
  /** Identical content stored at different paths by different layers. */
  | "duplicate-content"
  /** A compiler toolchain or headers left in the final image. */
  | "build-toolchain";

/**
 * Who made a layer: the base image, the Dockerfile being analyzed, or nobody knows (no
 * --dockerfile, or none of its instructions matched the history): an image's history does
 * not say where its base ends.
 */
export type LayerOrigin = "base" | "dockerfile" | "unknown";

export interface LayerContext {
  readonly index: number;
  readonly createdBy?: string;
  readonly dockerfile?: DockerfileLocation;
  readonly origin: LayerOrigin;
  /** The layer is known to come from the base image (origin "base"). */
  readonly fromBase: boolean;
}

export interface LayerReference {
  readonly layer: number;
  readonly command: string;
  readonly dockerfile?: DockerfileLocation;
}

export interface Finding {
  readonly kind: FindingKind;
  /** Bytes the fix would take out of the image. */
  readonly bytes: number;
  readonly files: number;
  /** The directory (or file) the finding is about, absolute. */
  readonly path: string;
  /** Up to five of the largest paths involved. */
  readonly examples: readonly string[];
  /** The layer that stores the bytes: where the fix goes. */
  readonly cause: LayerReference;
  /** The other layer involved: the later one that deleted or replaced the bytes, or (for
   * duplicate-content) the earlier one that first stored the same content. */
  readonly other?: LayerReference;
  /** The cause layer is known to be the base image's. */
  readonly fromBase: boolean;
  /** Who made the cause layer. */
  readonly origin: LayerOrigin;
  readonly message: string;
  readonly fix: string;
  /** With --dockerfile: `berth lint` findings on the instruction that caused the waste. */
  readonly lint?: readonly LintNote[];
}

interface CachePattern {
  readonly id: string;
  readonly test: RegExp;
  /** The directory to name in messages (from the match when it captures a home). */
  readonly root: (match: RegExpExecArray) => string;
  readonly fix: string;
}

const HOME = "(root|home/[^/]+)";

/** Caches and scratch space that never belong in an image. Most specific first. */
export const CACHE_PATTERNS: readonly CachePattern[] = [
  {
    id: "apt-lists",
    test: /^var\/lib\/apt\/lists\//,
    root: () => "/var/lib/apt/lists",
    fix: "remove it in the same RUN: end the command with `&& rm -rf /var/lib/apt/lists/*`",
  },
  {
    id: "apt-cache",
    test: /^var\/cache\/apt\//,
    root: () => "/var/cache/apt",
    fix: "run `apt-get clean` in the same RUN (or use `RUN --mount=type=cache,target=/var/cache/apt`)",
  },
  {
    id: "apk-cache",
    test: /^var\/cache\/apk\//,
    root: () => "/var/cache/apk",
    fix: "use `apk add --no-cache …` instead of `apk update` + `apk add`",
  },
  {
    id: "yum-cache",
    test: /^var\/cache\/(yum|dnf)\//,
    root: (m) => `/var/cache/${m[1]}`,
    fix: "run `yum clean all` / `dnf clean all` in the same RUN",
  },
  {
    id: "pip-cache",
    test: new RegExp(`^${HOME}/\\.cache/pip/`),
    root: (m) => `/${m[1]}/.cache/pip`,
    fix: "use `pip install --no-cache-dir` (or set `PIP_NO_CACHE_DIR=1`)",
  },
  {
    id: "npm-cache",
    test: new RegExp(`^${HOME}/\\.npm/`),
    root: (m) => `/${m[1]}/.npm`,
    fix: "run `npm cache clean --force` in the same RUN, or `RUN --mount=type=cache,target=/root/.npm npm ci`",
  },
  {
    id: "yarn-cache",
    test: new RegExp(`^(usr/local/share|${HOME})/\\.cache/yarn/`),
    root: (m) => `/${m[1]}/.cache/yarn`,
    fix: "run `yarn cache clean` in the same RUN (or use a cache mount)",
  },
  {
    id: "go-cache",
    test: new RegExp(`^(${HOME}/\\.cache/go-build|(root/)?go/pkg/mod)/`),
    root: (m) => `/${m[1]}`,
    fix: "build in a separate stage and `COPY --from=build` only the binary",
  },
  {
    id: "build-cache",
    test: /^(.*\/)?(\.cargo\/registry|\.m2\/repository|\.gradle\/caches)\//,
    root: (m) => `/${m[1] ?? ""}${m[2]}`,
    fix: "build in a separate stage and `COPY --from=build` only the artifacts",
  },
  {
    id: "tmp",
    test: /^(tmp|var\/tmp)\//,
    root: (m) => `/${m[1]}`,
    fix: "delete temporary files in the same RUN that creates them (`&& rm -rf /tmp/*`)",
  },
  {
    id: "home-cache",
    test: new RegExp(`^${HOME}/\\.cache/`),
    root: (m) => `/${m[1]}/.cache`,
    fix: "clear the cache in the same RUN that fills it",
  },
];

const TOOLCHAIN = [
  /^usr\/lib\/gcc\//,
  /^usr\/libexec\/gcc\//,
  /^usr\/lib\/gcc-cross\//,
  /^usr\/include\//,
  /^usr\/lib\/llvm-[^/]+\//,
  /^usr\/bin\/([a-z0-9_]+-linux-gnu-)?(gcc|g\+\+|cpp|c\+\+|ld|as)(-[0-9.]+)?$/,
];

/** Toolchain bytes below this per layer are not worth a finding. */
const TOOLCHAIN_MIN_BYTES = 1_000_000;
/** Files smaller than this are not reported as duplicate content. */
const DUPLICATE_MIN_BYTES = 4096;

export function explainWaste(fs: LayeredFilesystem, layers: readonly LayerContext[]): Finding[] {
  const groups = new Map<string, Group>();
  const byDigest = new Map<string, { path: string; layer: number; size: number }[]>();
  for (const node of fs.walk()) {
    collectSuperseded(node, groups);
    const last = node.last;
    if (last?.kind !== "write" || last.type !== "file" || last.size === 0) continue;
    collectLive(node, last, layers, groups);
    if (last.digest && last.size >= DUPLICATE_MIN_BYTES) {
      const list = byDigest.get(last.digest) ?? [];
      list.push({ path: node.path, layer: last.layer, size: last.size });
      byDigest.set(last.digest, list);
    }
  }
  collectDuplicates(byDigest, groups);
  const findings: Finding[] = [];
  for (const group of groups.values()) {
    if (group.kind === "build-toolchain" && group.bytes < TOOLCHAIN_MIN_BYTES) continue;
    findings.push(toFinding(group, layers));
  }
  return findings.sort((a, b) => b.bytes - a.bytes || a.cause.layer - b.cause.layer);
}

interface Group {
  readonly kind: FindingKind;
  readonly layer: number;
  readonly later?: number;
  readonly pattern?: CachePattern;
  readonly area?: string;
  /** For rewritten-unchanged: whether ownership or mode changed (a chmod/chown). */
  metadataChanged: boolean;
  bytes: number;
  files: number;
  /** The largest paths seen, kept short. */
  examples: { path: string; size: number }[];
  commonDir: string | undefined;
}

function addToGroup(
  groups: Map<string, Group>,
  key: Omit<Group, "bytes" | "files" | "examples" | "commonDir" | "metadataChanged">,
  path: string,
  size: number,
  metadataChanged = false,
): void {
  const id = `${key.kind}|${key.layer}|${key.later ?? ""}|${key.area ?? ""}`;
  let group = groups.get(id);
  if (!group) {
    group = { ...key, bytes: 0, files: 0, examples: [], commonDir: undefined, metadataChanged };
    groups.set(id, group);
  }
  group.bytes += size;
  group.files++;
  group.metadataChanged ||= metadataChanged;
  group.commonDir = group.commonDir === undefined ? path : commonDirectory(group.commonDir, path);
  group.examples.push({ path, size });
  if (group.examples.length > 20) {
    group.examples.sort((a, b) => b.size - a.size);
    group.examples.length = 5;
  }
}

/** Every write a later layer hides (by deleting or replacing it) is stored for nothing. */
function collectSuperseded(node: PathNode, groups: Map<string, Group>): void {
  const events = node.events;
  for (let i = 0; i + 1 < events.length; i++) {
    const stored = events[i] as PathEvent;
    const next = events[i + 1] as PathEvent;
    if (stored.kind !== "write" || stored.type !== "file" || stored.size === 0) continue;
    if (next.layer === stored.layer) continue;
    const pattern = matchCache(node.path);
    const base = {
      layer: stored.layer,
      later: next.layer,
      pattern: pattern?.pattern,
      area: pattern?.root,
    };
    if (next.kind === "remove") {
      const root = pattern ? base.area : `/${removalArea(next.root ?? node.path, node)}`;
      const key = { ...base, kind: "removed-in-later-layer" as const, area: root };
      addToGroup(groups, key, node.path, stored.size);
    } else if (next.digest !== undefined && next.digest === stored.digest) {
      const changed =
        next.mode !== stored.mode || next.uid !== stored.uid || next.gid !== stored.gid;
      addToGroup(groups, { ...base, kind: "rewritten-unchanged" }, node.path, stored.size, changed);
    } else {
      const area = pattern ? base.area : `/${node.path.split("/")[0]}`;
      addToGroup(groups, { ...base, kind: "overwritten", area: area }, node.path, stored.size);
    }
  }
}

/**
 * Groups a removal under the path its whiteout named, except that single files removed one by
 * one (`rm /etc/a /etc/b`) group under their directory, so they make one finding, not many.
 */
function removalArea(root: string, node: PathNode): string {
  if (root !== node.path) return root;
  const slash = root.lastIndexOf("/");
  return slash === -1 ? root : root.slice(0, slash);
}

/** Caches and toolchains that are still visible in the final image. */
function collectLive(
  node: PathNode,
  last: PathEvent,
  layers: readonly LayerContext[],
  groups: Map<string, Group>,
): void {
  const path = node.path;
  const cache = matchCache(path);
  if (cache) {
    const key = {
      kind: "cache-left-behind" as const,
      layer: last.layer,
      pattern: cache.pattern,
      area: cache.root,
    };
    addToGroup(groups, key, path, last.size);
    return;
  }
  if (mayBeBase(layers[last.layer])) return;
  if (TOOLCHAIN.some((re) => re.test(path))) {
    addToGroup(groups, { kind: "build-toolchain", layer: last.layer }, path, last.size);
  }
}

/** The same bytes in two layers at different paths: every copy after the first is waste. */
function collectDuplicates(
  byDigest: Map<string, { path: string; layer: number; size: number }[]>,
  groups: Map<string, Group>,
): void {
  for (const copies of byDigest.values()) {
    if (copies.length < 2) continue;
    copies.sort((a, b) => a.layer - b.layer || (a.path < b.path ? -1 : 1));
    const first = copies[0] as { path: string; layer: number; size: number };
    for (const copy of copies.slice(1)) {
      if (copy.layer === first.layer) continue;
      const key = { kind: "duplicate-content" as const, layer: copy.layer, later: first.layer };
      addToGroup(groups, key, copy.path, copy.size);
    }
  }
}

/**
 * Known to be the base image's, or the first layer of an image whose base is unknown (dive
 * calls it the base layer): toolchains there are not the user's to remove.
 */
function mayBeBase(layer: LayerContext | undefined): boolean {
  return (
    layer !== undefined && (layer.fromBase || (layer.origin === "unknown" && layer.index === 0))
  );
}

function matchCache(path: string): { pattern: CachePattern; root: string } | undefined {
  for (const pattern of CACHE_PATTERNS) {
    const match = pattern.test.exec(path);
    if (match) return { pattern, root: pattern.root(match) };
  }
  return undefined;
}

function commonDirectory(a: string, b: string): string {
  const pa = a.split("/");
  const pb = b.split("/");
  const common: string[] = [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) break;
    common.push(pa[i] as string);
  }
  return common.join("/");
}

function reference(layers: readonly LayerContext[], index: number): LayerReference {
  const context = layers[index];
  return {
    layer: index,
    command: displayCommand(context?.createdBy, 60),
    dockerfile: context?.dockerfile,
  };
}

/** "layer 4 `RUN apt-get update && …` (Dockerfile line 7)". */
export function describeLayer(ref: LayerReference): string {
  const line = ref.dockerfile ? ` (Dockerfile line ${ref.dockerfile.line})` : "";
  return `layer ${ref.layer} \`${ref.command}\`${line}`;
}

function toFinding(group: Group, layers: readonly LayerContext[]): Finding {
  const cause = reference(layers, group.layer);
  const other = group.later === undefined ? undefined : reference(layers, group.later);
  const fromBase = layers[group.layer]?.fromBase ?? false;
  const origin = layers[group.layer]?.origin ?? "unknown";
  const examples = group.examples
    .sort((a, b) => b.size - a.size)
    .slice(0, 5)
    .map((e) => `/${e.path}`);
  const path = group.pattern
    ? (group.area as string)
    : group.files === 1
      ? (examples[0] as string)
      : `/${group.commonDir ?? ""}`;
  const size = formatByteSize(group.bytes);
  const what = group.files === 1 ? path : `${path} (${group.files} files)`;
  const explained = explain(group, { cause, later: other, size, what, fromBase, layers });
  const { message } = explained;
  const fix =
    origin === "unknown" && group.layer === 0
      ? `${explained.fix}; ${UNKNOWN_BASE_NOTE}`
      : explained.fix;
  return {
    kind: group.kind,
    bytes: group.bytes,
    files: group.files,
    path,
    examples,
    cause,
    other,
    fromBase,
    origin,
    message,
    fix,
  };
}

/** Said of layer 0 when nothing tells whether the base image or the user made it. */
const UNKNOWN_BASE_NOTE =
  "if layer 0 is your base image's, choose a base image without these files instead (run with --dockerfile so Berth can tell the base image's layers from yours)";

interface Wording {
  cause: LayerReference;
  later?: LayerReference;
  size: string;
  what: string;
  fromBase: boolean;
  layers: readonly LayerContext[];
}

function explain(group: Group, w: Wording): { message: string; fix: string } {
  const by = describeLayer(w.cause);
  const laterBy = w.later ? describeLayer(w.later) : "";
  const baseFix = "it comes from the base image: choose a slimmer base image or variant";
  switch (group.kind) {
    case "cache-left-behind":
      return {
        message: `${w.size} of ${w.what} written by ${by} is still in the image`,
        fix: w.fromBase ? baseFix : (group.pattern?.fix ?? "remove it in the same RUN"),
      };
    case "removed-in-later-layer":
      return {
        message: `${w.size} of ${w.what} written by ${by} is deleted by ${laterBy} but still stored in layer ${w.cause.layer}`,
        fix: w.fromBase
          ? "these files come from the base image, so deleting them in a later layer saves nothing: choose a base image without them (e.g. a -slim variant), or drop the deletion"
          : removalFix(group, w),
      };
    case "overwritten":
      return {
        message: `${w.size} of ${w.what} written by ${by} is replaced by ${laterBy}; the first version still ships in layer ${w.cause.layer}`,
        fix: w.fromBase
          ? "the original comes from the base image and stays in it: for large files, prefer a base image that already has the version you need"
          : "write the final version once: make the change in the instruction that creates the files, or produce them in a build stage and COPY the result",
      };
    case "rewritten-unchanged":
      return {
        message: group.metadataChanged
          ? `${w.size} of ${w.what} written by ${by} is copied again by ${laterBy} only to change ownership or permissions`
          : `${w.size} of ${w.what} written by ${by} is written again, unchanged, by ${laterBy}`,
        fix: !group.metadataChanged
          ? "drop the second copy"
          : w.fromBase
            ? "chmod/chown of base-image files copies every file they touch: limit them to the files that need it, or run the process as a user that needs no change"
            : "set ownership and permissions where the files are created (`COPY --chown=… --chmod=…`, or chown/chmod in the same RUN) instead of in a later layer",
      };
    case "duplicate-content":
      return {
        message: `${w.size} of ${w.what} added by ${by} duplicates content already stored by ${laterBy}`,
        fix: "store the content once (copy it to one place, or hard-link/symlink the second path)",
      };
    case "build-toolchain":
      return {
        message: `${w.size} of compilers and headers (${w.what}) installed by ${by} ship in the final image`,
        fix: "build in a separate stage (`FROM … AS build`) and `COPY --from=build` only the artifacts, or purge the toolchain in the same RUN",
      };
  }
}

function removalFix(group: Group, w: Wording): string {
  const keyword = parseCreatedBy(w.layers[w.cause.layer]?.createdBy)?.keyword;
  const instruction = keyword === "COPY" || keyword === "ADD" ? keyword : "RUN";
  if (instruction !== "RUN") {
    return `don't ${instruction} these files in the first place: exclude them with .dockerignore or a narrower source path`;
  }
  const deleting = "deleting files in a later layer never shrinks the image";
  if (group.pattern) return `${group.pattern.fix}; ${deleting}`;
  return `delete them in the same RUN that creates them, or create them in a build stage; ${deleting}`;
}
