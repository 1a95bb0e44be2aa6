// `berth tag IMG NEWTAG`: adds a tag to an image in its registry by re-putting the manifest
// bytes under the new tag — no layer moves, the digest stays the same.
import type { Command } from "commander";
import { isValidTag } from "../oci/index.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson } from "./output.js";
import { addRegistryFlags, cliAction, type RegistryFlags } from "./registry-flags.js";
import { clientFor, manifestReference, registryReference } from "./registry-ref.js";

export function register(program: Command): void {
  const command = program
    .command("tag")
    .description("tag an image remotely (same repository, no layers moved)")
    .argument("<image>", "registry image, e.g. localhost:5000/app:1.0 or …@sha256:…")
    .argument("<tag>", "the new tag, e.g. stable")
    .addOption(formatOption())
    .addHelpText("after", "\nExample:\n  berth tag localhost:5000/app:1.0 stable");
  addRegistryFlags(command).action(
    cliAction(async (image: string, tag: string, flags: RegistryFlags & { format: string }) => {
      if (!isValidTag(tag)) throw new CliError(`"${tag}" is not a valid tag`, ExitCode.Usage);
      const ref = registryReference(image);
      const client = clientFor(ref, flags);
      try {
        const manifest = await client.getManifest(ref.repository, manifestReference(ref));
        await client.putManifest(ref.repository, tag, manifest.bytes, manifest.mediaType);
        const target = `${ref.registry}/${ref.repository}:${tag}`;
        if (flags.format === "json") printJson({ image: target, digest: manifest.digest });
        else process.stdout.write(`Tagged ${target} (${manifest.digest})\n`);
      } finally {
        await client.close();
      }
    }),
  );
}
