// GET /v2/<name>/tags/list: the repository's tags in byte order, with `n`/`last`
// pagination and a `Link` header when more follow. Unknown repositories answer NAME_UNKNOWN.
import type { OutgoingHttpHeaders } from "node:http";
import { findRepositoryId, listTagPage } from "../meta/index.js";
import { authorize, repositoryTarget } from "./authorize.js";
import type { RegistryCall, RegistryContext } from "./context.js";
import { RegistryError } from "./errors.js";
import { replyJsonText } from "./http.js";
import { nextLink, parsePage } from "./pagination.js";

/** Tags returned when the client gives no `n`: effectively all (bounded for memory). */
const MAX_PAGE = 100_000;

export async function listTagsRoute(ctx: RegistryContext, call: RegistryCall): Promise<void> {
  await authorize(ctx, call, repositoryTarget(call.repository, "pull"));
  const page = parsePage(call.query);
  const limit = Math.min(page.n ?? MAX_PAGE, MAX_PAGE);
  const headers: OutgoingHttpHeaders = {};
  let tagsJson = "[]";
  let count = 0;
  if (limit > 0) {
    const tags = await listTagPage(ctx.db, call.repository, page.last, limit);
    ({ count } = tags);
    tagsJson = tags.json;
    if (tags.more && tags.last !== undefined) {
      headers.Link = nextLink(`/v2/${call.repository}/tags/list`, limit, tags.last);
    }
  }
  // A repository with tags exists; only an empty page needs to ask.
  if (count === 0 && (await findRepositoryId(ctx.db, call.repository)) === undefined) {
    throw new RegistryError("NAME_UNKNOWN", "repository name not known to registry", {
      detail: { name: call.repository },
    });
  }
  // The database built the array as JSON (escaped as JSON requires); only the frame is added.
  const body = `{"name":${JSON.stringify(call.repository)},"tags":${tagsJson}}`;
  replyJsonText(call.res, 200, headers, body, call.method === "HEAD");
}
