// The password-encrypted envelope cosign (via go-securesystemslib's `encrypted` package)
// wraps private keys in: JSON `{kdf: {name: "scrypt", params: {N, r, p}, salt},
// cipher: {name: "nacl/secretbox", nonce}, ciphertext}` with base64 byte fields. The key is
// scrypt(password, salt, N, r, p) → 32 bytes; the cipher is XSalsa20-Poly1305 (NaCl
// secretbox, tweetnacl). Pure: no files, no prompts. Never accepts scrypt parameters outside
// the two cosign has written (N = 2^15 legacy, 2^16 current, r = 8, p = 1), so a hostile key
// file cannot make us burn gigabytes of memory.
import { randomBytes, scryptSync } from "node:crypto";
import nacl from "tweetnacl";

export const SCRYPT_N = 65536;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const ACCEPTED_N = new Set([32768, 65536]);
const KEY_BYTES = 32;
const SALT_BYTES = 32;
const NONCE_BYTES = 24;

export class KeyDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyDecryptionError";
  }
}

interface EncryptedEnvelope {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

function deriveKey(password: Buffer, salt: Buffer, n: number): Uint8Array {
  return scryptSync(password, salt, KEY_BYTES, {
    N: n,
    r: SCRYPT_R,
    p: SCRYPT_P,
    maxmem: 256 * n * SCRYPT_R,
  });
}

/** Seals `plaintext` (a PKCS#8 DER key) under `password`; returns the JSON envelope bytes. */
export function encryptWithPassword(plaintext: Buffer, password: string): Buffer {
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const key = deriveKey(Buffer.from(password, "utf8"), salt, SCRYPT_N);
  const sealed = nacl.secretbox(new Uint8Array(plaintext), new Uint8Array(nonce), key);
  const envelope: EncryptedEnvelope = {
    kdf: {
      name: "scrypt",
      params: { N: SCRYPT_N, r: SCRYPT_R, p: SCRYPT_P },
      salt: salt.toString("base64"),
    },
    cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
    ciphertext: Buffer.from(sealed).toString("base64"),
  };
  return Buffer.from(JSON.stringify(envelope), "utf8");
}

function parseEnvelope(bytes: Buffer): EncryptedEnvelope {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new KeyDecryptionError("the encrypted key is not the JSON envelope cosign writes");
  }
  const e = doc as Partial<EncryptedEnvelope>;
  if (
    typeof e?.kdf?.salt !== "string" ||
    typeof e.cipher?.nonce !== "string" ||
    typeof e.ciphertext !== "string" ||
    typeof e.kdf.params?.N !== "number"
  ) {
    throw new KeyDecryptionError("the encrypted key lacks its kdf, cipher or ciphertext");
  }
  if (e.kdf.name !== "scrypt") throw new KeyDecryptionError(`unknown kdf "${e.kdf.name}"`);
  if (e.cipher.name !== "nacl/secretbox")
    throw new KeyDecryptionError(`unknown cipher "${e.cipher.name}"`);
  const { N, r, p } = e.kdf.params;
  if (!ACCEPTED_N.has(N) || r !== SCRYPT_R || p !== SCRYPT_P) {
    throw new KeyDecryptionError(`unexpected scrypt parameters N=${N} r=${r} p=${p}`);
  }
  return e as EncryptedEnvelope;
}

/** Opens an envelope; a wrong password or a tampered file is a KeyDecryptionError. */
export function decryptWithPassword(envelopeBytes: Buffer, password: string): Buffer {
  const e = parseEnvelope(envelopeBytes);
  const salt = Buffer.from(e.kdf.salt, "base64");
  const nonce = Buffer.from(e.cipher.nonce, "base64");
  if (nonce.length !== NONCE_BYTES) throw new KeyDecryptionError("the nonce is not 24 bytes");
  const key = deriveKey(Buffer.from(password, "utf8"), salt, e.kdf.params.N);
  const opened = nacl.secretbox.open(
    new Uint8Array(Buffer.from(e.ciphertext, "base64")),
    new Uint8Array(nonce),
    key,
  );
  if (!opened)
    throw new KeyDecryptionError("wrong password for the private key (or a damaged key file)");
  return Buffer.from(opened);
}
