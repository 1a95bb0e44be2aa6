// `berth attest IMAGE --predicate FILE --type TYPE --key cosign.key`: an in-toto Statement
// about the image's digest in a DSSE envelope signed with the key, stored as cosign does
// (`sha256-<hex>.att` tag, or a Sigstore bundle referrer with `--new-bundle-format`).
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { attestImage } from "../sign/image-signing.js";
import { PredicateTypeError, predicateTypeFor } from "../sign/in-toto.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson } from "./output.js";
import { addRegistryFlags, cliAction, type RegistryFlags } from "./registry-flags.js";
import { clientFor, registryReference } from "./registry-ref.js";
import { privateKeyFromFile, referrersMode } from "./signing-keys.js";

interface AttestFlags extends RegistryFlags {
  key: string;
  predicate: string;
  type: string;
  registryReferrersMode: string;
  newBundleFormat?: boolean;
  format: string;
}

function readPredicate(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new CliError(
      `cannot read the predicate ${path} (${(err as NodeJS.ErrnoException).code})`,
      ExitCode.Usage,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`the predicate ${path} is not JSON`, ExitCode.Usage);
  }
}

export function register(program: Command): void {
  const command = program
    .command("attest")
    .description("attach a signed in-toto attestation (SLSA provenance, SBOM, VEX, …) to an image")
    .argument("<image>", "registry image")
    .requiredOption("--key <file>", "private key")
    .requiredOption("--predicate <file>", "the predicate (JSON)")
    .option(
      "--type <type>",
      "slsaprovenance, slsaprovenance1, spdxjson, cyclonedx, vuln, openvex, link, custom, or a URI",
      "custom",
    )
    .option("--registry-referrers-mode <mode>", "legacy or oci-1-1", "legacy")
    .option("--new-bundle-format", "store a Sigstore bundle referrer")
    .option("--no-new-bundle-format", "the simple-signing payload under the .sig tag (default)")
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExample:\n  berth attest --key cosign.key --type slsaprovenance1 --predicate provenance.json 127.0.0.1:5000/team/app:1.0",
    );
  addRegistryFlags(command).action(
    cliAction(async (image: string, flags: AttestFlags) => {
      const ref = registryReference(image);
      let predicateType: string;
      try {
        predicateType = predicateTypeFor(flags.type);
      } catch (err) {
        if (err instanceof PredicateTypeError) throw new CliError(err.message, ExitCode.Usage);
        throw err;
      }
      const predicate = readPredicate(flags.predicate);
      const bundle = flags.newBundleFormat === true;
      referrersMode(flags.registryReferrersMode);
      const key = await privateKeyFromFile(flags.key);
      const client = clientFor(ref, flags);
      try {
        const result = await attestImage(client, ref, key, {
          predicateType,
          predicate,
          bundle,
          referrersMode: referrersMode(flags.registryReferrersMode),
        });
        if (flags.format === "json") {
          printJson({ attested: { ...result, predicateType } });
          return;
        }
        process.stderr.write(
          `Attested ${predicateType} for ${ref.repository}@${result.digest} (stored as ${result.stored.reference})\n`,
        );
        process.stdout.write(`${result.digest}\n`);
      } finally {
        await client.close();
      }
    }),
  );
}
