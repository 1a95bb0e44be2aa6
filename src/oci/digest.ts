// Digests as the OCI image spec defines them: `algorithm:encoded`. Parsing, validation and
// computing over bytes. Pure: no I/O, imports nothing of Berth's.
import { createHash } from "node:crypto";

export type DigestAlgorithm = "sha256" | "sha512";

export interface Digest {
  readonly algorithm: DigestAlgorithm;
  readonly encoded: string;
  /** The canonical string form, `sha256:<hex>`. */
  readonly value: string;
}

const ENCODED_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
// The spec's general grammar: algorithm-component ( [+._-] algorithm-component )* ":" encoded
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export class DigestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DigestError";
  }
}

export function isSupportedAlgorithm(algorithm: string): algorithm is DigestAlgorithm {
  return algorithm === "sha256" || algorithm === "sha512";
}

/** Parses a digest string; throws DigestError naming what is wrong. */
export function parseDigest(text: string): Digest {
  if (!DIGEST_GRAMMAR.test(text)) throw new DigestError(`malformed digest "${truncate(text)}"`);
  const colon = text.indexOf(":");
  const algorithm = text.slice(0, colon);
  const encoded = text.slice(colon + 1);
  if (!isSupportedAlgorithm(algorithm)) {
    throw new DigestError(`unsupported digest algorithm "${truncate(algorithm)}"`);
  }
  if (encoded.length !== ENCODED_LENGTH[algorithm] || !/^[a-f0-9]+$/.test(encoded)) {
    throw new DigestError(
      `${algorithm} digest must be ${ENCODED_LENGTH[algorithm]} lowercase hex characters`,
    );
  }
  return { algorithm, encoded, value: text };
}

/** Returns the parsed digest or undefined, for callers that branch instead of throwing. */
export function tryParseDigest(text: string): Digest | undefined {
  try {
    return parseDigest(text);
  } catch {
    return undefined;
  }
}

export function isDigest(text: string): boolean {
  return tryParseDigest(text) !== undefined;
}

export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest("hex")}`;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
