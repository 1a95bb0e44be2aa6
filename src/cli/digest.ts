// `berth digest IMG`: prints the digest alone (of the index, or of one platform's manifest
// with --platform), for scripts: `docker pull app@$(berth digest app:1.0)`.
import type { Command } from "commander";
import { openImageSource, resolveImage } from "../transport/index.js";
import {
  addRegistryFlags,
  cliAction,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";

export function register(program: Command): void {
  const command = program
    .command("digest")
    .description("print an image's manifest digest")
    .argument("<image>", "REF, docker://REF, oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE")
    .option(
      "--platform <os/arch[/variant]>",
      "the digest of this platform's manifest instead of the index",
    )
    .addHelpText("after", "\nExample:\n  berth digest localhost:5000/app:1.0");
  addRegistryFlags(command).action(
    cliAction(async (image: string, flags: RegistryFlags & { platform?: string }) => {
      const source = await openImageSource(image, { registry: registryOptionsFrom(flags) });
      try {
        const digest = flags.platform
          ? (await resolveImage(source, { platform: flags.platform })).manifest.digest
          : (await source.getManifest()).digest;
        process.stdout.write(`${digest}\n`);
      } finally {
        await source.close();
      }
    }),
  );
}
