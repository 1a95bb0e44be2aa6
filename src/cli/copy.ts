// `berth copy SRC DST`: copies an image between any two transports (registry, oci:,
// oci-archive:, docker-archive:), preserving digests, in parallel, skipping blobs the
// destination has, with progress bars on a TTY. Thin shell over transport/copy.ts.
import type { Command } from "commander";
import { copyImage } from "../transport/copy.js";
import { openImageDestination, openImageSource } from "../transport/index.js";
import { formatOption, humanSize, printJson, TransferProgress } from "./output.js";
import {
  addRegistryFlags,
  cliAction,
  positiveInteger,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";

interface CopyFlags extends RegistryFlags {
  all?: boolean;
  platform?: string;
  concurrency: string;
  quiet?: boolean;
  chunkSize?: string;
  format: string;
}

export function register(program: Command): void {
  const command = program
    .command("copy")
    .alias("cp")
    .description("copy an image between registries, OCI layouts and archives, keeping digests")
    .argument(
      "<source>",
      "image to read: REF, docker://REF, oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG]",
    )
    .argument("<destination>", "where to write it (same forms)")
    .option("--all", "copy every platform of a multi-arch image (the index digest is kept)")
    .option(
      "--platform <os/arch[/variant]>",
      "platform to copy from a multi-arch image (default: this machine's)",
    )
    .option("-j, --concurrency <n>", "blobs transferred in parallel", "4")
    .option(
      "--chunk-size <bytes>",
      "upload in PATCH chunks of this size (for size-limited proxies)",
    )
    .option("-q, --quiet", "no progress bars")
    .addOption(formatOption())
    .addHelpText(
      "after",
      `
Examples:
  berth copy docker.io/library/alpine:3.20 localhost:5000/alpine:3.20 --all
  berth copy localhost:5000/app:1.0 oci:./app-layout:1.0
  berth copy docker-archive:app.tar registry.example.com/team/app:1.0`,
    );
  addRegistryFlags(command).action(
    cliAction(async (src: string, dst: string, flags: CopyFlags) => {
      const registry = registryOptionsFrom(flags);
      const concurrency = positiveInteger("--concurrency", flags.concurrency);
      if (flags.chunkSize) registry.chunkSize = positiveInteger("--chunk-size", flags.chunkSize);
      const source = await openImageSource(src, { registry });
      const progress = new TransferProgress({ quiet: flags.quiet || flags.format === "json" });
      try {
        const dest = await openImageDestination(dst, { registry });
        let result: Awaited<ReturnType<typeof copyImage>>;
        try {
          result = await copyImage(source, dest, {
            all: flags.all,
            platform: flags.platform,
            concurrency,
            onEvent: progress.handle,
          });
        } catch (err) {
          progress.stop();
          if (dest.abort) await dest.abort();
          else await dest.close().catch(() => {});
          throw err;
        }
        await dest.close();
        progress.stop();
        if (flags.format === "json") {
          printJson({ source: src, destination: dst, ...result });
        } else {
          const platforms = result.platforms.length > 0 ? ` [${result.platforms.join(", ")}]` : "";
          process.stdout.write(
            `Copied ${src} to ${dst}: ${result.digest}${platforms} (${result.blobsCopied} blobs copied, ${humanSize(result.bytesCopied)}; ${result.blobsSkipped} already present)\n`,
          );
        }
      } finally {
        progress.stop();
        await source.close();
      }
    }),
  );
}
