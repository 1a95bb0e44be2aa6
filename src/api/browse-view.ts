// What the web UI's browsing routes read of the registry (src/api/routes/browse.ts): tag
// rows filtered/sorted/paginated in SQL, the tags of one manifest, and the manifests,
// small blobs and referrers of one repository (the AttachmentReader trust uses). Built by
// the composition root over the metadata database; never writes.
import type { Kysely } from "kysely";
import type { Database } from "../meta/database.js";
import { listTagRows, type TagRow, type TagRowQuery, tagsOfManifest } from "../meta/tag-rows.js";
import type { AttachmentReader } from "../sign/discover.js";

export interface BrowseView {
  tagRows(
    repository: string,
    query: TagRowQuery,
  ): Promise<{ items: TagRow[]; total: number } | undefined>;
  tagsOf(repository: string, digest: string): Promise<string[]>;
  reader(repository: string): AttachmentReader;
}

export function metaBrowseView(
  db: Kysely<Database>,
  reader: (repository: string) => AttachmentReader,
): BrowseView {
  return {
    tagRows: (repository, query) => listTagRows(db, repository, query),
    tagsOf: (repository, digest) => tagsOfManifest(db, repository, digest),
    reader,
  };
}
