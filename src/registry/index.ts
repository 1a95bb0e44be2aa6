// The registry/ module's public surface: the /v2/ request handler, the services it needs,
// and the extension points other modules use (events, admission hooks, errors).
export * from "./admission.js";
export type { RegistryCall, RegistryContext } from "./context.js";
export * from "./deletion.js";
export * from "./errors.js";
export * from "./events.js";
export { ManifestCache } from "./manifest-cache.js";
export { handleRegistryRequest, type RequestMeta } from "./router.js";
export { UploadSessions } from "./upload-sessions.js";
