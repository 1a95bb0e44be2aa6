// `berth mirror SRC_REPO DST_REPO [--tags GLOB] [--all]`: copies every (matching) tag of a
// repository to another registry or repository. Idempotent: a tag whose destination already
// has the digest that would be written is skipped without touching its blobs.
import type { Command } from "commander";
import picomatch from "picomatch";
import { copyImage, plannedTopDigest } from "../transport/copy.js";
import { RegistryDestination, RegistrySource, registryClient } from "../transport/registry.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson, TransferProgress } from "./output.js";
import {
  addRegistryFlags,
  cliAction,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";
import { registryReference } from "./registry-ref.js";

interface MirrorFlags extends RegistryFlags {
  tags?: string;
  all?: boolean;
  platform?: string;
  quiet?: boolean;
  format: string;
}

export function register(program: Command): void {
  const command = program
    .command("mirror")
    .description("copy every tag of a repository to another, skipping what is already there")
    .argument("<source>", "source repository, e.g. registry.example.com/team/app")
    .argument("<destination>", "destination repository, e.g. localhost:5000/mirror/app")
    .option("--tags <glob>", "only tags matching this glob (e.g. 'v1.*')")
    .option("--all", "copy every platform of multi-arch images")
    .option(
      "--platform <os/arch[/variant]>",
      "platform to copy from multi-arch images without --all",
    )
    .option("-q, --quiet", "no progress bars")
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExample:\n  berth mirror docker.io/library/alpine localhost:5000/mirror/alpine --tags '3.*' --all",
    );
  addRegistryFlags(command).action(
    cliAction(async (src: string, dst: string, flags: MirrorFlags) => {
      const from = registryReference(src);
      const to = registryReference(dst);
      if (from.tag || from.digest || to.tag || to.digest) {
        throw new CliError("mirror takes repositories, without :tag or @digest", ExitCode.Usage);
      }
      const options = registryOptionsFrom(flags);
      const sourceClient = registryClient(from.registry, options);
      const destClient = registryClient(to.registry, options);
      const progress = new TransferProgress({ quiet: flags.quiet || flags.format === "json" });
      const outcome: { tag: string; digest: string; action: "copied" | "skipped" }[] = [];
      try {
        const match = flags.tags ? picomatch(flags.tags) : () => true;
        const tags = (await sourceClient.listTags(from.repository)).filter((t) => match(t));
        for (const tag of tags) {
          const source = new RegistrySource(`${src}:${tag}`, sourceClient, { ...from, tag });
          const planned = await plannedTopDigest(source, {
            all: flags.all,
            platform: flags.platform,
          });
          const existing = await destClient.headManifest(to.repository, tag);
          if (existing?.digest === planned) {
            outcome.push({ tag, digest: planned, action: "skipped" });
            continue;
          }
          const dest = new RegistryDestination(`${dst}:${tag}`, destClient, { ...to, tag });
          const result = await copyImage(source, dest, {
            all: flags.all,
            platform: flags.platform,
            tag,
            onEvent: progress.handle,
          });
          outcome.push({ tag, digest: result.digest, action: "copied" });
          if (flags.format !== "json" && !process.stderr.isTTY) {
            process.stderr.write(`copied ${tag} ${result.digest}\n`);
          }
        }
      } finally {
        progress.stop();
        await sourceClient.close();
        await destClient.close();
      }
      if (flags.format === "json") {
        printJson({ source: src, destination: dst, tags: outcome });
      } else {
        for (const o of outcome)
          process.stdout.write(`${o.action.padEnd(8)}${o.tag}  ${o.digest}\n`);
        const copied = outcome.filter((o) => o.action === "copied").length;
        process.stdout.write(
          `Mirrored ${outcome.length} tag(s): ${copied} copied, ${outcome.length - copied} already up to date\n`,
        );
      }
    }),
  );
}
