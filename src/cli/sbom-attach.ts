// `berth sbom IMAGE --attach`: stores the SBOM just made as an OCI 1.1 referrer of the image
// (artifactType = the SBOM's media type), so `berth tree`, `berth download sbom`, oras and
// the referrers API find it. Only for registry images.

import { blobOf } from "../sign/attached.js";
import { resolveSubject } from "../sign/image-signing.js";
import { attachAsReferrer } from "../sign/publish.js";
import { CliError, ExitCode } from "./errors.js";
import type { RegistryFlags } from "./registry-flags.js";
import { clientFor, registryReference } from "./registry-ref.js";

export const SBOM_MEDIA_TYPES = {
  cyclonedx: "application/vnd.cyclonedx+json",
  "spdx-json": "application/spdx+json",
} as const;

export async function attachSbom(
  target: string,
  format: keyof typeof SBOM_MEDIA_TYPES,
  document: string,
  flags: RegistryFlags,
): Promise<string> {
  const text = target.startsWith("docker://") ? target.slice("docker://".length) : target;
  let ref: ReturnType<typeof registryReference>;
  try {
    ref = registryReference(text);
  } catch {
    throw new CliError("--attach needs a registry image (REGISTRY/REPO:TAG)", ExitCode.Usage);
  }
  const client = clientFor(ref, flags);
  try {
    const { descriptor } = await resolveSubject(client, ref);
    const mediaType = SBOM_MEDIA_TYPES[format];
    const layer = blobOf(Buffer.from(document, "utf8"), mediaType, {
      "org.opencontainers.image.title": format === "cyclonedx" ? "sbom.cdx.json" : "sbom.spdx.json",
    });
    const stored = await attachAsReferrer(client, ref.repository, descriptor, mediaType, [layer], {
      "org.opencontainers.image.created": new Date().toISOString(),
    });
    return stored.manifestDigest;
  } finally {
    await client.close();
  }
}
