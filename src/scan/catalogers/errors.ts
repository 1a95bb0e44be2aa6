// The one error cataloging raises for its callers to report: an unreadable layer, a layer
// whose bytes do not match its digest, a target that is not a directory. Messages are one
// sentence naming the thing at fault.
export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CatalogError";
  }
}
