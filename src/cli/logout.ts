// `berth logout REGISTRY`: removes stored credentials for a registry from every docker/podman
// auth file (and credential helper) that holds them.
import type { Command } from "commander";
import { eraseCredential } from "../client/credentials.js";
import { normalizeRegistry } from "./login.js";
import { cliAction, EXIT_CODES_HELP } from "./registry-flags.js";

export function register(program: Command): void {
  program
    .command("logout")
    .description("remove stored credentials for a registry")
    .argument("<registry>", "host[:port]")
    .option("--authfile <file>", "only this credentials file")
    .addHelpText("after", "\nExample:\n  berth logout registry.example.com")
    .addHelpText("after", EXIT_CODES_HELP)
    .action(
      cliAction(async (registry: string, flags: { authfile?: string }) => {
        const host = normalizeRegistry(registry);
        const removed = await eraseCredential(host, flags.authfile);
        if (removed.length === 0) process.stdout.write(`Not logged in to ${host}\n`);
        else process.stdout.write(`Removed credentials for ${host} from ${removed.join(", ")}\n`);
      }),
    );
}
