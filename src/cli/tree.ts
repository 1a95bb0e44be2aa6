// `berth tree IMAGE`: everything attached to an image — cosign's `.sig`/`.att`/`.sbom` tags
// and every OCI 1.1 referrer (signatures, bundles, SBOMs, other artifacts) — as a tree, or
// one JSON document with --format json.
import type { Command } from "commander";
import { clientAttachmentReader } from "../sign/client-reader.js";
import { listAttachments } from "../sign/discover.js";
import { resolveSubject } from "../sign/image-signing.js";
import { formatOption, humanSize, printJson } from "./output.js";
import { addRegistryFlags, cliAction, type RegistryFlags } from "./registry-flags.js";
import { clientFor, registryReference } from "./registry-ref.js";

export function register(program: Command): void {
  const command = program
    .command("tree")
    .description("show the signatures, attestations, SBOMs and other referrers of an image")
    .argument("<image>", "registry image")
    .addOption(formatOption())
    .addHelpText("after", "\nExample:\n  berth tree 127.0.0.1:5000/team/app:1.0");
  addRegistryFlags(command).action(
    cliAction(async (image: string, flags: RegistryFlags & { format: string }) => {
      const ref = registryReference(image);
      const client = clientFor(ref, flags);
      try {
        const { descriptor } = await resolveSubject(client, ref);
        const attachments = await listAttachments(
          clientAttachmentReader(client, ref.repository),
          descriptor.digest,
        );
        if (flags.format === "json") {
          printJson({ subject: descriptor, attachments });
          return;
        }
        const lines = [`${ref.registry}/${ref.repository}@${descriptor.digest}`];
        for (const a of attachments) {
          const label =
            a.scheme === "tag"
              ? `${a.kind} (tag ${a.reference})`
              : `referrer ${a.artifactType ?? ""} ${a.reference}`;
          lines.push(`└── ${label}`);
          for (const l of a.layers)
            lines.push(`    └── ${l.mediaType} ${l.digest} ${humanSize(l.size)}`);
        }
        if (attachments.length === 0) lines.push("(nothing attached)");
        process.stdout.write(`${lines.join("\n")}\n`);
      } finally {
        await client.close();
      }
    }),
  );
}
