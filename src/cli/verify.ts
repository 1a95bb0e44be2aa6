// `berth verify IMAGE --key cosign.pub`: checks the image's signatures (legacy `.sig` tag,
// OCI 1.1 referrers and Sigstore bundles) against the given public keys. Exit 0 only when at
// least one signature by one of the keys vouches for this digest (with the `-a` annotations
// asked for); 1 when none does; 2/3 for bad input or a failed request.
import type { Command } from "commander";
import { verifyImage } from "../sign/image-signing.js";
import { validSignatures } from "../sign/verify.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson } from "./output.js";
import { addRegistryFlags, cliAction, collect, type RegistryFlags } from "./registry-flags.js";
import { clientFor, registryReference } from "./registry-ref.js";
import { parseAnnotations, publicKeysFromFiles } from "./signing-keys.js";

interface VerifyFlags extends RegistryFlags {
  key: string[];
  annotations: string[];
  format: string;
}

export function register(program: Command): void {
  const command = program
    .command("verify")
    .description("verify an image's signatures with cosign public keys")
    .argument("<image>", "registry image, e.g. localhost:5000/team/app:1.0")
    .option("--key <file>", "public key (repeatable: any of them may have signed)", collect, [])
    .option(
      "-a, --annotations <key=value>",
      "annotation the signature must carry (repeatable)",
      collect,
      [],
    )
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExit codes: 0 a valid signature exists, 1 none, 2 bad usage, 3 failure.\n\nExample:\n  berth verify --key cosign.pub 127.0.0.1:5000/team/app:1.0",
    );
  addRegistryFlags(command).action(
    cliAction(async (image: string, flags: VerifyFlags) => {
      const ref = registryReference(image);
      const keys = publicKeysFromFiles(flags.key);
      const client = clientFor(ref, flags);
      let result: Awaited<ReturnType<typeof verifyImage>>;
      try {
        result = await verifyImage(client, ref, keys, parseAnnotations(flags.annotations));
      } finally {
        await client.close();
      }
      const signatures = result.verdicts.filter((v) => v.kind === "signature");
      const valid = validSignatures(result.verdicts);
      if (flags.format === "json") {
        printJson({ digest: result.digest, verified: valid.length > 0, signatures });
        if (valid.length === 0) process.exitCode = ExitCode.Findings;
        return;
      }
      for (const v of signatures) {
        const mark = v.verified ? "verified" : "rejected";
        process.stdout.write(
          `${mark}  ${v.format}  ${v.scheme}  ${v.keyFingerprint ?? "-"}  ${v.reason}\n`,
        );
      }
      if (valid.length === 0) {
        const why =
          signatures.length === 0
            ? "no signatures found"
            : "no signature verifies with the given keys";
        throw new CliError(`${ref.repository}@${result.digest}: ${why}`, ExitCode.Findings);
      }
      process.stderr.write(
        `${ref.repository}@${result.digest}: ${valid.length} valid signature(s)\n`,
      );
    }),
  );
}
