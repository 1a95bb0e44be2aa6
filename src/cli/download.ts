// `berth download signature|attestation|sbom IMAGE`: prints what is attached, as cosign's
// `download` does: signatures one JSON object per line ({"Base64Signature","Payload"} for
// simple signing, the bundle for bundles), attestations one DSSE envelope (or bundle) per
// line, SBOMs their documents. Nothing is verified here: use `berth verify` for that.
import { Argument, type Command, Option } from "commander";
import { SIGNATURE_ANNOTATION } from "../sign/attached.js";
import { clientAttachmentReader } from "../sign/client-reader.js";
import { discoverSignatures, listAttachments } from "../sign/discover.js";
import { resolveSubject } from "../sign/image-signing.js";
import { evaluateSignatures } from "../sign/verify.js";
import { CliError, ExitCode } from "./errors.js";
import { addRegistryFlags, cliAction, type RegistryFlags } from "./registry-flags.js";
import { clientFor, registryReference } from "./registry-ref.js";

const SBOM_TYPES = new Set([
  "application/vnd.cyclonedx+json",
  "application/spdx+json",
  "text/spdx+json",
  "text/spdx",
  "application/vnd.cyclonedx+xml",
  "application/vnd.cyclonedx",
]);

type What = "signature" | "attestation" | "sbom";

export function register(program: Command): void {
  const command = program
    .command("download")
    .description("print the signatures, attestations or SBOMs attached to an image")
    .addArgument(
      new Argument("<what>", "signature, attestation or sbom").choices([
        "signature",
        "attestation",
        "sbom",
      ]),
    )
    .argument("<image>", "registry image")
    .addOption(new Option("--format <format>").hideHelp().default("text"))
    .addHelpText("after", "\nExample:\n  berth download signature 127.0.0.1:5000/team/app:1.0");
  addRegistryFlags(command).action(
    cliAction(async (what: What, image: string, flags: RegistryFlags) => {
      const ref = registryReference(image);
      const client = clientFor(ref, flags);
      try {
        const { descriptor } = await resolveSubject(client, ref);
        const reader = clientAttachmentReader(client, ref.repository);
        const lines =
          what === "sbom"
            ? await sbomDocuments(reader, descriptor.digest)
            : await signatureLines(reader, descriptor.digest, what);
        if (lines.length === 0) {
          throw new CliError(
            `no ${what} attached to ${ref.repository}@${descriptor.digest}`,
            ExitCode.Findings,
          );
        }
        process.stdout.write(`${lines.join("\n")}\n`);
      } finally {
        await client.close();
      }
    }),
  );
}

async function signatureLines(
  reader: ReturnType<typeof clientAttachmentReader>,
  digest: string,
  what: "signature" | "attestation",
): Promise<string[]> {
  const evidence = await discoverSignatures(reader, digest);
  // The evaluator without keys verifies nothing but tells signatures from attestations.
  const kinds = evaluateSignatures(evidence, { digest, keys: [] }).map((v) => v.kind);
  return evidence
    .filter((_, i) => kinds[i] === what)
    .map((e) =>
      e.format === "simplesigning"
        ? JSON.stringify({
            Base64Signature: e.descriptor.annotations?.[SIGNATURE_ANNOTATION] ?? "",
            Payload: e.bytes.toString("base64"),
          })
        : e.bytes.toString("utf8").trim(),
    );
}

async function sbomDocuments(
  reader: ReturnType<typeof clientAttachmentReader>,
  digest: string,
): Promise<string[]> {
  const out: string[] = [];
  for (const a of await listAttachments(reader, digest)) {
    const isSbom =
      a.kind === "sbom" || (a.artifactType !== undefined && SBOM_TYPES.has(a.artifactType));
    if (!isSbom) continue;
    for (const layer of a.layers) out.push((await reader.blob(layer)).toString("utf8").trim());
  }
  return out;
}
