// Records images a test has pushed (and the registry acknowledged) and checks later — after a
// crash, a restart, a concurrent storm — that each still pulls byte for byte: the manifest by
// tag and by digest with identical bytes and Docker-Content-Digest, and every blob it
// references streamed back and rehashed to its digest and size.
// It must never trust the registry's own answer about a digest: everything is rehashed here.
import { expect } from "vitest";
import { digestOf } from "../../src/oci/index.js";
import type { RegistryHttp } from "./registry-http.js";

export interface AcknowledgedImage {
  repository: string;
  tag: string;
  manifestBytes: Buffer;
  manifestDigest: string;
  blobs: { digest: string; size: number }[];
}

/** Builds the record from a manifest's bytes (config + layers are its blobs). */
export function acknowledgedImage(
  repository: string,
  tag: string,
  manifestBytes: Buffer,
): AcknowledgedImage {
  const manifest = JSON.parse(manifestBytes.toString()) as {
    config: { digest: string; size: number };
    layers: { digest: string; size: number }[];
  };
  return {
    repository,
    tag,
    manifestBytes,
    manifestDigest: digestOf(manifestBytes),
    blobs: [manifest.config, ...manifest.layers].map(({ digest, size }) => ({ digest, size })),
  };
}

export async function expectImagePullsIntact(
  http: RegistryHttp,
  image: AcknowledgedImage,
): Promise<void> {
  const name = `${image.repository}:${image.tag}`;
  for (const reference of [image.tag, image.manifestDigest]) {
    const answer = await http.getManifest(image.repository, reference);
    expect(answer.status, `GET manifest ${image.repository}@${reference}`).toBe(200);
    expect(digestOf(answer.body), `manifest bytes of ${name} by ${reference}`).toBe(
      image.manifestDigest,
    );
    expect(answer.headers["docker-content-digest"]).toBe(image.manifestDigest);
  }
  for (const blob of image.blobs) {
    const pulled = await http.hashBlob(image.repository, blob.digest);
    expect(pulled, `blob ${blob.digest} of ${name}`).toEqual({
      status: 200,
      digest: blob.digest,
      size: blob.size,
    });
  }
}
