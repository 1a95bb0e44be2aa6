// `berth key generate`, `sign`, `verify`, `attest`, `verify-attestation`, `tree`, `download`
// and `sbom --attach` against a real Berth, with the formats checked by independent
// implementations: PyNaCl + hashlib.scrypt decrypt the key file, `openssl pkey` derives its
// public half, `openssl dgst -verify` checks simple-signing signatures and DSSE signatures
// over their PAE encoding, and sigstore's own JS verifier checks the bundles. Signatures
// assembled outside Berth (openssl-signed payloads) must verify; tampered ones must not.
import { createHash, createPublicKey } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { bundleFromJSON } from "@sigstore/bundle";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "../../src/client/registry-client.js";
import { type ImageManifest, MediaType } from "../../src/oci/index.js";
import {
  attachmentTag,
  blobOf,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
  tagSchemeManifest,
} from "../../src/sign/attached.js";
import { preAuthEncoding } from "../../src/sign/dsse.js";
import { berth, berthOk } from "../cli/berth-cli.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { run, runOk } from "../support/process-control.js";
import { syntheticImageLayout, twoPlatformIndexLayout } from "../support/synthetic-images.js";

const PASSWORD = "correct horse battery staple";
const env = { COSIGN_PASSWORD: PASSWORD };
const DEBIAN_PYTHON = "/usr/bin/python3";

let server: BerthProcess;
let client: RegistryClient;
let work: string;
let image: string;
let imageDigest: string;
let keyPath: string;
let pubPath: string;
let otherPub: string;

async function manifestJson(
  repo: string,
  reference: string,
): Promise<{ digest: string; doc: ImageManifest }> {
  const m = await client.getManifest(repo, reference);
  return { digest: m.digest, doc: JSON.parse(m.bytes.toString("utf8")) as ImageManifest };
}

async function blobBytes(
  repo: string,
  digest: string,
  size: number,
  mediaType: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await client.getBlob(repo, { digest, size, mediaType }))
    chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function opensslVerify(pub: string, message: Buffer, signature: Buffer): Promise<boolean> {
  const m = join(work, `msg-${Math.random()}`);
  const s = join(work, `sig-${Math.random()}`);
  await writeFile(m, message);
  await writeFile(s, signature);
  const r = await run("openssl", ["dgst", "-sha256", "-verify", pub, "-signature", s, m]);
  return r.code === 0 && r.stdout.includes("Verified OK");
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-sign-"));
  server = await startBerth({ env: { BERTH_AUTH: "none", BERTH_LOG_LEVEL: "warn" } });
  client = new RegistryClient(server.host, { plainHttp: true });
  const layout = await syntheticImageLayout(join(work, "layout"), "1.0", {
    label: "signme",
    layers: [{ seed: "sign-layer", size: 32 * 1024 }],
  });
  image = `${server.host}/team/app:1.0`;
  await berthOk(["copy", layout.reference, image]);
  imageDigest = layout.manifest.digest;
  keyPath = join(work, "cosign.key");
  pubPath = join(work, "cosign.pub");
  await berthOk(["key", "generate", "--output-key-prefix", join(work, "cosign")], { env });
  await berthOk(["key", "generate", "--output-key-prefix", join(work, "other")], { env });
  otherPub = join(work, "other.pub");
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("berth key generate", () => {
  it("writes cosign.key that PyNaCl + scrypt decrypt to the key whose public half is cosign.pub", async () => {
    const nacl = await run(DEBIAN_PYTHON, ["-c", "import nacl.secret"]);
    expect(nacl.code, "python3-nacl is missing: run scripts/install-test-deps.sh").toBe(0);
    const der = join(work, "decrypted.der");
    await runOk(DEBIAN_PYTHON, [join(__dirname, "nacl-decrypt.py"), keyPath, PASSWORD, der]);
    const derived = await runOk("openssl", ["pkey", "-inform", "DER", "-in", der, "-pubout"]);
    expect(derived.stdout).toBe(await readFile(pubPath, "utf8"));
    const text = await runOk("openssl", ["pkey", "-inform", "DER", "-in", der, "-noout", "-text"]);
    expect(text.stdout).toMatch(/P-256|prime256v1/);
  });

  it("makes the private key file 0600 and refuses to overwrite it", async () => {
    const { stat } = await import("node:fs/promises");
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    const again = await berth(["key", "generate", "--output-key-prefix", join(work, "cosign")], {
      env,
    });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists/);
  });

  it("needs a password from COSIGN_PASSWORD when stdin is not a terminal", async () => {
    const r = await berth(["key", "generate", "--output-key-prefix", join(work, "nopw")], {
      env: { COSIGN_PASSWORD: undefined },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/COSIGN_PASSWORD/);
  });
});

describe("legacy simple-signing signatures (sha256-<hex>.sig)", () => {
  it("signs the digest of a tag, and openssl verifies the stored payload with cosign.pub", async () => {
    const signed = await berthOk(["sign", "--key", keyPath, "-a", "env=prod", image], { env });
    expect(signed.stdout.trim()).toBe(imageDigest);
    const sig = await manifestJson("team/app", attachmentTag(imageDigest, "sig"));
    const layer = sig.doc.layers.find((l) => l.mediaType === SIMPLE_SIGNING_MEDIA_TYPE);
    expect(layer).toBeDefined();
    const payload = await blobBytes("team/app", layer!.digest, layer!.size, layer!.mediaType);
    const doc = JSON.parse(payload.toString());
    expect(doc.critical.image["docker-manifest-digest"]).toBe(imageDigest);
    expect(doc.critical.type).toBe("cosign container image signature");
    expect(doc.optional).toEqual({ env: "prod" });
    const signature = Buffer.from(layer!.annotations![SIGNATURE_ANNOTATION]!, "base64");
    expect(await opensslVerify(pubPath, payload, signature)).toBe(true);
    expect(await opensslVerify(otherPub, payload, signature)).toBe(false);
  });

  it("verify: exit 0 with the key, 1 with another key or a missing annotation", async () => {
    const ok = await berth(["verify", "--key", pubPath, image]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^verified {2}simplesigning {2}tag/m);
    const json = await berth([
      "verify",
      "--key",
      pubPath,
      "-a",
      "env=prod",
      "--format",
      "json",
      image,
    ]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ digest: imageDigest, verified: true });
    const other = await berth(["verify", "--key", otherPub, image]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/no signature verifies with the given keys/);
    const annotation = await berth(["verify", "--key", pubPath, "-a", "env=staging", image]);
    expect(annotation.code).toBe(1);
  });

  it("verify exits 1 for an unsigned image and says so", async () => {
    const layout = await syntheticImageLayout(join(work, "unsigned"), "1.0", {
      label: "unsigned",
      layers: [{ seed: "u", size: 1024 }],
    });
    await berthOk(["copy", layout.reference, `${server.host}/team/unsigned:1.0`]);
    const r = await berth(["verify", "--key", pubPath, `${server.host}/team/unsigned:1.0`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no signatures found/);
  });
});

describe("signatures made outside Berth (openssl)", () => {
  let extKey: string;
  let extPub: string;
  let subject: string;
  const repo = "team/external";

  beforeAll(async () => {
    extKey = join(work, "ext.pem");
    extPub = join(work, "ext.pub");
    await runOk("openssl", ["ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", extKey]);
    await runOk("openssl", ["ec", "-in", extKey, "-pubout", "-out", extPub]);
    const layout = await syntheticImageLayout(join(work, "ext"), "1.0", {
      label: "external",
      layers: [{ seed: "ext", size: 2048 }],
    });
    await berthOk(["copy", layout.reference, `${server.host}/${repo}:1.0`]);
    subject = layout.manifest.digest;
  });

  async function pushSignature(payload: Buffer, signedBytes: Buffer): Promise<void> {
    const msg = join(work, `ext-msg-${Math.random()}`);
    await writeFile(msg, signedBytes);
    const der = await runOk("openssl", ["dgst", "-sha256", "-sign", extKey, "-binary", msg], {});
    // runOk gives text; sign again into a file to keep the DER bytes exact
    const sigFile = `${msg}.sig`;
    await runOk("openssl", ["dgst", "-sha256", "-sign", extKey, "-out", sigFile, msg]);
    expect(der.code).toBe(0);
    const sig = await readFile(sigFile);
    const layer = blobOf(payload, SIMPLE_SIGNING_MEDIA_TYPE, {
      [SIGNATURE_ANNOTATION]: sig.toString("base64"),
    });
    const { manifest, config } = tagSchemeManifest([], layer.descriptor);
    await client.uploadBlob(repo, layer.descriptor, Readable.from([layer.bytes]));
    await client.uploadBlob(repo, config.descriptor, Readable.from([config.bytes]));
    await client.putManifest(
      repo,
      attachmentTag(subject, "sig"),
      Buffer.from(JSON.stringify(manifest)),
      MediaType.OciManifest,
    );
  }

  function payloadFor(digest: string): Buffer {
    return Buffer.from(
      JSON.stringify({
        critical: {
          identity: { "docker-reference": `${server.host}/${repo}` },
          image: { "docker-manifest-digest": digest },
          type: "cosign container image signature",
        },
        optional: null,
      }),
    );
  }

  it("verifies with berth verify", async () => {
    await pushSignature(payloadFor(subject), payloadFor(subject));
    const r = await berth(["verify", "--key", extPub, `${server.host}/${repo}:1.0`]);
    expect(r.code, r.stderr).toBe(0);
    expect((await berth(["verify", "--key", pubPath, `${server.host}/${repo}:1.0`])).code).toBe(1);
  });

  it("a tampered payload does not verify", async () => {
    const honest = payloadFor(subject);
    const tampered = Buffer.from(
      honest
        .toString()
        .replace("cosign container image signature", "cosign container image signature")
        .replace('"optional":null', '"optional":{"x":"y"}'),
    );
    await pushSignature(tampered, honest);
    const r = await berth(["verify", "--key", extPub, `${server.host}/${repo}:1.0`]);
    expect(r.code).toBe(1);
  });

  it("a payload naming another digest does not verify", async () => {
    const other = `sha256:${createHash("sha256").update("another image").digest("hex")}`;
    await pushSignature(payloadFor(other), payloadFor(other));
    const r = await berth([
      "verify",
      "--key",
      extPub,
      "--format",
      "json",
      `${server.host}/${repo}:1.0`,
    ]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.verified).toBe(false);
    expect(
      doc.signatures.some((s: { reason: string }) => s.reason.includes(`not ${subject}`)),
    ).toBe(true);
  });
});

describe("Sigstore bundles (cosign 3's default format)", () => {
  let bundleBytes: Buffer;
  const repo = "team/bundled";
  let subject: string;

  beforeAll(async () => {
    const layout = await syntheticImageLayout(join(work, "bundled"), "1.0", {
      label: "bundled",
      layers: [{ seed: "b", size: 4096 }],
    });
    await berthOk(["copy", layout.reference, `${server.host}/${repo}:1.0`]);
    subject = layout.manifest.digest;
    await berthOk(["sign", "--key", keyPath, "--new-bundle-format", `${server.host}/${repo}:1.0`], {
      env,
    });
    const referrers = await client.referrers(repo, subject);
    const entry = referrers.find(
      (r) => r.artifactType === "application/vnd.dev.sigstore.bundle.v0.3+json",
    );
    expect(entry, JSON.stringify(referrers)).toBeDefined();
    expect(entry!.annotations?.["dev.sigstore.bundle.content"]).toBe("dsse-envelope");
    const m = await manifestJson(repo, entry!.digest);
    expect(m.doc.subject?.digest).toBe(subject);
    expect(m.doc.config.mediaType).toBe(MediaType.OciEmpty);
    const layer = m.doc.layers[0]!;
    bundleBytes = await blobBytes(repo, layer.digest, layer.size, layer.mediaType);
  });

  it("the DSSE signature verifies with openssl over its PAE encoding", async () => {
    const bundle = JSON.parse(bundleBytes.toString());
    const env = bundle.dsseEnvelope;
    const payload = Buffer.from(env.payload, "base64");
    const statement = JSON.parse(payload.toString());
    expect(statement.subject[0].digest.sha256).toBe(subject.slice("sha256:".length));
    const pae = preAuthEncoding(env.payloadType, payload);
    expect(pae.subarray(0, 7).toString()).toBe("DSSEv1 ");
    expect(await opensslVerify(pubPath, pae, Buffer.from(env.signatures[0].sig, "base64"))).toBe(
      true,
    );
  });

  it("sigstore's JS verifier accepts the bundle with the public key", async () => {
    const bundle = bundleFromJSON(JSON.parse(bundleBytes.toString()));
    const pem = await readFile(pubPath, "utf8");
    const hint =
      bundle.verificationMaterial.content.$case === "publicKey"
        ? bundle.verificationMaterial.content.publicKey.hint
        : "";
    const trust = toTrustMaterial(
      {
        mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        tlogs: [],
        certificateAuthorities: [],
        ctlogs: [],
        timestampAuthorities: [],
      },
      {
        [hint]: {
          rawBytes: createPublicKey(pem).export({ type: "spki", format: "der" }),
          keyDetails: 5,
          validFor: { start: new Date(0) },
        } as never,
      },
    );
    const verifier = new Verifier(trust, {
      tlogThreshold: 0,
      ctlogThreshold: 0,
      timestampThreshold: 0,
    });
    expect(() => verifier.verify(toSignedEntity(bundle))).not.toThrow();
  });

  it("berth verify accepts the bundle with its key and rejects it with another", async () => {
    const ok = await berth(["verify", "--key", pubPath, `${server.host}/${repo}:1.0`]);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/^verified {2}bundle {2}referrer/m);
    expect((await berth(["verify", "--key", otherPub, `${server.host}/${repo}:1.0`])).code).toBe(1);
  });
});

describe("attestations, tree, download, SBOM attach, referrers mode and --recursive", () => {
  it("attest + verify-attestation print the verified statement of the asked type", async () => {
    const predicate = join(work, "provenance.json");
    await writeFile(
      predicate,
      JSON.stringify({ buildDefinition: { buildType: "https://example.test/build" } }),
    );
    await berthOk(
      ["attest", "--key", keyPath, "--type", "slsaprovenance1", "--predicate", predicate, image],
      { env },
    );
    await berthOk(
      [
        "attest",
        "--key",
        keyPath,
        "--type",
        "openvex",
        "--predicate",
        predicate,
        "--new-bundle-format",
        image,
      ],
      { env },
    );
    const r = await berth([
      "verify-attestation",
      "--key",
      pubPath,
      "--type",
      "slsaprovenance1",
      image,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const statement = JSON.parse(r.stdout.trim().split("\n")[0]!);
    expect(statement.predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(statement.predicate.buildDefinition.buildType).toBe("https://example.test/build");
    const vex = await berth([
      "verify-attestation",
      "--key",
      pubPath,
      "--type",
      "openvex",
      "--format",
      "json",
      image,
    ]);
    expect(vex.code).toBe(0);
    expect(JSON.parse(vex.stdout).verified[0]).toMatchObject({
      format: "bundle",
      predicateType: "https://openvex.dev/ns",
    });
    expect(
      (await berth(["verify-attestation", "--key", pubPath, "--type", "spdxjson", image])).code,
    ).toBe(1);
    expect((await berth(["verify-attestation", "--key", otherPub, image])).code).toBe(1);
    expect(
      (
        await berth(
          ["attest", "--key", keyPath, "--type", "nonsense", "--predicate", predicate, image],
          { env },
        )
      ).code,
    ).toBe(2);
  });

  it("sbom --attach stores a referrer that download sbom and tree show", async () => {
    await berthOk([
      "sbom",
      image,
      "--format",
      "spdx-json",
      "--attach",
      "-o",
      join(work, "sbom.json"),
    ]);
    const sbom = await berthOk(["download", "sbom", image]);
    expect(JSON.parse(sbom.stdout.trim()).spdxVersion).toBe("SPDX-2.3");
    const tree = await berthOk(["tree", "--format", "json", image]);
    const doc = JSON.parse(tree.stdout);
    const kinds = doc.attachments.map(
      (a: { kind: string; artifactType?: string }) => a.artifactType ?? a.kind,
    );
    expect(kinds).toEqual(
      expect.arrayContaining([
        "sig",
        "att",
        "application/spdx+json",
        "application/vnd.dev.sigstore.bundle.v0.3+json",
      ]),
    );
    const text = await berthOk(["tree", image]);
    expect(text.stdout).toContain(`sig (tag ${attachmentTag(imageDigest, "sig")})`);
  });

  it("download signature prints cosign's JSON lines", async () => {
    const r = await berthOk(["download", "signature", image]);
    const first = JSON.parse(r.stdout.trim().split("\n")[0]!);
    expect(
      JSON.parse(Buffer.from(first.Payload, "base64").toString()).critical.image[
        "docker-manifest-digest"
      ],
    ).toBe(imageDigest);
    expect(first.Base64Signature).toMatch(/^[A-Za-z0-9+/=]+$/);
    const att = await berthOk(["download", "attestation", image]);
    expect(att.stdout.trim().split("\n").length).toBeGreaterThanOrEqual(2);
  });

  it("--registry-referrers-mode oci-1-1 stores the signature as a referrer", async () => {
    const layout = await syntheticImageLayout(join(work, "ref11"), "1.0", {
      label: "oci11",
      layers: [{ seed: "r", size: 1024 }],
    });
    const ref = `${server.host}/team/oci11:1.0`;
    await berthOk(["copy", layout.reference, ref]);
    await berthOk(["sign", "--key", keyPath, "--registry-referrers-mode", "oci-1-1", ref], { env });
    const referrers = await client.referrers("team/oci11", layout.manifest.digest);
    expect(referrers.map((r) => r.artifactType)).toContain(
      "application/vnd.dev.cosign.artifact.sig.v1+json",
    );
    expect((await berth(["verify", "--key", pubPath, ref])).code).toBe(0);
  });

  it("--recursive signs an index and every platform image", async () => {
    const multi = await twoPlatformIndexLayout(join(work, "multi"), "1.0", "signmulti");
    const ref = `${server.host}/team/multi:1.0`;
    await berthOk(["copy", "--all", multi.reference, ref]);
    const r = await berthOk(["sign", "--key", keyPath, "--recursive", "--format", "json", ref], {
      env,
    });
    expect(JSON.parse(r.stdout).signed).toHaveLength(3);
    for (const { image: child } of multi.images) {
      const v = await berth([
        "verify",
        "--key",
        pubPath,
        `${server.host}/team/multi@${child.manifest.digest}`,
      ]);
      expect(v.code, v.stderr).toBe(0);
    }
  });

  it("a wrong password is a usage error naming the key file", async () => {
    const r = await berth(["sign", "--key", keyPath, image], { env: { COSIGN_PASSWORD: "wrong" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/wrong password/);
  });
});
