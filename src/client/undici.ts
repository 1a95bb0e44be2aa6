// The two pieces of undici the registry client uses, Agent and request(), loaded from
// undici's own modules instead of its index: the index also loads fetch, WebSocket, the mock
// agents, the HTTP cache and cookies (about 110 files; 140 ms of every CLI run that talks to a
// registry on this machine, measured on a fully cached `berth build`), where Agent and the
// request API are about 30 files. request() is what undici's index builds with
// makeDispatcher(api.request), for the call shape the client uses: an absolute URL and
// options carrying the dispatcher (never the global one). Only applied to the undici versions
// audited for it (their lib/ layout and api.request); any other version uses the index
// (correct, just slower). Must never change what a request sends or receives.
import { createRequire } from "node:module";
import type * as Undici from "undici";

/** undici versions whose lib/dispatcher/agent and lib/api were audited (see above). */
export const AUDITED_UNDICI_VERSIONS: readonly string[] = ["7.30.2"];

type RequestFn = typeof Undici.request;
type RequestOptions = Parameters<RequestFn>[1] & { dispatcher: Undici.Dispatcher };

const require = createRequire(import.meta.url);

function load(): { Agent: typeof Undici.Agent; request: RequestFn } {
  const version = (require("undici/package.json") as { version: string }).version;
  if (!AUDITED_UNDICI_VERSIONS.includes(version)) {
    const full = require("undici") as typeof Undici;
    return { Agent: full.Agent, request: full.request };
  }
  const Agent = require("undici/lib/dispatcher/agent") as typeof Undici.Agent;
  const api = require("undici/lib/api") as {
    request: (this: Undici.Dispatcher, opts: object) => ReturnType<RequestFn>;
  };
  const request = ((url: string | URL, opts: RequestOptions) => {
    const parsed = new URL(url);
    return api.request.call(opts.dispatcher, {
      ...opts,
      origin: parsed.origin,
      path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname,
      method: opts.method || (opts.body ? "PUT" : "GET"),
    });
  }) as RequestFn;
  return { Agent, request };
}

const loaded = load();
export const Agent = loaded.Agent;
export const request = loaded.request;
