// The build context: the directory named on the command line, filtered by its .dockerignore
// exactly as Docker reads it (@balena/dockerignore: Go filepath.Match patterns, `!`
// exceptions, `**`), and the source selection of COPY/ADD (paths and wildcards relative to the
// context root, a directory meaning its contents). Only the files a COPY names are read.
// Never reads outside the context: `..` cannot climb above its root, and a symlink in the
// context is copied as a symlink, never followed.
import { lstat, readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Ignore } from "@balena/dockerignore";
import picomatch from "picomatch";
import type { LayerFile } from "./layer-writer.js";
import { cleanImagePath, entryOf } from "./rootfs.js";

/** @balena/dockerignore is CommonJS (`module.exports = factory`); its typings say `default`. */
const ignore = createRequire(import.meta.url)("@balena/dockerignore") as () => Ignore;

export class ContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ContextError";
  }
}

/** One source file or directory of the context, at its context-relative path. */
export interface ContextMatch {
  readonly path: string;
  readonly isDirectory: boolean;
}

export class BuildContext {
  private listing: string[] | undefined;

  private constructor(
    readonly root: string,
    private readonly ignorer: Ignore,
    private readonly hasExceptions: boolean,
  ) {}

  static async open(root: string): Promise<BuildContext> {
    const info = await lstat(root).catch(() => undefined);
    if (!info?.isDirectory()) throw new ContextError(`build context ${root} is not a directory`);
    let patterns: string[] = [];
    try {
      patterns = parseDockerignore(await readFile(join(root, ".dockerignore"), "utf8"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const ignorer = ignore().add(patterns);
    return new BuildContext(
      root,
      ignorer,
      patterns.some((p) => p.startsWith("!")),
    );
  }

  ignores(path: string): boolean {
    return path !== "" && this.ignorer.ignores(path);
  }

  /** Every path of the context that .dockerignore keeps (files, dirs, symlinks), sorted. */
  async paths(): Promise<string[]> {
    if (this.listing) return this.listing;
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const names = (await readdir(rel === "" ? this.root : join(this.root, rel))).sort();
      for (const name of names) {
        const path = rel === "" ? name : `${rel}/${name}`;
        const info = await lstat(join(this.root, path));
        const ignored = this.ignores(path);
        if (!ignored) out.push(path);
        if (info.isDirectory() && (!ignored || this.hasExceptions)) await walk(path);
      }
    };
    await walk("");
    this.listing = out;
    return out;
  }

  /** The context paths a COPY source names (a literal path or a wildcard pattern). */
  async match(source: string): Promise<ContextMatch[]> {
    const clean = cleanImagePath(source);
    const all = await this.paths();
    const wanted =
      clean === ""
        ? [""]
        : hasWildcard(clean)
          ? all.filter((p) => picomatch(clean, { dot: true })(p))
          : all.includes(clean)
            ? [clean]
            : [];
    if (wanted.length === 0) {
      throw new ContextError(
        `COPY source "${source}" is not in the build context${this.ignores(clean) ? " (it is excluded by .dockerignore)" : ""}`,
      );
    }
    const out: ContextMatch[] = [];
    for (const path of wanted) {
      const info = await lstat(path === "" ? this.root : join(this.root, path));
      out.push({ path, isDirectory: info.isDirectory() });
    }
    return out;
  }

  /** Layer entries of a context directory's contents (kept by .dockerignore), placed under `dest`. */
  async directoryEntries(dir: string, dest: string): Promise<LayerFile[]> {
    const prefix = dir === "" ? "" : `${dir}/`;
    const files: LayerFile[] = [];
    for (const path of await this.paths()) {
      if (!path.startsWith(prefix)) continue;
      const rel = path.slice(prefix.length);
      files.push(await this.entry(path, joinImage(dest, rel)));
    }
    return files;
  }

  /** The layer entry of one context path, placed at image path `dest`. */
  async entry(path: string, dest: string): Promise<LayerFile> {
    const host = join(this.root, path);
    return entryOf(host, dest, await lstat(host));
  }
}

export function joinImage(dir: string, rel: string): string {
  return cleanImagePath(rel === "" ? dir : `${dir}/${rel}`);
}

function hasWildcard(path: string): boolean {
  return /[*?[]/.test(path);
}

/** .dockerignore lines as Docker reads them: comments and blank lines dropped, trimmed. */
export function parseDockerignore(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}
