// `n` / `last` pagination of tag and repository listings, and the RFC 5988 `Link` header
// pointing at the next page. Pure.
import { RegistryError } from "./errors.js";

export interface Page {
  /** Page size asked for; undefined when the client gave no `n`. */
  n: number | undefined;
  last: string | undefined;
}

export function parsePage(query: URLSearchParams): Page {
  const nText = query.get("n");
  let n: number | undefined;
  if (nText !== null && nText !== "") {
    if (!/^\d+$/.test(nText)) {
      throw new RegistryError(
        "PAGINATION_NUMBER_INVALID",
        `invalid page size n=${nText.slice(0, 40)}`,
        {
          detail: { n: nText.slice(0, 40) },
        },
      );
    }
    n = Number(nText);
  }
  const last = query.get("last");
  return { n, last: last === null || last === "" ? undefined : last };
}

/** `<path?n=N&last=L>; rel="next"` for the page after `lastReturned`. */
export function nextLink(path: string, n: number, lastReturned: string): string {
  const query = new URLSearchParams({ n: String(n), last: lastReturned });
  return `<${path}?${query.toString()}>; rel="next"`;
}
