// `berth delete IMG`: deletes a manifest from its registry (by digest; a tag is resolved to
// its digest first, so every tag pointing at that manifest goes with it, as the spec says).
import type { Command } from "commander";
import { RegistryError } from "../client/errors.js";
import { formatOption, printJson } from "./output.js";
import { addRegistryFlags, cliAction, type RegistryFlags } from "./registry-flags.js";
import { clientFor, manifestReference, registryReference } from "./registry-ref.js";

export function register(program: Command): void {
  const command = program
    .command("delete")
    .alias("rm")
    .description("delete an image (its manifest) from a registry")
    .argument("<image>", "registry image, e.g. localhost:5000/app:1.0 or …@sha256:…")
    .addOption(formatOption())
    .addHelpText("after", "\nExample:\n  berth delete localhost:5000/app:old");
  addRegistryFlags(command).action(
    cliAction(async (image: string, flags: RegistryFlags & { format: string }) => {
      const ref = registryReference(image);
      const client = clientFor(ref, flags);
      try {
        const head = await client.headManifest(ref.repository, manifestReference(ref));
        if (!head) throw new RegistryError("not-found", `${image} not found`);
        await client.deleteManifest(ref.repository, head.digest);
        if (flags.format === "json") printJson({ deleted: image, digest: head.digest });
        else process.stdout.write(`Deleted ${image} (${head.digest})\n`);
      } finally {
        await client.close();
      }
    }),
  );
}
