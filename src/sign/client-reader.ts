// The AttachmentReader of ./discover.ts over a registry client (HTTP), for the CLI.
import type { Readable } from "node:stream";
import { RegistryError } from "../client/errors.js";
import type { RegistryClient } from "../client/registry-client.js";
import type { Descriptor } from "../oci/index.js";
import type { AttachmentReader, StoredManifest } from "./discover.js";

export function clientAttachmentReader(client: RegistryClient, repo: string): AttachmentReader {
  return {
    async manifest(reference: string): Promise<StoredManifest | undefined> {
      try {
        const m = await client.getManifest(repo, reference);
        return { bytes: m.bytes, digest: m.digest, mediaType: m.mediaType };
      } catch (err) {
        if (err instanceof RegistryError && err.kind === "not-found") return undefined;
        throw err;
      }
    },
    async blob(descriptor: Descriptor): Promise<Buffer> {
      const stream: Readable = await client.getBlob(repo, descriptor);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    referrers: (digest: string) => client.referrers(repo, digest),
  };
}
