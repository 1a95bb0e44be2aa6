// The token signing keys shared by several replicas (auth.secretKey set): ES256 keys kept in
// the database (src/meta/token-signing-keys.ts), each private key sealed with AES-256-GCM under
// auth.secretKey. Every replica signs with the newest key and verifies with any stored one, so
// a token issued by one replica is accepted by all. Rotation (rotate()) adds a new key; the
// older ones keep verifying the tokens they signed until they are removed. A token whose kid
// this replica does not know yet (another replica rotated, or created its own first key when
// the replicas started together) makes it reload the table (each unknown kid at most once per
// RELOAD_MS). Never: log or return a private key, store one unsealed.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import type { Kysely } from "kysely";
import type { AuthTables } from "../meta/auth-schema.js";
import { insertSigningKey, listSigningKeys } from "../meta/token-signing-keys.js";
import { SecretBox } from "../webhooks/signing.js";
import { SigningKey, type SigningKeyring } from "./tokens.js";

const RELOAD_MS = 5_000;

export class SharedSigningKeys implements SigningKeyring {
  private keys: SigningKey[] = [];
  /** Unknown kids and when they were last looked up. */
  private readonly missing = new Map<string, number>();

  private constructor(
    private readonly db: Kysely<AuthTables>,
    private readonly box: SecretBox,
    private readonly now: () => number,
  ) {}

  /** Loads the stored keys, creating the first one if the table is empty. */
  static async open(
    db: Kysely<AuthTables>,
    secretKey: string,
    now: () => number = Date.now,
  ): Promise<SharedSigningKeys> {
    const ring = new SharedSigningKeys(db, await SecretBox.open("", secretKey), now);
    await ring.reload();
    if (ring.keys.length === 0) await ring.rotate();
    return ring;
  }

  current(): SigningKey {
    const key = this.keys[0];
    if (!key) throw new Error("no token signing key loaded");
    return key;
  }

  async verificationKey(kid: string | undefined): Promise<KeyObject | undefined> {
    const find = () => this.keys.find((k) => k.kid === kid)?.publicKey;
    const known = find();
    if (known || kid === undefined) return known;
    // A kid not seen yet: another replica's new key (or its first, when replicas started
    // together on an empty table). Reload, but look up one unknown kid at most once per
    // RELOAD_MS, so made-up kids cannot turn every request into a query.
    const missedAt = this.missing.get(kid);
    if (missedAt !== undefined && this.now() - missedAt < RELOAD_MS) return undefined;
    await this.reload();
    const found = find();
    if (!found) {
      if (this.missing.size >= 1000) this.missing.clear();
      this.missing.set(kid, this.now());
    }
    return found;
  }

  /** Adds a new key and signs with it from now on; returns its kid. */
  async rotate(): Promise<string> {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const key = await SigningKey.fromPem(pem);
    await insertSigningKey(this.db, {
      kid: key.kid,
      sealedPrivateKey: this.box.seal(pem),
      createdAt: this.now(),
    });
    await this.reload();
    return key.kid;
  }

  /** The kids known, newest first. */
  kids(): string[] {
    return this.keys.map((k) => k.kid);
  }

  private async reload(): Promise<void> {
    const rows = await listSigningKeys(this.db);
    const keys: SigningKey[] = [];
    for (const row of rows) {
      let pem: string;
      try {
        pem = this.box.unseal(row.sealedPrivateKey);
      } catch {
        throw new Error(
          `token signing key ${row.kid} cannot be unsealed: auth.secretKey differs from the one it was stored with`,
        );
      }
      keys.push(await SigningKey.fromPem(pem));
    }
    this.keys = keys;
  }
}
