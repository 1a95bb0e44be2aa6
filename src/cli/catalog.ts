// `berth catalog REGISTRY`: every repository the registry lists (all pages of /v2/_catalog).
import type { Command } from "commander";
import { registryClient } from "../transport/registry.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson, printLines } from "./output.js";
import {
  addRegistryFlags,
  cliAction,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";

export function register(program: Command): void {
  const command = program
    .command("catalog")
    .description("list the repositories of a registry")
    .argument("<registry>", "host[:port], e.g. localhost:5000")
    .addOption(formatOption())
    .addHelpText("after", "\nExample:\n  berth catalog localhost:5000 --format json");
  addRegistryFlags(command).action(
    cliAction(async (registry: string, flags: RegistryFlags & { format: string }) => {
      const host = registry.replace(/^https?:\/\//, "").replace(/\/+$/, "");
      if (host === "" || host.includes("/")) {
        throw new CliError(`"${registry}" is not a registry host[:port]`, ExitCode.Usage);
      }
      const client = registryClient(host, registryOptionsFrom(flags));
      try {
        const repositories = await client.catalog();
        if (flags.format === "json") printJson({ registry: host, repositories });
        else printLines(repositories);
      } finally {
        await client.close();
      }
    }),
  );
}
