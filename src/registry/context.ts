// The long-lived services every registry route uses (RegistryContext) and the per-request
// view of one call (RegistryCall). Built once by server.ts, the composition root.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AccessController } from "../auth/access.js";
import type { BerthConfig } from "../config/config.js";
import type { Database, PullTimes } from "../meta/index.js";
import type { BlobStore } from "../storage/index.js";
import type { Admission } from "./admission.js";
import type { RegistryEvents } from "./events.js";
import type { ManifestCache } from "./manifest-cache.js";
import type { PullThrough } from "./pull-through.js";
import type { UploadSessions } from "./upload-sessions.js";

export interface RegistryContext {
  readonly config: BerthConfig;
  readonly db: Kysely<Database>;
  readonly store: BlobStore;
  readonly access: AccessController;
  readonly admission: Admission;
  readonly events: RegistryEvents;
  readonly logger: Logger;
  readonly manifestCache: ManifestCache;
  readonly uploads: UploadSessions;
  readonly pullTimes: PullTimes;
  /** Proxy-cache projects (src/proxy); absent when the server has none configured. */
  readonly pullThrough?: PullThrough;
}

export interface RegistryCall {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** Repository name from the path (validated), or "" for /v2/ and /v2/_catalog. */
  readonly repository: string;
  readonly query: URLSearchParams;
  readonly remoteAddress: string;
  readonly requestId: string;
}
