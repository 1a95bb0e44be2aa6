// The one error cataloging raises for its callers to report: an unreadable layer, a layer
// whose bytes do not match its digest, a target that is not a directory. Messages are one
// sentence naming the thing at fault.
export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CatalogError";
  }
}

/** The scan target itself is wrong: an `fs:` path that does not exist or is not a directory or
 * file, an `sbom:` file that cannot be read or is not an SBOM. A usage error (exit 2), unlike
 * a CatalogError, which is a failure reading a target that exists (exit 3). */
export class ScanTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScanTargetError";
  }
}
