// The oci/ module's public surface. Pure OCI and Docker image-format knowledge: digests,
// media types, references, manifests. Imports nothing of Berth's; does no I/O.
export * from "./digest.js";
export * from "./history.js";
export * from "./manifest.js";
export * from "./media-types.js";
export * from "./reference.js";
