// `berth admin trust set PROJECT --key FILE… --mode off|report|enforce` and `trust show
// PROJECT`: the project's signature enforcement. The keys are cosign public keys (PEM);
// setting replaces the whole key set, so rotating a key is one command and takes effect at
// once.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { CliError, ExitCode } from "../errors.js";
import { printJson, renderTable } from "../output.js";
import { collect } from "../registry-flags.js";
import type { TrustPolicyRow } from "./backend.js";
import type { BackendFactory } from "./commands.js";

const MODES = ["off", "report", "enforce"] as const;

function print(command: Command, policy: TrustPolicyRow): void {
  if (command.optsWithGlobals().format === "json") {
    printJson(policy);
    return;
  }
  process.stdout.write(`project ${policy.project}: mode ${policy.mode}\n`);
  if (policy.keys.length > 0) {
    process.stdout.write(
      `${renderTable(
        ["FINGERPRINT", "ADDED"],
        policy.keys.map((k) => [k.fingerprint, k.createdAt ?? ""]),
      )}\n`,
    );
  }
}

export function registerTrustCommands(admin: Command, factory: BackendFactory): void {
  const trust = admin
    .command("trust")
    .description("signature enforcement per project (cosign keys)");
  trust
    .command("set <project>")
    .description("set the mode and the trusted public keys (replaces the key set)")
    .requiredOption(
      "--mode <mode>",
      "off, report (allow, audit unsigned pulls) or enforce (refuse unsigned pulls)",
    )
    .option("--key <file>", "trusted public key, e.g. cosign.pub (repeatable)", collect, [])
    .addHelpText(
      "after",
      "\nExample:\n  berth admin --server http://127.0.0.1:5000 trust set team --key cosign.pub --mode enforce",
    )
    .action(async (project: string, opts: { mode: string; key: string[] }, command: Command) => {
      if (!(MODES as readonly string[]).includes(opts.mode)) {
        throw new CliError(`--mode is off, report or enforce, not "${opts.mode}"`, ExitCode.Usage);
      }
      const pems = opts.key.map((file) => {
        try {
          return readFileSync(file, "utf8");
        } catch (err) {
          throw new CliError(
            `cannot read ${file} (${(err as NodeJS.ErrnoException).code})`,
            ExitCode.Usage,
          );
        }
      });
      const backend = await factory(command);
      try {
        print(
          command,
          await backend.setTrustPolicy(project, opts.mode as TrustPolicyRow["mode"], pems),
        );
      } finally {
        await backend.close();
      }
    });
  trust
    .command("show <project>")
    .description("show the project's trust policy")
    .action(async (project: string, _opts: unknown, command: Command) => {
      const backend = await factory(command);
      try {
        print(command, await backend.getTrustPolicy(project));
      } finally {
        await backend.close();
      }
    });
}
