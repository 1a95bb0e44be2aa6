// `berth config IMG`: the image configuration blob (JSON) of one platform, as stored.
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
    .command("config")
    .description("print an image's config (JSON), byte for byte")
    .argument("<image>", "REF, docker://REF, oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE")
    .option(
      "--platform <os/arch[/variant]>",
      "which platform of a multi-arch image (default: this machine's)",
    )
    .addHelpText("after", "\nExample:\n  berth config localhost:5000/app:1.0 | jq .config.Env");
  addRegistryFlags(command).action(
    cliAction(async (image: string, flags: RegistryFlags & { platform?: string }) => {
      const source = await openImageSource(image, { registry: registryOptionsFrom(flags) });
      try {
        const resolved = await resolveImage(source, { platform: flags.platform });
        process.stdout.write(resolved.configBytes);
        if (process.stdout.isTTY) process.stdout.write("\n");
      } finally {
        await source.close();
      }
    }),
  );
}
