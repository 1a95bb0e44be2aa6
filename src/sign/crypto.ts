// Signing and verifying bytes with a key the way cosign does: ECDSA and RSA (PKCS#1 v1.5)
// over SHA-256, Ed25519 over the message itself; ECDSA signatures are ASN.1 DER. Pure.
import { type KeyObject, sign as nodeSign, verify as nodeVerify } from "node:crypto";

function hashFor(key: KeyObject): string | null {
  return key.asymmetricKeyType === "ed25519" ? null : "sha256";
}

export function signBytes(key: KeyObject, message: Buffer): Buffer {
  return nodeSign(hashFor(key), message, key);
}

/** True when `signature` is a valid signature of `message` by `key`; never throws. */
export function verifyBytes(key: KeyObject, message: Buffer, signature: Buffer): boolean {
  try {
    return nodeVerify(hashFor(key), message, key, signature);
  } catch {
    return false;
  }
}
