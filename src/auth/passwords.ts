// Password and secret handling: argon2id for user passwords, bcrypt (read-only) for htpasswd
// files, sha256 for high-entropy robot secrets and session ids, and constant-time equality.
// Never logs or returns a secret; verification of an unknown account still spends the time
// of a real hash check so response timing does not reveal which accounts exist.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";
import bcrypt from "bcryptjs";

/** argon2id (the library default), with OWASP-recommended cost parameters. */
const ARGON2_OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/**
 * argon2 computations run one at a time. Each one holds `memoryCost` (19 MiB) of native
 * memory while it runs, and the thread pool would run four at once: 32 clients sending
 * Basic credentials at the same moment took the server's peak RSS from 133 MB to 208 MB
 * (issue 20). One at a time bounds that to one working set; brute force gains nothing from
 * parallel checks either (the throttle already limits it).
 */
let argon2Queue: Promise<unknown> = Promise.resolve();

function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = argon2Queue.then(work, work);
  argon2Queue = run.catch(() => undefined);
  return run;
}

export async function hashPassword(password: string): Promise<string> {
  return oneAtATime(() => hash(password, ARGON2_OPTIONS));
}

let dummyHash: Promise<string> | undefined;

/** Verify a password against an argon2id or bcrypt hash; `undefined` hash = unknown account. */
export async function verifyPassword(
  stored: string | undefined,
  password: string,
): Promise<boolean> {
  if (stored === undefined) {
    dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
    const dummy = await dummyHash;
    await oneAtATime(() => verify(dummy, password)).catch(() => false);
    return false;
  }
  if (/^\$2[aby]\$/.test(stored)) return bcrypt.compare(password, stored);
  if (stored.startsWith("$argon2"))
    return oneAtATime(() => verify(stored, password)).catch(() => false);
  return false;
}

/** A random secret for robots, sessions and CSRF tokens (256 bits, URL-safe). */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Constant-time string equality (lengths are compared via fixed-size digests). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

/** Minimum rules for a new password; returns the reason it is refused, if any. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 8) return "password must be at least 8 characters long";
  if (password.length > 1024) return "password is too long";
  return undefined;
}
