// `berth referrers IMG`: the artifacts (signatures, SBOMs, attestations) that refer to an
// image, via the OCI 1.1 referrers API or the `sha256-<hex>` tag fallback of older registries.
import type { Command } from "commander";
import { formatOption, humanSize, printJson, renderTable } from "./output.js";
import { addRegistryFlags, cliAction, type RegistryFlags } from "./registry-flags.js";
import { clientFor, manifestReference, registryReference } from "./registry-ref.js";

export function register(program: Command): void {
  const command = program
    .command("referrers")
    .description("list artifacts that refer to an image (signatures, SBOMs, attestations)")
    .argument("<image>", "registry image, e.g. localhost:5000/app:1.0")
    .option("--artifact-type <type>", "only referrers of this artifact type")
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExample:\n  berth referrers localhost:5000/app:1.0 --artifact-type application/spdx+json",
    );
  addRegistryFlags(command).action(
    cliAction(
      async (image: string, flags: RegistryFlags & { format: string; artifactType?: string }) => {
        const ref = registryReference(image);
        const client = clientFor(ref, flags);
        try {
          const head = await client.getManifest(ref.repository, manifestReference(ref));
          const referrers = await client.referrers(ref.repository, head.digest, flags.artifactType);
          if (flags.format === "json") {
            printJson({ subject: head.digest, referrers });
            return;
          }
          const rows = referrers.map((d) => [
            d.digest,
            d.artifactType ?? d.mediaType,
            humanSize(d.size),
          ]);
          process.stdout.write(`${renderTable(["DIGEST", "ARTIFACT TYPE", "SIZE"], rows)}\n`);
        } finally {
          await client.close();
        }
      },
    ),
  );
}
