// Sigstore bundles (media type application/vnd.dev.sigstore.bundle.v0.3+json), the form
// cosign 3 writes by default: a DSSE envelope (or a message signature) plus the verification
// material; for key-based offline signing the material is a public-key hint and no
// transparency-log entry. Parsing is checked with sigstore's own `@sigstore/bundle`. Pure.
import { bundleFromJSON } from "@sigstore/bundle";
import { type DsseEnvelope, parseEnvelope } from "./dsse.js";

export const BUNDLE_V03_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";

export interface ParsedBundle {
  mediaType: string;
  keyHint: string;
  envelope?: DsseEnvelope;
  messageSignature?: { digestAlgorithm: string; digest: Buffer; signature: Buffer };
}

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BundleError";
  }
}

export function buildDsseBundle(envelope: DsseEnvelope, keyHint: string): Buffer {
  const bundle = {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: keyHint }, tlogEntries: [] },
    dsseEnvelope: envelope,
  };
  return Buffer.from(JSON.stringify(bundle), "utf8");
}

export function parseBundle(bytes: Buffer): ParsedBundle {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new BundleError("the Sigstore bundle is not JSON");
  }
  try {
    bundleFromJSON(doc);
  } catch (err) {
    throw new BundleError(`not a valid Sigstore bundle: ${(err as Error).message}`);
  }
  const b = doc as {
    mediaType: string;
    verificationMaterial?: { publicKey?: { hint?: string } };
    dsseEnvelope?: unknown;
    messageSignature?: {
      messageDigest?: { algorithm?: string; digest?: string };
      signature?: string;
    };
  };
  const parsed: ParsedBundle = {
    mediaType: b.mediaType,
    keyHint: b.verificationMaterial?.publicKey?.hint ?? "",
  };
  if (b.dsseEnvelope) {
    parsed.envelope = parseEnvelope(b.dsseEnvelope);
    if (!parsed.envelope) throw new BundleError("the bundle's DSSE envelope is malformed");
  } else if (b.messageSignature?.signature && b.messageSignature.messageDigest?.digest) {
    parsed.messageSignature = {
      digestAlgorithm: b.messageSignature.messageDigest.algorithm ?? "SHA2_256",
      digest: Buffer.from(b.messageSignature.messageDigest.digest, "base64"),
      signature: Buffer.from(b.messageSignature.signature, "base64"),
    };
  }
  return parsed;
}
