// A stage's root filesystem on disk, for what needs real files: RUN (executed inside it),
// COPY --from (reads out of it) and USER/--chown names (read from its /etc/passwd and
// /etc/group). Layers are applied in order with OCI whiteouts; every path is resolved inside
// the root, following symlinks as a chroot would, so a layer can never write outside it
// (no `..`, no absolute symlink escapes). Also snapshots a tree and diffs two snapshots into
// layer entries (what RUN changed). Never follows a symlink out of the root.
import { constants, createReadStream, createWriteStream } from "node:fs";
import {
  chmod,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
} from "node:fs/promises";
import { join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { readLayer } from "../image/layer-reader.js";
import type { LayerFile } from "./layer-writer.js";
import type { BuildStore } from "./store.js";

export class RootfsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RootfsError";
  }
}

/** Normalises an in-image path to `a/b/c` (no leading `/`, no `.`/`..` above the root). */
export function cleanImagePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

/**
 * The host path of in-image `path` under `root`, with symlinks in its parent components
 * resolved inside the root (the last component is not followed unless `followLast`).
 */
export async function resolveInRoot(
  root: string,
  path: string,
  followLast = false,
): Promise<string> {
  const pending = cleanImagePath(path).split("/").filter(Boolean);
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    const candidate = [...resolved, part];
    const isLast = pending.length === 0;
    let info: Awaited<ReturnType<typeof lstat>> | undefined;
    try {
      info = await lstat(join(root, ...candidate));
    } catch {
      info = undefined;
    }
    if (info?.isSymbolicLink() && (!isLast || followLast)) {
      if (++hops > 40) throw new RootfsError(`too many symlinks resolving /${path}`);
      const target = await readlink(join(root, ...candidate));
      const base = target.startsWith("/") ? [] : resolved;
      const next = cleanImagePath(posix.join("/", ...base, target))
        .split("/")
        .filter(Boolean);
      resolved.length = 0;
      pending.unshift(...next);
      continue;
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}

/** Applies the layer blob `digest` of the store onto `root`. */
export async function applyLayer(store: BuildStore, digest: string, root: string): Promise<void> {
  const links: { path: string; target: string }[] = [];
  await readLayer(createReadStream(store.blobFile(digest)), async (entry, content) => {
    const target = await resolveInRoot(root, entry.path);
    if (target === root) return;
    if (entry.whiteout === "file") {
      await rm(target, { recursive: true, force: true });
      return;
    }
    if (entry.whiteout === "opaque") {
      for (const name of await readdir(target).catch(() => [])) {
        await rm(join(target, name), { recursive: true, force: true });
      }
      return;
    }
    await mkdir(join(target, ".."), { recursive: true });
    const existing = await lstat(target).catch(() => undefined);
    if (existing && !(existing.isDirectory() && entry.type === "directory")) {
      await rm(target, { recursive: true, force: true });
    }
    switch (entry.type) {
      case "directory":
        await mkdir(target, { recursive: true });
        break;
      case "file":
        await pipeline(content, createWriteStream(target, { mode: 0o600 }));
        break;
      case "symlink":
        await symlink(entry.linkname ?? "", target);
        break;
      case "hardlink":
        links.push({ path: target, target: entry.linkname ?? "" });
        return;
      default:
        return; // devices and fifos are not recreated
    }
    await lchown(target, entry.uid, entry.gid);
    if (entry.type !== "symlink") await chmod(target, entry.mode & 0o7777);
  });
  for (const l of links) {
    const source = await resolveInRoot(root, l.target);
    await link(source, l.path).catch(() => undefined);
  }
}

/** What a path looked like: enough to tell whether a RUN touched it. */
export interface PathState {
  readonly type: "file" | "directory" | "symlink" | "other";
  readonly signature: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
}

/** Paths never captured from a RUN: the kernel's and the sandbox's mount points. */
const VOLATILE_TOP = new Set(["proc", "sys", "dev"]);

export async function snapshot(root: string): Promise<Map<string, PathState>> {
  const states = new Map<string, PathState>();
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(rel === "" ? root : join(root, rel));
    for (const name of entries) {
      const path = rel === "" ? name : `${rel}/${name}`;
      if (rel === "" && VOLATILE_TOP.has(name)) continue;
      const info = await lstat(join(root, path), { bigint: true });
      const type = info.isDirectory()
        ? "directory"
        : info.isFile()
          ? "file"
          : info.isSymbolicLink()
            ? "symlink"
            : "other";
      states.set(path, {
        type,
        signature: `${type}:${info.mode}:${info.uid}:${info.gid}:${info.size}:${info.mtimeNs}:${info.ctimeNs}:${info.ino}`,
        mode: Number(info.mode & BigInt(0o7777)),
        uid: Number(info.uid),
        gid: Number(info.gid),
        size: Number(info.size),
        mtime: Number(info.mtimeMs / 1000n),
      });
      if (type === "directory") await walk(path);
    }
  }
  await walk("");
  return states;
}

/** Layer entries for what changed between two snapshots of `root`. */
export async function diffSnapshots(
  root: string,
  before: Map<string, PathState>,
  after: Map<string, PathState>,
): Promise<LayerFile[]> {
  const files: LayerFile[] = [];
  for (const [path, state] of after) {
    const old = before.get(path);
    if (old && old.signature === state.signature) continue;
    if (state.type === "other") continue;
    const host = join(root, path);
    files.push({
      path,
      type: state.type,
      mode: state.mode,
      uid: state.uid,
      gid: state.gid,
      mtime: state.mtime,
      size: state.type === "file" ? state.size : 0,
      source: state.type === "file" ? host : undefined,
      linkname: state.type === "symlink" ? await readlink(host) : undefined,
    });
  }
  for (const path of before.keys()) {
    if (after.has(path)) continue;
    const parent = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    if (parent !== "" && !after.has(parent)) continue; // the parent's whiteout covers it
    files.push({ path, type: "whiteout", mode: 0, uid: 0, gid: 0, mtime: 0 });
  }
  return files;
}

/** Every entry under in-image directory `dir` of `root` (recursive), as layer entries. */
export async function treeEntries(hostDir: string, imagePrefix: string): Promise<LayerFile[]> {
  const files: LayerFile[] = [];
  async function walk(host: string, image: string): Promise<void> {
    for (const name of (await readdir(host)).sort()) {
      const h = join(host, name);
      const i = image === "" ? name : `${image}/${name}`;
      const info = await lstat(h);
      files.push(await entryOf(h, i, info));
      if (info.isDirectory()) await walk(h, i);
    }
  }
  await walk(hostDir, imagePrefix);
  return files.filter((f) => f.path !== "");
}

/** The layer entry for host path `host` placed at image path `path`. */
export async function entryOf(
  host: string,
  path: string,
  info: Awaited<ReturnType<typeof lstat>>,
): Promise<LayerFile> {
  const mode = Number(info.mode) & 0o7777;
  const common = {
    path,
    mode,
    uid: Number(info.uid),
    gid: Number(info.gid),
    mtime: Number(info.mtimeMs) / 1000,
  };
  if (info.isDirectory()) return { ...common, type: "directory" };
  if (info.isSymbolicLink()) return { ...common, type: "symlink", linkname: await readlink(host) };
  if ((Number(info.mode) & constants.S_IFMT) !== constants.S_IFREG) {
    throw new RootfsError(`/${path} is neither a file, a directory nor a symlink`);
  }
  return { ...common, type: "file", source: host, size: Number(info.size) };
}

/** Sets mtimes of written paths (kept for fidelity of COPY --from). */
export async function setTime(host: string, seconds: number): Promise<void> {
  await lutimes(host, seconds, seconds).catch(() => undefined);
}

export interface Ids {
  readonly uid: number;
  readonly gid: number;
}

/**
 * `user[:group]` (names or numbers) resolved against the root's /etc/passwd and /etc/group.
 * A name the files do not know is an error naming it; a bare uid takes that user's group
 * when listed, else the same number as docker does (gid 0 for users not in passwd).
 */
export async function resolveUser(root: string | undefined, spec: string): Promise<Ids> {
  const [user = "", group] = spec.split(":", 2);
  const passwd = root ? await readIdFile(root, "etc/passwd") : [];
  const groups = root ? await readIdFile(root, "etc/group") : [];
  let uid: number;
  let primary = 0;
  if (/^\d+$/.test(user)) {
    uid = Number(user);
    const row = passwd.find((r) => r[2] === user);
    if (row) primary = Number(row[3]);
  } else {
    const row = passwd.find((r) => r[0] === user);
    if (!row)
      throw new RootfsError(`unable to find user ${user}: no matching entries in /etc/passwd`);
    uid = Number(row[2]);
    primary = Number(row[3]);
  }
  if (group === undefined || group === "") return { uid, gid: primary };
  if (/^\d+$/.test(group)) return { uid, gid: Number(group) };
  const row = groups.find((r) => r[0] === group);
  if (!row)
    throw new RootfsError(`unable to find group ${group}: no matching entries in /etc/group`);
  return { uid, gid: Number(row[2]) };
}

/** The home directory /etc/passwd gives `uid` (what runc sets HOME to when it is unset), else `/`. */
export async function userHome(root: string, uid: number): Promise<string> {
  const row = (await readIdFile(root, "etc/passwd")).find((r) => r[2] === String(uid));
  return row?.[5] || "/";
}

async function readIdFile(root: string, path: string): Promise<string[][]> {
  try {
    const text = await readFile(await resolveInRoot(root, path, true), "utf8");
    return text
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("#"))
      .map((l) => l.split(":"));
  } catch {
    return [];
  }
}
