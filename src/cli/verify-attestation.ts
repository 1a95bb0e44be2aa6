// `berth verify-attestation IMAGE --key cosign.pub [--type TYPE]`: prints the statements of
// the image's attestations whose DSSE signature verifies with one of the keys (one JSON
// statement per line, or one document with --format json). Exit 0 only when at least one
// such attestation (of the asked type) exists, 1 when none does.
import type { Command } from "commander";
import { verifyImage } from "../sign/image-signing.js";
import { PredicateTypeError, predicateTypeFor } from "../sign/in-toto.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson } from "./output.js";
import { addRegistryFlags, cliAction, collect, type RegistryFlags } from "./registry-flags.js";
import { clientFor, registryReference } from "./registry-ref.js";
import { publicKeysFromFiles } from "./signing-keys.js";

interface VerifyAttestationFlags extends RegistryFlags {
  key: string[];
  type?: string;
  format: string;
}

export function register(program: Command): void {
  const command = program
    .command("verify-attestation")
    .description("verify an image's attestations and print their statements")
    .argument("<image>", "registry image")
    .option("--key <file>", "public key (repeatable)", collect, [])
    .option("--type <type>", "only attestations of this predicate type (short name or URI)")
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExit codes: 0 a verified attestation exists, 1 none, 2 bad usage, 3 failure.\n\nExample:\n  berth verify-attestation --key cosign.pub --type slsaprovenance1 127.0.0.1:5000/team/app:1.0",
    );
  addRegistryFlags(command).action(
    cliAction(async (image: string, flags: VerifyAttestationFlags) => {
      const ref = registryReference(image);
      let wanted: string | undefined;
      try {
        wanted = flags.type ? predicateTypeFor(flags.type) : undefined;
      } catch (err) {
        if (err instanceof PredicateTypeError) throw new CliError(err.message, ExitCode.Usage);
        throw err;
      }
      const keys = publicKeysFromFiles(flags.key);
      const client = clientFor(ref, flags);
      let result: Awaited<ReturnType<typeof verifyImage>>;
      try {
        result = await verifyImage(client, ref, keys, {});
      } finally {
        await client.close();
      }
      const attestations = result.verdicts.filter(
        (v) => v.kind === "attestation" && (wanted === undefined || v.predicateType === wanted),
      );
      const verified = attestations.filter((v) => v.verified);
      if (flags.format === "json") {
        printJson({
          digest: result.digest,
          verified: verified.map((v) => ({
            predicateType: v.predicateType,
            keyFingerprint: v.keyFingerprint,
            format: v.format,
            scheme: v.scheme,
            statement: v.statement,
          })),
          rejected: attestations
            .filter((v) => !v.verified)
            .map((v) => ({ predicateType: v.predicateType, format: v.format, reason: v.reason })),
        });
        if (verified.length === 0) process.exitCode = ExitCode.Findings;
        return;
      }
      for (const v of verified) process.stdout.write(`${JSON.stringify(v.statement)}\n`);
      if (verified.length === 0) {
        const what = wanted ? `${wanted} attestations` : "attestations";
        throw new CliError(
          `${ref.repository}@${result.digest}: no verified ${what} (${attestations.length} found)`,
          ExitCode.Findings,
        );
      }
    }),
  );
}
