// `berth ls REPO`: every tag of a repository, one per line (all pages of the tag list).
import type { Command } from "commander";
import { formatOption, printJson, printLines } from "./output.js";
import { addRegistryFlags, cliAction, type RegistryFlags } from "./registry-flags.js";
import { clientFor, registryReference } from "./registry-ref.js";

export function register(program: Command): void {
  const command = program
    .command("ls")
    .description("list a repository's tags, one per line")
    .argument("<repository>", "registry/repository, e.g. localhost:5000/team/app")
    .addOption(formatOption())
    .addHelpText("after", "\nExample:\n  berth ls localhost:5000/team/app");
  addRegistryFlags(command).action(
    cliAction(async (repository: string, flags: RegistryFlags & { format: string }) => {
      const ref = registryReference(repository);
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
