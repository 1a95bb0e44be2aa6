// `berth save IMG… -o FILE.tar`: writes one or more images into a single `docker save`
// archive that is also an OCI layout (manifest.json + repositories, oci-layout + index.json,
// blobs shared by both), which `docker load` and `podman load` read and `berth load` restores
// with the original digests. A multi-arch image is saved whole (its index in the OCI view, this
// machine's platform in the docker view) unless `--platform` picks one platform.
import type { Command } from "commander";
import { copyImage } from "../transport/copy.js";
import { DockerArchiveWriter } from "../transport/docker-archive-writer.js";
import { openImageSource } from "../transport/index.js";
import { familiarName, parseTransportSpec } from "../transport/spec.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson, TransferProgress } from "./output.js";
import {
  addRegistryFlags,
  cliAction,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";

interface SaveFlags extends RegistryFlags {
  output?: string;
  platform?: string;
  quiet?: boolean;
  format: string;
}

export function register(program: Command): void {
  const command = program
    .command("save")
    .description("save images to a tar archive that docker load / podman load read")
    .argument("<images...>", "images to save (any transport)")
    .option("-o, --output <file>", "archive to write (required)")
    .option(
      "--platform <os/arch[/variant]>",
      "save only this platform of multi-arch images (default: the whole index; the docker view lists this machine's platform)",
    )
    .option("-q, --quiet", "no progress bars")
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExample:\n  berth save localhost:5000/app:1.0 localhost:5000/db:2 -o bundle.tar && podman load -i bundle.tar",
    );
  addRegistryFlags(command).action(
    cliAction(async (images: string[], flags: SaveFlags) => {
      if (!flags.output) throw new CliError("save needs -o FILE.tar", ExitCode.Usage);
      const registry = registryOptionsFrom(flags);
      const writer = await DockerArchiveWriter.create(flags.output);
      const progress = new TransferProgress({ quiet: flags.quiet || flags.format === "json" });
      const saved: { image: string; digest: string; tags: string[] }[] = [];
      try {
        for (const image of images) {
          const spec = parseTransportSpec(image);
          const tags = spec.kind === "registry" ? [familiarName(spec.reference)] : [];
          const source = await openImageSource(spec, { registry });
          try {
            const dest = writer.imageDestination(tags, image, flags.platform);
            const result = await copyImage(source, dest, {
              all: flags.platform === undefined,
              platform: flags.platform,
              onEvent: progress.handle,
            });
            saved.push({ image, digest: result.digest, tags });
          } finally {
            await source.close();
          }
        }
        await writer.close();
      } catch (err) {
        await writer.abort();
        throw err;
      } finally {
        progress.stop();
      }
      if (flags.format === "json") printJson({ output: flags.output, images: saved });
      else process.stdout.write(`Saved ${saved.length} image(s) to ${flags.output}\n`);
    }),
  );
}
