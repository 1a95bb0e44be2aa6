// `berth sign IMAGE --key cosign.key`: signs the image's digest (a tag is resolved first and
// the digest printed) in cosign's formats: the simple-signing payload under the
// `sha256-<hex>.sig` tag (default, what cosign 2 and Harbor read), as an OCI 1.1 referrer
// (`--registry-referrers-mode oci-1-1`), or a Sigstore bundle (`--new-bundle-format`, cosign
// 3's default). No transparency log: key-based and offline.
import type { Command } from "commander";
import { signImage } from "../sign/image-signing.js";
import { formatOption, printJson } from "./output.js";
import { addRegistryFlags, cliAction, collect, type RegistryFlags } from "./registry-flags.js";
import { clientFor, registryReference } from "./registry-ref.js";
import { parseAnnotations, privateKeyFromFile, referrersMode } from "./signing-keys.js";

interface SignFlags extends RegistryFlags {
  key: string;
  annotations: string[];
  recursive?: boolean;
  registryReferrersMode: string;
  newBundleFormat?: boolean;
  format: string;
}

export function register(program: Command): void {
  const command = program
    .command("sign")
    .description("sign an image by digest with a cosign key")
    .argument("<image>", "registry image, e.g. localhost:5000/team/app:1.0")
    .requiredOption("--key <file>", "private key (cosign.key, or a PKCS#8/SEC1 PEM)")
    .option(
      "-a, --annotations <key=value>",
      "annotation to sign with the image (repeatable)",
      collect,
      [],
    )
    .option("--recursive", "for an index, also sign every manifest it lists")
    .option(
      "--registry-referrers-mode <mode>",
      "legacy (sha256-<hex>.sig tag) or oci-1-1 (referrer)",
      "legacy",
    )
    .option("--new-bundle-format", "write a Sigstore bundle referrer (cosign 3's format)")
    .option("--no-new-bundle-format", "the simple-signing payload under the .sig tag (default)")
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExample:\n  COSIGN_PASSWORD=secret berth sign --key cosign.key 127.0.0.1:5000/team/app:1.0",
    );
  addRegistryFlags(command).action(
    cliAction(async (image: string, flags: SignFlags) => {
      const ref = registryReference(image);
      const options = {
        annotations: parseAnnotations(flags.annotations),
        recursive: flags.recursive === true,
        referrersMode: referrersMode(flags.registryReferrersMode),
        bundle: flags.newBundleFormat === true,
      };
      const key = await privateKeyFromFile(flags.key);
      const client = clientFor(ref, flags);
      try {
        const results = await signImage(client, ref, key, options);
        if (flags.format === "json") {
          printJson({ signed: results });
          return;
        }
        for (const r of results) {
          process.stderr.write(
            `Signed ${ref.registry}/${ref.repository}@${r.digest} (${r.format}, stored as ${r.stored.reference})\n`,
          );
          process.stdout.write(`${r.digest}\n`);
        }
      } finally {
        await client.close();
      }
    }),
  );
}
