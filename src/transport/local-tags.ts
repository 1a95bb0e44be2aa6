// The names an image file or directory gives its images, for `berth ls` on local transports:
// an OCI layout's (or oci-archive's) `org.opencontainers.image.ref.name` annotations in
// index.json order, a docker archive's `RepoTags`. Reads only index.json / manifest.json.
import { ArchiveTree, type BlobTree, DirectoryTree } from "./blob-tree.js";
import { readArchiveManifest } from "./docker-archive-source.js";
import { LayoutError, parseLayoutIndex, REF_NAME_ANNOTATION } from "./oci-layout.js";
import type { TransportSpec } from "./spec.js";

export async function listLocalTags(
  spec: Exclude<TransportSpec, { kind: "registry" }>,
): Promise<string[]> {
  if (spec.kind === "docker-archive") {
    const entries = await readArchiveManifest(await ArchiveTree.open(spec.path));
    return unique(entries.flatMap((e) => e.RepoTags));
  }
  const tree: BlobTree =
    spec.kind === "oci" ? new DirectoryTree(spec.path) : await ArchiveTree.open(spec.path);
  if (!(await tree.exists("index.json"))) {
    throw new LayoutError(`${tree.location} is not an OCI image layout (no index.json)`);
  }
  const index = parseLayoutIndex(await tree.readSmall("index.json"), tree.location);
  return unique(
    index.manifests
      .map((m) => m.annotations?.[REF_NAME_ANNOTATION])
      .filter((n): n is string => n !== undefined),
  );
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}
