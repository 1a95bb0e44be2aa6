// The meta/ module's public surface: opening the database and the registry's queries.
export * from "./blobs.js";
export * from "./database.js";
export * from "./dialect.js";
export * from "./manifests.js";
export * from "./pull-times.js";
export * from "./repositories.js";
export type * from "./schema.js";
export * from "./tags.js";
export * from "./trust-policies.js";
export * from "./uploads.js";
