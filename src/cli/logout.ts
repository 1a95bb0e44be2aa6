// `berth logout REGISTRY`: removes the stored login for a registry, as `podman logout` does:
// by default only from the file `berth login` writes (--authfile, else REGISTRY_AUTH_FILE,
// else docker's config.json, through its credential helper when one is configured); `--all`
// removes it from every file Berth knows (podman's auth.json files, docker's config.json).
// When the login lives only in another tool's file, says so and points at --all.
import type { Command } from "commander";
import {
  credentialLocations,
  eraseCredential,
  knownAuthFiles,
  loginFilePath,
} from "../client/credentials.js";
import { CliError, ExitCode } from "./errors.js";
import { normalizeRegistry } from "./login.js";
import { cliAction, EXIT_CODES_HELP } from "./registry-flags.js";

export function register(program: Command): void {
  program
    .command("logout")
    .description("remove the stored login for a registry (from the file berth login writes)")
    .argument("<registry>", "host[:port]")
    .option("--authfile <file>", "only this credentials file")
    .option("-a, --all", "remove it from every file berth knows (podman's and docker's too)")
    .addHelpText(
      "after",
      "\nExamples:\n  berth logout registry.example.com\n  berth logout --all registry.example.com   # podman's auth.json and docker's config.json too",
    )
    .addHelpText("after", EXIT_CODES_HELP)
    .action(
      cliAction(async (registry: string, flags: { authfile?: string; all?: boolean }) => {
        if (flags.all && flags.authfile)
          throw new CliError("use either --all or --authfile, not both", ExitCode.Usage);
        const host = normalizeRegistry(registry);
        const files = flags.all ? knownAuthFiles() : [loginFilePath(flags.authfile)];
        const removed = await eraseCredential(host, files);
        if (removed.length > 0) {
          process.stdout.write(`Removed credentials for ${host} from ${removed.join(", ")}\n`);
          return;
        }
        const elsewhere = flags.all ? [] : await credentialLocations(host, knownAuthFiles());
        process.stdout.write(`Not logged in to ${host}\n`);
        if (elsewhere.length > 0) {
          process.stderr.write(
            `berth: a login for ${host} is stored in ${elsewhere.join(", ")} (by another tool); berth logout --all ${host} removes it there too\n`,
          );
        }
      }),
    );
}
