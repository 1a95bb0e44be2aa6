// GET /v2/<name>/referrers/<digest>: an OCI image index of the repository's manifests whose
// `subject` is <digest>, each with its artifactType and annotations; `?artifactType=`
// filters and is reported in `OCI-Filters-Applied`. Never 404: no referrers (or no such
// repository) is an empty index, as the spec requires of registries supporting the API.
import type { OutgoingHttpHeaders } from "node:http";
import { listReferrers } from "../meta/index.js";
import { type Descriptor, MediaType } from "../oci/index.js";
import { authorize, repositoryTarget } from "./authorize.js";
import { parseDigestParam } from "./blobs.js";
import type { RegistryCall, RegistryContext } from "./context.js";
import { replyJson } from "./http.js";

export async function referrersRoute(ctx: RegistryContext, call: RegistryCall, ref: string) {
  await authorize(ctx, call, repositoryTarget(call.repository, "pull"));
  const subject = parseDigestParam(ref);
  const artifactType = call.query.get("artifactType") || undefined;
  await ctx.pullThrough?.referrers?.(ctx, call.repository, subject.value);
  const rows = await listReferrers(ctx.db, call.repository, subject.value, artifactType);
  const manifests: Descriptor[] = rows.map((r) => {
    const d: Descriptor = { mediaType: r.mediaType, digest: r.digest, size: r.size };
    if (r.artifactType) d.artifactType = r.artifactType;
    if (r.annotations) d.annotations = r.annotations;
    return d;
  });
  const headers: OutgoingHttpHeaders = { "Content-Type": MediaType.OciIndex };
  if (artifactType !== undefined) headers["OCI-Filters-Applied"] = "artifactType";
  replyJson(
    call.res,
    200,
    headers,
    { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests },
    call.method === "HEAD",
  );
}
