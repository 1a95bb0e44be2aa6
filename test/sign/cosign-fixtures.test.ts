// Signatures made by the real cosign (../shared/fixtures/cosign, copied from containers/image)
// get the verdict their README gives, through the same evaluator the CLI and the registry
// use — first as bytes, then pushed into a real Berth as a `sha256-<hex>.sig` manifest and
// discovered over HTTP.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "../../src/client/registry-client.js";
import { type Descriptor, MediaType } from "../../src/oci/index.js";
import { attachmentTag, candidateLayers, tagSchemeManifest } from "../../src/sign/attached.js";
import { clientAttachmentReader } from "../../src/sign/client-reader.js";
import { discoverSignatures } from "../../src/sign/discover.js";
import { loadPublicKey } from "../../src/sign/keys.js";
import {
  evaluateSignatures,
  type SignatureEvidence,
  trustedKey,
  validSignatures,
} from "../../src/sign/verify.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";

const FIXTURES = resolve(__dirname, "..", "..", "..", "shared", "fixtures", "cosign");
const key1 = trustedKey(loadPublicKey(readFileSync(join(FIXTURES, "cosign.pub"), "utf8")));
const key2 = trustedKey(loadPublicKey(readFileSync(join(FIXTURES, "cosign2.pub"), "utf8")));

interface StoredSignature {
  mimeType: string;
  payload: Buffer;
  annotations: Record<string, string>;
}

/** containers/image's on-disk form: "\0sigstore-json\n" then a JSON object. */
function readSignatureFile(path: string): StoredSignature {
  const bytes = readFileSync(path);
  const prefix = Buffer.from("\0sigstore-json\n");
  expect(bytes.subarray(0, prefix.length).equals(prefix)).toBe(true);
  const doc = JSON.parse(bytes.subarray(prefix.length).toString("utf8"));
  return {
    mimeType: doc.mimeType,
    payload: Buffer.from(doc.payload, "base64"),
    annotations: doc.annotations ?? {},
  };
}

function layerOf(sig: StoredSignature): Descriptor {
  return {
    mediaType: sig.mimeType,
    digest: `sha256:${createHash("sha256").update(sig.payload).digest("hex")}`,
    size: sig.payload.length,
    annotations: sig.annotations,
  };
}

function fixture(folder: string): { digest: string; signatures: StoredSignature[] } {
  const dir = join(FIXTURES, folder);
  const digest = `sha256:${createHash("sha256")
    .update(readFileSync(join(dir, "manifest.json")))
    .digest("hex")}`;
  const signatures = readdirSync(dir)
    .filter((f) => f.startsWith("signature-"))
    .sort()
    .map((f) => readSignatureFile(join(dir, f)));
  return { digest, signatures };
}

/** Evidence as discovery would build it from a `.sig` manifest holding these layers. */
function evidenceOf(signatures: StoredSignature[]): SignatureEvidence[] {
  const layers = signatures.map(layerOf);
  const { manifest } = tagSchemeManifest(layers.slice(0, -1), layers[layers.length - 1]!);
  return candidateLayers(manifest, "sha256:0", "tag").map((c) => ({
    ...c,
    bytes: signatures[layers.findIndex((l) => l.digest === c.descriptor.digest)]!.payload,
  }));
}

const CASES: Array<{ folder: string; keys: (typeof key1)[]; valid: number }> = [
  { folder: "dir-img-cosign-valid", keys: [key1], valid: 1 },
  { folder: "dir-img-cosign-valid-2", keys: [key1], valid: 2 },
  { folder: "dir-img-cosign-valid-with-tag", keys: [key1], valid: 1 },
  { folder: "dir-img-cosign-key-rekor-valid", keys: [key2], valid: 1 },
  { folder: "dir-img-cosign-key-rekor-valid", keys: [key1], valid: 0 },
  { folder: "dir-img-cosign-modified-manifest", keys: [key1], valid: 0 },
  { folder: "dir-img-cosign-other-attachment", keys: [key1, key2], valid: 0 },
  { folder: "dir-img-cosign-valid", keys: [key2], valid: 0 },
];

describe("cosign's own signatures, through the evaluator", () => {
  it.each(CASES)("$folder with $keys.length key(s): $valid valid", ({ folder, keys, valid }) => {
    const f = fixture(folder);
    const verdicts = evaluateSignatures(evidenceOf(f.signatures), { digest: f.digest, keys });
    expect(validSignatures(verdicts)).toHaveLength(valid);
    for (const v of validSignatures(verdicts)) expect(v.keyFingerprint).toBe(keys[0]!.fingerprint);
  });

  it("says why the modified manifest fails: the payload names another digest", () => {
    const f = fixture("dir-img-cosign-modified-manifest");
    const [v] = evaluateSignatures(evidenceOf(f.signatures), { digest: f.digest, keys: [key1] });
    expect(v?.reason).toMatch(/payload vouches for sha256:[0-9a-f]{64}, not /);
  });

  it("rejects the signature of an unknown key with either trusted key", () => {
    const sig = readSignatureFile(join(FIXTURES, "unknown-cosign-key.signature"));
    const digest = JSON.parse(sig.payload.toString()).critical.image["docker-manifest-digest"];
    const verdicts = evaluateSignatures(evidenceOf([sig]), { digest, keys: [key1, key2] });
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]?.verified).toBe(false);
    expect(verdicts[0]?.reason).toBe("no trusted key verifies the signature");
  });

  it("the other attachment is no signature layer at all", () => {
    const f = fixture("dir-img-cosign-other-attachment");
    expect(evidenceOf(f.signatures)).toHaveLength(0);
  });
});

describe("cosign's signatures stored in Berth and discovered over HTTP", () => {
  let server: BerthProcess;
  let client: RegistryClient;
  beforeAll(async () => {
    expect(existsSync(FIXTURES), `missing ${FIXTURES}`).toBe(true);
    server = await startBerth({ env: { BERTH_AUTH: "none", BERTH_LOG_LEVEL: "warn" } });
    client = new RegistryClient(server.host, { plainHttp: true });
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it.each([
    { folder: "dir-img-cosign-valid-2", keys: [key1], valid: 2 },
    { folder: "dir-img-cosign-modified-manifest", keys: [key1], valid: 0 },
    { folder: "dir-img-cosign-key-rekor-valid", keys: [key2], valid: 1 },
  ])("$folder: $valid valid", async ({ folder, keys, valid }) => {
    const repo = `fixtures/${folder}`;
    const f = fixture(folder);
    const layers = f.signatures.map(layerOf);
    for (const [i, layer] of layers.entries()) {
      await client.uploadBlob(repo, layer, Readable.from([f.signatures[i]!.payload]));
    }
    const { manifest, config } = tagSchemeManifest(layers.slice(0, -1), layers[layers.length - 1]!);
    await client.uploadBlob(repo, config.descriptor, Readable.from([config.bytes]));
    await client.putManifest(
      repo,
      attachmentTag(f.digest, "sig"),
      Buffer.from(JSON.stringify(manifest)),
      MediaType.OciManifest,
    );

    const evidence = await discoverSignatures(clientAttachmentReader(client, repo), f.digest);
    expect(evidence).toHaveLength(layers.length);
    const verdicts = evaluateSignatures(evidence, { digest: f.digest, keys });
    expect(validSignatures(verdicts)).toHaveLength(valid);
  });
});
