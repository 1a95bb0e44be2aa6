// The cataloging entry points of Berth's scanner: what is installed in an image (walking its
// layers in order, whiteouts honoured, nothing unpacked to disk) or in a directory. OS
// packages (dpkg, apk, rpm: sqlite/ndb/bdb) and language packages (npm, PyPI, Go binaries,
// Maven jars, RubyGems, crates.io, Packagist, NuGet), each with its location and, for
// images, the layer (digest + command) that introduced it; for directories also the lock files
// of a source tree (requirements.txt, Pipfile.lock, poetry.lock, uv.lock, go.mod/go.sum,
// Gemfile.lock, composer.lock, package-lock.json, yarn.lock, pnpm-lock.yaml, pom.xml).
// Matching is not done here.
export type { CatalogResult } from "./assemble.js";
export { CatalogError, ScanTargetError } from "./errors.js";
export { catalogFilesystem } from "./filesystem.js";
export {
  type CatalogImageOptions,
  type CatalogProgress,
  catalogImage,
} from "./image.js";
export type { OsInfo } from "./os-release.js";
