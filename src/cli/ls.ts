// `berth ls REPO`: every tag of a repository, one per line (all pages of the tag list); for a
// local image location (`oci:DIR`, `oci-archive:FILE`, `docker-archive:FILE`) the names it
// gives its images.
import type { Command } from "commander";
import { listLocalTags } from "../transport/local-tags.js";
import { parseTransportSpec } from "../transport/spec.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson, printLines } from "./output.js";
import { addRegistryFlags, cliAction, type RegistryFlags } from "./registry-flags.js";
import { clientFor } from "./registry-ref.js";

export function register(program: Command): void {
  const command = program
    .command("ls")
    .description("list a repository's tags (or an OCI layout's / archive's), one per line")
    .argument(
      "<repository>",
      "registry/repository (localhost:5000/team/app), oci:DIR, oci-archive:FILE or docker-archive:FILE",
    )
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExamples:\n  berth ls localhost:5000/team/app\n  berth ls oci:./app-layout --format json",
    );
  addRegistryFlags(command).action(
    cliAction(async (repository: string, flags: RegistryFlags & { format: string }) => {
      const spec = parseTransportSpec(repository);
      if (spec.kind !== "registry") {
        const withTag = spec.kind === "docker-archive" ? spec.reference : spec.tag;
        if (withTag !== undefined || (spec.kind === "docker-archive" && spec.index !== undefined))
          throw new CliError(
            `"${repository}" names one image; give the location alone`,
            ExitCode.Usage,
          );
        const tags = await listLocalTags(spec);
        if (flags.format === "json") printJson({ location: repository, tags });
        else printLines(tags);
        return;
      }
      const ref = spec.reference;
      const client = clientFor(ref, flags);
      try {
        const tags = await client.listTags(ref.repository);
        if (flags.format === "json")
          printJson({ repository: `${ref.registry}/${ref.repository}`, tags });
        else printLines(tags);
      } finally {
        await client.close();
      }
    }),
  );
}
