// Pagination and sorting of every list in the management API: `page` (1-based),
// `page_size` (1-100, default 20) and `sort` (a field name, `-field` for descending),
// answered as `{items, total, page, pageSize}` plus `X-Total-Count` and a `Link` header.
// Every page number and size is checked here (the route schemas say the same for the
// OpenAPI document): out-of-range or non-integer values answer 400, never reach SQL.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Page, PageRequest } from "../auth/store.js";
import { badRequest } from "./errors.js";

/** The highest page number accepted (a million pages of 100: far past any real list). */
export const MAX_PAGE = 1_000_000;
export const MAX_PAGE_SIZE = 100;

export const PAGE_QUERY = {
  page: {
    type: "integer",
    minimum: 1,
    maximum: MAX_PAGE,
    default: 1,
    description: "1-based page number",
  },
  page_size: {
    type: "integer",
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: 20,
    description: "items per page",
  },
  sort: { type: "string", description: "sort field; prefix with '-' for descending" },
} as const;

export function pageSchema(item: object) {
  return {
    type: "object",
    required: ["items", "total", "page", "pageSize"],
    properties: {
      items: { type: "array", items: item },
      total: { type: "integer" },
      page: { type: "integer" },
      pageSize: { type: "integer" },
    },
  } as const;
}

export function pageRequest<S extends string>(
  query: { page?: number; page_size?: number; sort?: string },
  fields: readonly S[],
  defaultSort: S,
  defaultDescending = false,
): PageRequest<S> {
  let sort = defaultSort;
  let descending = defaultDescending;
  if (query.sort) {
    const desc = query.sort.startsWith("-");
    const field = desc ? query.sort.slice(1) : query.sort;
    if (!(fields as readonly string[]).includes(field)) {
      throw badRequest(`cannot sort by "${field}" (use ${fields.join(", ")})`);
    }
    sort = field as S;
    descending = desc;
  }
  return {
    page: boundedInteger("page", query.page ?? 1, MAX_PAGE),
    pageSize: boundedInteger("page_size", query.page_size ?? 20, MAX_PAGE_SIZE),
    sort,
    descending,
  };
}

function boundedInteger(name: string, value: unknown, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw badRequest(
      `${name} must be an integer from 1 to ${max}, got ${String(value).slice(0, 40)}`,
    );
  }
  return value;
}

export function sendPage<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  page: PageRequest<string>,
  result: Page<T>,
) {
  reply.header("x-total-count", String(result.total));
  const last = Math.max(1, Math.ceil(result.total / page.pageSize));
  if (page.page < last) {
    const url = new URL(request.url, "http://x");
    url.searchParams.set("page", String(page.page + 1));
    url.searchParams.set("page_size", String(page.pageSize));
    reply.header("link", `<${url.pathname}${url.search}>; rel="next"`);
  }
  return { items: result.items, total: result.total, page: page.page, pageSize: page.pageSize };
}

/** Paginate an in-memory list (for data that is not in SQL, e.g. registry listings). */
export function slicePage<T>(items: T[], page: PageRequest<string>): Page<T> {
  const start = (page.page - 1) * page.pageSize;
  return { items: items.slice(start, start + page.pageSize), total: items.length };
}
