// Interop: an OCI 1.1 artifact (empty config `application/vnd.oci.empty.v1+json`, artifactType
// set, one payload layer) with a `subject` pointing at an image pushed by skopeo. Two artifacts
// go up over raw HTTP (undici), a third with `skopeo copy` from an OCI layout; then
// `GET /v2/<name>/referrers/<digest>` must list them with artifactType and annotations, the `artifactType` filter must narrow the list (and say so in
// OCI-Filters-Applied), and a digest without referrers must answer an empty index, not 404.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Descriptor, ImageIndex } from "../../src/oci/index.js";
import { inspectRaw, skopeoCopy } from "../support/container-tools.js";
import { RegistryHttp } from "../support/registry-http.js";
import {
  printRegistryLogOnFailure,
  type RegistryUnderTest,
  startRegistryUnderTest,
} from "../support/registry-under-test.js";
import {
  type Artifact,
  artifactFor,
  artifactLayout,
  syntheticImageLayout,
  type WrittenImage,
} from "../support/synthetic-images.js";

const REPOSITORY = "team/with-referrers";
const SBOM_TYPE = "application/vnd.example.sbom.v1+json";
const SIGNATURE_TYPE = "application/vnd.example.signature.v1+json";
const ATTESTATION_TYPE = "application/vnd.example.attestation.v1+json";

describe("referrers of an image, with artifacts pushed over HTTP and by skopeo", {
  timeout: 240_000,
}, () => {
  let registry: RegistryUnderTest;
  printRegistryLogOnFailure(() => registry);
  let http: RegistryHttp;
  let work: string;
  let subject: WrittenImage;
  let sbom: Artifact;
  let signature: Artifact;
  let attestation: Artifact;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-interop-referrers-"));
    registry = await startRegistryUnderTest();
    http = new RegistryHttp(registry.url);
    const image = await syntheticImageLayout(join(work, "image"), "v1", {
      label: "referrers-subject",
      layers: [{ seed: "referrers-base", size: 32 * 1024 }],
    });
    subject = image;
    await skopeoCopy(image.reference, `docker://${registry.host}/${REPOSITORY}:v1`, [
      "--preserve-digests",
    ]);
    sbom = artifactFor(subject.manifest, SBOM_TYPE, '{"packages":[]}');
    signature = artifactFor(subject.manifest, SIGNATURE_TYPE, '{"signature":"not-really"}');
    attestation = artifactFor(subject.manifest, ATTESTATION_TYPE, '{"predicate":{}}');
  });

  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function pushArtifact(artifact: Artifact): Promise<void> {
    for (const blob of artifact.blobs)
      await http.pushBlob(REPOSITORY, blob.bytes, blob.descriptor.digest);
    const answer = await http.putManifest(
      REPOSITORY,
      artifact.manifest.digest,
      artifact.manifestBytes,
      artifact.manifest.mediaType,
    );
    expect(answer.status, answer.body.toString()).toBe(201);
    expect(answer.headers["docker-content-digest"]).toBe(artifact.manifest.digest);
    expect(answer.headers["oci-subject"]).toBe(subject.manifest.digest);
  }

  function entryFor(index: ImageIndex, artifact: Artifact): Descriptor | undefined {
    return index.manifests.find((m) => m.digest === artifact.manifest.digest);
  }

  it("accepts artifact manifests with a subject and serves them byte for byte", async () => {
    await pushArtifact(sbom);
    await pushArtifact(signature);
    const layout = await artifactLayout(join(work, "attestation"), "att", attestation);
    await skopeoCopy(layout, `docker://${registry.host}/${REPOSITORY}:attestation`, [
      "--preserve-digests",
    ]);
    const copied = await inspectRaw(`docker://${registry.host}/${REPOSITORY}:attestation`);
    expect(copied.digest).toBe(attestation.manifest.digest);
    const stored = await inspectRaw(
      `docker://${registry.host}/${REPOSITORY}@${sbom.manifest.digest}`,
    );
    expect(stored.bytes.equals(sbom.manifestBytes)).toBe(true);
    expect(stored.json.subject?.digest).toBe(subject.manifest.digest);
  });

  it("lists every artifact as a referrer of the image, with artifactType and annotations", async () => {
    const answer = await http.referrers(REPOSITORY, subject.manifest.digest);
    expect(answer.status, answer.body.toString()).toBe(200);
    expect(answer.headers["content-type"]).toMatch(
      /^application\/vnd\.oci\.image\.index\.v1\+json/,
    );
    const index = JSON.parse(answer.body.toString()) as ImageIndex;
    expect(index.schemaVersion).toBe(2);
    expect(index.manifests).toHaveLength(3);
    for (const artifact of [sbom, signature, attestation]) {
      const entry = entryFor(index, artifact);
      expect(entry, `referrer ${artifact.artifactType}`).toMatchObject({
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: artifact.manifest.digest,
        size: artifact.manifest.size,
        artifactType: artifact.artifactType,
        annotations: { "berth.test": artifact.artifactType },
      });
    }
  });

  it("filters referrers by artifactType and says so in OCI-Filters-Applied", async () => {
    const answer = await http.referrers(REPOSITORY, subject.manifest.digest, SBOM_TYPE);
    expect(answer.status).toBe(200);
    expect(answer.headers["oci-filters-applied"]).toBe("artifactType");
    const index = JSON.parse(answer.body.toString()) as ImageIndex;
    expect(index.manifests.map((m) => m.digest)).toEqual([sbom.manifest.digest]);
    expect(index.manifests[0]?.artifactType).toBe(SBOM_TYPE);

    const none = await http.referrers(
      REPOSITORY,
      subject.manifest.digest,
      "application/vnd.example.nothing",
    );
    expect(none.status).toBe(200);
    expect((JSON.parse(none.body.toString()) as ImageIndex).manifests).toEqual([]);
  });

  it("answers an empty index (not 404) for a digest nothing refers to", async () => {
    const answer = await http.referrers(REPOSITORY, sbom.manifest.digest);
    expect(answer.status).toBe(200);
    const index = JSON.parse(answer.body.toString()) as ImageIndex;
    expect(index.manifests).toEqual([]);
  });
});
