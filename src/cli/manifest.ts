// `berth manifest IMG`: the manifest exactly as stored (raw bytes, so it can be hashed or
// re-pushed). With --platform, the chosen platform's manifest instead of the index.
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
    .command("manifest")
    .description("print an image's manifest, byte for byte")
    .argument("<image>", "REF, docker://REF, oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE")
    .option("--platform <os/arch[/variant]>", "print this platform's manifest instead of the index")
    .addHelpText("after", "\nExample:\n  berth manifest localhost:5000/app:1.0 | sha256sum");
  addRegistryFlags(command).action(
    cliAction(async (image: string, flags: RegistryFlags & { platform?: string }) => {
      const source = await openImageSource(image, { registry: registryOptionsFrom(flags) });
      try {
        const bytes = flags.platform
          ? (await resolveImage(source, { platform: flags.platform })).manifest.bytes
          : (await source.getManifest()).bytes;
        process.stdout.write(bytes);
      } finally {
        await source.close();
      }
    }),
  );
}
