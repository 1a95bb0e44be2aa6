// Key pairs in cosign's file formats: `cosign.pub` is a PKIX `PUBLIC KEY` PEM; `cosign.key` is
// an `ENCRYPTED SIGSTORE PRIVATE KEY` PEM whose body is the password envelope of
// ./encrypted-key.ts over the PKCS#8 DER key. Also reads the legacy `ENCRYPTED COSIGN PRIVATE
// KEY` block, plain PKCS#8 (`PRIVATE KEY`) and SEC1 (`EC PRIVATE KEY`) PEMs, and ECDSA,
// Ed25519 and RSA public keys for verification. Pure apart from node:crypto; never writes
// files and never logs key material.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { decryptWithPassword, encryptWithPassword } from "./encrypted-key.js";

export const SIGSTORE_PRIVATE_KEY_PEM = "ENCRYPTED SIGSTORE PRIVATE KEY";
export const LEGACY_COSIGN_PRIVATE_KEY_PEM = "ENCRYPTED COSIGN PRIVATE KEY";

export class KeyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyFormatError";
  }
}

export interface GeneratedKeyPair {
  /** `cosign.key`: the encrypted private key PEM. */
  privateKeyPem: string;
  /** `cosign.pub`: the public key PEM. */
  publicKeyPem: string;
}

interface PemBlock {
  label: string;
  body: Buffer;
}

export function encodePem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The first PEM block of a text. */
export function decodePem(text: string): PemBlock {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw new KeyFormatError("not a PEM file (no BEGIN/END block)");
  return { label: m[1]!, body: Buffer.from(m[2]!.replace(/\s+/g, ""), "base64") };
}

/** A new ECDSA P-256 key pair, the private half encrypted under `password`. */
export function generateKeyPair(password: string): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" });
  return {
    privateKeyPem: encodePem(SIGSTORE_PRIVATE_KEY_PEM, encryptWithPassword(pkcs8, password)),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** Whether opening this private key file needs a password. */
export function privateKeyNeedsPassword(pem: string): boolean {
  const { label } = decodePem(pem);
  return label === SIGSTORE_PRIVATE_KEY_PEM || label === LEGACY_COSIGN_PRIVATE_KEY_PEM;
}

/** Reads a private key file in any of the forms cosign and openssl write. */
export function loadPrivateKey(pem: string, password: () => string): KeyObject {
  const block = decodePem(pem);
  if (block.label === SIGSTORE_PRIVATE_KEY_PEM || block.label === LEGACY_COSIGN_PRIVATE_KEY_PEM) {
    const der = decryptWithPassword(block.body, password());
    return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  }
  if (block.label === "PRIVATE KEY" || block.label === "EC PRIVATE KEY") {
    try {
      return createPrivateKey(pem);
    } catch {
      throw new KeyFormatError(`the ${block.label} block is not a key node can read`);
    }
  }
  throw new KeyFormatError(`unsupported private key block "${block.label}"`);
}

/** Reads a public key (PKIX PEM: ECDSA, Ed25519 or RSA). */
export function loadPublicKey(pem: string): KeyObject {
  const block = decodePem(pem);
  if (block.label !== "PUBLIC KEY" && block.label !== "RSA PUBLIC KEY") {
    throw new KeyFormatError(`expected a PUBLIC KEY block, found "${block.label}"`);
  }
  try {
    return createPublicKey(pem);
  } catch {
    throw new KeyFormatError("the PUBLIC KEY block is not a key node can read");
  }
}

/** `sha256:<hex>` of the public key's DER SubjectPublicKeyInfo: how keys are named in output. */
export function keyFingerprint(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  const der = pub.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(der).digest("hex")}`;
}
