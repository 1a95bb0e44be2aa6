// Webhook secrets and signatures. Every delivery carries
//   X-Berth-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
// so a receiver checks the body came from Berth (the HMAC) and is fresh (t within its
// tolerance, against replay); docs/webhooks.md has copy-paste verifiers. Secrets are sealed
// at rest with AES-256-GCM under a key kept outside the database (DATA/webhook-secrets.key,
// 0600, made on first use; or `webhooks.secretKey` for replicas sharing one database), so
// a database dump alone does not reveal them; the API never returns a secret after creation.
// Never: log a secret or a key, or compare signatures with `===`.
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { chmod, mkdir, open, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";

export const SIGNATURE_HEADER = "x-berth-signature";

export function signatureHeader(secret: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${mac}`;
}

/**
 * Checks a signature header against the body (what receivers do; used by the tests).
 * `toleranceSeconds` bounds the age of the timestamp.
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  toleranceSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  if (!header) return false;
  const parts = new Map(
    header.split(",").map((p) => {
      const eq = p.indexOf("=");
      return [p.slice(0, eq).trim(), p.slice(eq + 1).trim()] as const;
    }),
  );
  const t = Number(parts.get("t"));
  const given = parts.get("v1") ?? "";
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
  const actual = Buffer.from(given, "hex");
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A random secret for targets created without one (shown once). */
export function generateSecret(): string {
  return randomBytes(24).toString("base64url");
}

/** Seals and unseals secrets with one 256-bit key. */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** From `webhooks.secretKey` (base64 of 32 bytes) or the key file under `dataDir`. */
  static async open(dataDir: string, configuredKey: string): Promise<SecretBox> {
    if (configuredKey !== "") {
      const key = Buffer.from(configuredKey, "base64");
      if (key.length !== 32) throw new Error("webhooks.secretKey must be base64 of 32 bytes");
      return new SecretBox(key);
    }
    return new SecretBox(await loadOrCreateKey(join(dataDir, "webhook-secrets.key")));
  }

  seal(secret: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return `v1:${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64")}`;
  }

  unseal(text: string): string {
    if (!text.startsWith("v1:")) throw new Error("unknown sealed secret format");
    const raw = Buffer.from(text.slice(3), "base64");
    const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  }
}

async function loadOrCreateKey(path: string): Promise<Buffer> {
  try {
    return decodeKey(await readFile(path, "utf8"), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    const file = await open(path, "wx", 0o600);
    try {
      await file.writeFile(`${key.toString("base64")}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await chmod(path, 0o600);
    return key;
  } catch (err) {
    // Another process made it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      return decodeKey(await readFile(path, "utf8"), path);
    throw err;
  }
}

function decodeKey(text: string, path: string): Buffer {
  const key = Buffer.from(text.trim(), "base64");
  if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
  return key;
}
