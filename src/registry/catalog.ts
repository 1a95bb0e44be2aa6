// GET /v2/_catalog: repository names in byte order with `n`/`last` pagination and a `Link`
// header, listing only repositories the caller may see (AccessController.canList).
import type { OutgoingHttpHeaders } from "node:http";
import { listRepositories } from "../meta/index.js";
import { authorize } from "./authorize.js";
import type { RegistryCall, RegistryContext } from "./context.js";
import { replyJson } from "./http.js";
import { nextLink, parsePage } from "./pagination.js";

const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

export async function catalogRoute(ctx: RegistryContext, call: RegistryCall): Promise<void> {
  const principal = await authorize(ctx, call, { kind: "catalog" });
  const page = parsePage(call.query);
  const limit = Math.min(page.n ?? DEFAULT_PAGE, MAX_PAGE);
  const names: string[] = [];
  let after = page.last;
  let more = false;
  while (limit > 0) {
    const batch = await listRepositories(ctx.db, after, limit + 1);
    for (const name of batch) {
      if (!(await ctx.access.canList(principal, name))) continue;
      if (names.length === limit) {
        more = true;
        break;
      }
      names.push(name);
    }
    if (more || batch.length < limit + 1) break;
    after = batch[batch.length - 1];
  }
  const headers: OutgoingHttpHeaders = {};
  if (more) headers.Link = nextLink("/v2/_catalog", limit, names[names.length - 1]!);
  replyJson(call.res, 200, headers, { repositories: names }, call.method === "HEAD");
}
