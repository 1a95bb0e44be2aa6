// The meta/ module's public surface: opening the database and the registry's queries.

export * from "./artifacts.js";
export * from "./blobs.js";
export * from "./cluster.js";
export * from "./cve-allowlist.js";
export * from "./database.js";
export * from "./dialect.js";
export * from "./fsck.js";
export * from "./gc.js";
export * from "./immutable-rules.js";
export * from "./jobs.js";
export type * from "./jobs-schema.js";
export * from "./manifests.js";
export * from "./outbox.js";
export type * from "./policy-schema.js";
export * from "./pull-times.js";
export * from "./quota-limits.js";
export * from "./repositories.js";
export * from "./retention-policies.js";
export * from "./scan-policies.js";
export * from "./scan-reports.js";
export * from "./schedules.js";
export type * from "./schema.js";
export * from "./tags.js";
export * from "./trash.js";
export * from "./trust-policies.js";
export * from "./uploads.js";
