// Puts the tiny in-memory image (config, one 1 KiB layer, manifest) into a repository:
// the target of the request-rate scenarios.

import { MediaType } from "../../src/oci/index.js";
import { smallImage } from "../images.js";
import { pushSmallBlob, putManifest } from "../registry-http.js";

export async function pushSmallImage(base: string, repo: string, tag: string, auth?: string) {
  const image = await smallImage();
  await pushSmallBlob(base, repo, image.layer.gz, image.layer.descriptor.digest, auth);
  await pushSmallBlob(base, repo, image.config.bytes, image.config.digest, auth);
  await putManifest(base, repo, tag, image.manifest.bytes, MediaType.OciManifest, auth);
  return image;
}
