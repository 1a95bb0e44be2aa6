// What a cataloger's parser reports for one file, before the image-wide facts (OS release,
// layer) are known. OS packages stay "drafts" until the OS is detected, because their
// ecosystem, release and purl depend on it; language packages are complete already.
// Pure types and tiny constructors: no I/O, no parsing.
import type { Package } from "../package.js";

export type OsPackageManager = "dpkg" | "apk" | "rpm";

/** An installed OS package as its package database describes it. */
export interface OsPackageDraft {
  readonly kind: "os";
  readonly manager: OsPackageManager;
  readonly name: string;
  /** Full version as the package manager compares it (rpm: `[epoch:]version-release`). */
  readonly version: string;
  readonly arch?: string;
  /** rpm only: the epoch, kept apart for the purl qualifier. */
  readonly epoch?: number;
  readonly sourceName?: string;
  readonly sourceVersion?: string;
  readonly licenses?: readonly string[];
  /** The file that showed it (absolute path in the image). */
  readonly location: string;
}

/** A language package: already complete except for where and in which layer it was found. */
export interface LibraryDraft {
  readonly kind: "library";
  readonly pkg: Omit<Package, "locations" | "layer">;
  readonly location: string;
  /**
   * Lock-file entries name packages that may never have been installed; they count only
   * when no `node_modules` directory next to the lock file shows what was installed.
   */
  readonly fromLockfileIn?: string;
}

export type Draft = OsPackageDraft | LibraryDraft;

/** Identity used to tell whether a rewritten file still holds the same package. */
export function draftKey(draft: Draft): string {
  if (draft.kind === "os")
    return `${draft.manager}|${draft.name}|${draft.arch ?? ""}|${draft.version}`;
  return `${draft.pkg.purl}|${draft.location}`;
}

export function library(pkg: Omit<Package, "locations" | "layer">, location: string): LibraryDraft {
  return { kind: "library", pkg, location };
}
