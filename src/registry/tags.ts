// GET /v2/<name>/tags/list: the repository's tags in byte order, with `n`/`last`
// pagination and a `Link` header when more follow. Unknown repositories answer NAME_UNKNOWN.
import type { OutgoingHttpHeaders } from "node:http";
import { findRepositoryId, listTags } from "../meta/index.js";
import { authorize, repositoryTarget } from "./authorize.js";
import type { RegistryCall, RegistryContext } from "./context.js";
import { RegistryError } from "./errors.js";
import { replyJson } from "./http.js";
import { nextLink, parsePage } from "./pagination.js";

/** Tags returned when the client gives no `n`: effectively all (bounded for memory). */
const MAX_PAGE = 100_000;

export async function listTagsRoute(ctx: RegistryContext, call: RegistryCall): Promise<void> {
  await authorize(ctx, call, repositoryTarget(call.repository, "pull"));
  const page = parsePage(call.query);
  if ((await findRepositoryId(ctx.db, call.repository)) === undefined) {
    throw new RegistryError("NAME_UNKNOWN", "repository name not known to registry", {
      detail: { name: call.repository },
    });
  }
  const headers: OutgoingHttpHeaders = {};
  const limit = Math.min(page.n ?? MAX_PAGE, MAX_PAGE);
  let tags: string[] = [];
  if (limit > 0) {
    tags = await listTags(ctx.db, call.repository, page.last, limit + 1);
    if (tags.length > limit) {
      tags = tags.slice(0, limit);
      headers.Link = nextLink(`/v2/${call.repository}/tags/list`, limit, tags[tags.length - 1]!);
    }
  }
  replyJson(call.res, 200, headers, { name: call.repository, tags }, call.method === "HEAD");
}
