// Key formats beyond cosign's default P-256 pair: public keys made by openssl (Ed25519, RSA,
// ECDSA) verify simple-signing signatures that openssl made, through the one evaluator; plain
// PKCS#8 and SEC1 private keys sign; the legacy `ENCRYPTED COSIGN PRIVATE KEY` block opens
// with its password; wrong passwords and hostile scrypt parameters are refused.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  blobOf,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from "../../src/sign/attached.js";
import { signBytes, verifyBytes } from "../../src/sign/crypto.js";
import { KeyDecryptionError } from "../../src/sign/encrypted-key.js";
import {
  decodePem,
  encodePem,
  generateKeyPair,
  LEGACY_COSIGN_PRIVATE_KEY_PEM,
  loadPrivateKey,
  loadPublicKey,
} from "../../src/sign/keys.js";
import { buildSimpleSigningPayload } from "../../src/sign/simple-signing.js";
import { evaluateSignatures, trustedKey } from "../../src/sign/verify.js";
import { runOk } from "../support/process-control.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-keys-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function opensslKey(name: string, args: string[]): Promise<{ priv: string; pub: string }> {
  const priv = join(work, `${name}.pem`);
  const pub = join(work, `${name}.pub`);
  await runOk("openssl", [...args, "-out", priv]);
  await runOk("openssl", ["pkey", "-in", priv, "-pubout", "-out", pub]);
  return { priv, pub };
}

async function opensslSign(priv: string, message: Buffer, ed25519: boolean): Promise<Buffer> {
  const msg = join(work, `m-${Math.random()}`);
  const sig = `${msg}.sig`;
  await writeFile(msg, message);
  if (ed25519)
    await runOk("openssl", ["pkeyutl", "-sign", "-rawin", "-inkey", priv, "-in", msg, "-out", sig]);
  else await runOk("openssl", ["dgst", "-sha256", "-sign", priv, "-out", sig, msg]);
  return readFile(sig);
}

describe("public keys openssl makes verify what openssl signs", () => {
  it.each([
    { name: "ed25519", args: ["genpkey", "-algorithm", "ed25519"], ed: true },
    {
      name: "rsa",
      args: ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
      ed: false,
    },
    { name: "ecdsa", args: ["ecparam", "-genkey", "-name", "prime256v1", "-noout"], ed: false },
  ])("$name", async ({ name, args, ed }) => {
    const { priv, pub } = await opensslKey(name, args);
    const payload = buildSimpleSigningPayload("127.0.0.1:5000/team/app", DIGEST, {});
    const sig = await opensslSign(priv, payload, ed);
    const layer = blobOf(payload, SIMPLE_SIGNING_MEDIA_TYPE, {
      [SIGNATURE_ANNOTATION]: sig.toString("base64"),
    });
    const evidence = [
      {
        format: "simplesigning" as const,
        descriptor: layer.descriptor,
        manifestDigest: "sha256:0",
        scheme: "tag" as const,
        bytes: payload,
      },
    ];
    const key = trustedKey(loadPublicKey(await readFile(pub, "utf8")));
    expect(evaluateSignatures(evidence, { digest: DIGEST, keys: [key] })[0]?.verified).toBe(true);
    const tampered = Buffer.from(payload.toString().replace("team/app", "team/evil"));
    expect(
      evaluateSignatures([{ ...evidence[0]!, bytes: tampered }], { digest: DIGEST, keys: [key] })[0]
        ?.verified,
    ).toBe(false);
    // Berth signs with the same private key file (plain PKCS#8 or SEC1), openssl's key verifies.
    const own = loadPrivateKey(await readFile(priv, "utf8"), () => "");
    expect(
      verifyBytes(loadPublicKey(await readFile(pub, "utf8")), payload, signBytes(own, payload)),
    ).toBe(true);
  });
});

describe("encrypted private keys", () => {
  it("reads the legacy ENCRYPTED COSIGN PRIVATE KEY block", () => {
    const pair = generateKeyPair("pw");
    const legacy = encodePem(LEGACY_COSIGN_PRIVATE_KEY_PEM, decodePem(pair.privateKeyPem).body);
    const key = loadPrivateKey(legacy, () => "pw");
    const message = Buffer.from("hello");
    expect(verifyBytes(loadPublicKey(pair.publicKeyPem), message, signBytes(key, message))).toBe(
      true,
    );
  });

  it("refuses a wrong password and scrypt parameters cosign never writes", () => {
    const pair = generateKeyPair("pw");
    expect(() => loadPrivateKey(pair.privateKeyPem, () => "nope")).toThrow(KeyDecryptionError);
    const envelope = JSON.parse(decodePem(pair.privateKeyPem).body.toString());
    envelope.kdf.params.N = 2 ** 24;
    const hostile = encodePem(
      "ENCRYPTED SIGSTORE PRIVATE KEY",
      Buffer.from(JSON.stringify(envelope)),
    );
    expect(() => loadPrivateKey(hostile, () => "pw")).toThrow(/unexpected scrypt parameters/);
  });
});
