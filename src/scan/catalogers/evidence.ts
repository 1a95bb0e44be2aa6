// The union view of an image's files that catalogers care about, built layer by layer:
// each kept path holds either the packages parsed from it or (for OS identification) its
// small text. Later layers replace earlier ones; whiteouts and opaque directories delete.
// A package found again at the same path with the same identity keeps the layer that first
// introduced it, so a dpkg status rewritten by every `apt-get install` still credits each
// package to the layer that installed it. Pure in-memory state: no I/O.
import { type Draft, draftKey } from "./draft.js";

export interface LocatedDraft {
  readonly draft: Draft;
  /** Index of the layer that introduced this package (-1 for a plain filesystem). */
  readonly layer: number;
}

type Evidence =
  | { readonly kind: "packages"; readonly layer: number; readonly items: readonly LocatedDraft[] }
  | { readonly kind: "text"; readonly layer: number; readonly bytes: Buffer };

export class EvidenceSet {
  private readonly byPath = new Map<string, Evidence>();

  /** Records the packages parsed from `path` in `layer`, replacing what lower layers put there. */
  putPackages(path: string, layer: number, drafts: readonly Draft[]): void {
    const previous = this.byPath.get(path);
    const inherited = new Map<string, number>();
    if (previous?.kind === "packages") {
      for (const item of previous.items) inherited.set(draftKey(item.draft), item.layer);
    }
    const items = drafts.map((draft) => ({
      draft,
      layer: inherited.get(draftKey(draft)) ?? layer,
    }));
    this.byPath.set(path, { kind: "packages", layer, items });
  }

  putText(path: string, layer: number, bytes: Buffer): void {
    this.byPath.set(path, { kind: "text", layer, bytes });
  }

  text(path: string): Buffer | undefined {
    const evidence = this.byPath.get(path);
    return evidence?.kind === "text" ? evidence.bytes : undefined;
  }

  /** Something else (a directory, a symlink, an unwanted file) now occupies `path`. */
  replaced(path: string): void {
    this.byPath.delete(path);
  }

  /** A `.wh.` whiteout: `path` and everything under it are gone. */
  whiteout(path: string): void {
    this.byPath.delete(path);
    this.deleteUnder(path, Number.POSITIVE_INFINITY);
  }

  /** An opaque directory: what lower layers (not this one) put under `dir` is hidden. */
  opaque(dir: string, layer: number): void {
    this.deleteUnder(dir, layer);
  }

  /** Every package still visible, in path order for stable output. */
  packages(): LocatedDraft[] {
    const paths = [...this.byPath.keys()].sort();
    const out: LocatedDraft[] = [];
    for (const path of paths) {
      const evidence = this.byPath.get(path);
      if (evidence?.kind === "packages") out.push(...evidence.items);
    }
    return out;
  }

  private deleteUnder(dir: string, beforeLayer: number): void {
    const prefix = dir === "" ? "" : `${dir}/`;
    for (const [path, evidence] of this.byPath) {
      if (path.startsWith(prefix) && evidence.layer < beforeLayer) this.byPath.delete(path);
    }
  }
}
