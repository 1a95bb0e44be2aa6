// Writes a tar laid out exactly as `docker save` of Docker 25+ writes it: directory entries,
// `blobs/sha256/` holding the layers, the image config and the manifest — with the graphdriver
// image store, uncompressed layer tars and an OCI manifest docker generates; with the containerd
// image store, the image's original (here: Docker schema 2, gzip layers) manifest as pulled; `index.json` whose entries carry
// `io.containerd.image.name` (fully qualified) and `org.opencontainers.image.ref.name` (the tag);
// `manifest.json` whose `Config`/`Layers` point into `blobs/sha256/` (with `LayerSources`);
// `oci-layout` and `repositories`. For tests that read Docker-produced archives; no I/O but the
// one tar it writes.
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { digestOf, MediaType } from "../../src/oci/index.js";
import { syntheticLayer } from "./synthetic-images.js";

export interface Docker25Archive {
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
}

/** One image named `name:tag` (familiar, e.g. `example/app:1.0`) with layers of these seeds. */
export async function writeDocker25Archive(
  file: string,
  repoTag: string,
  layerSeeds: string[],
  store: "graphdriver" | "containerd" = "graphdriver",
): Promise<Docker25Archive> {
  const made = await Promise.all(layerSeeds.map((seed) => syntheticLayer({ seed, size: 20_000 })));
  const compressed = store === "containerd";
  const layers = made.map((l) => ({
    diffId: l.diffId,
    bytes: compressed ? l.gzip : l.tar,
    digest: compressed ? l.descriptor.digest : l.diffId,
    mediaType: compressed ? MediaType.DockerLayerGzip : MediaType.OciLayer,
  }));
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      created: "2024-02-01T00:00:00Z",
      config: { Cmd: ["/bin/sh"], Labels: { "berth.test.label": "docker25" } },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created: "2024-02-01T00:00:00Z", created_by: "COPY . /" })),
    }),
  );
  const configDigest = digestOf(config);
  const manifestType = compressed ? MediaType.DockerManifest : MediaType.OciManifest;
  const configType = compressed ? MediaType.DockerConfig : MediaType.OciConfig;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestType,
      config: { mediaType: configType, digest: configDigest, size: config.length },
      layers: layers.map((l) => ({
        mediaType: l.mediaType,
        digest: l.digest,
        size: l.bytes.length,
      })),
    }),
  );
  const manifestDigest = digestOf(manifest);
  const hex = (d: string) => d.slice("sha256:".length);
  const qualified = repoTag.includes("/") ? `docker.io/${repoTag}` : `docker.io/library/${repoTag}`;
  const colon = repoTag.lastIndexOf(":");
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [
      {
        mediaType: manifestType,
        digest: manifestDigest,
        size: manifest.length,
        annotations: {
          "io.containerd.image.name": qualified,
          "org.opencontainers.image.ref.name": repoTag.slice(colon + 1),
        },
      },
    ],
  };
  const dockerManifest = [
    {
      Config: `blobs/sha256/${hex(configDigest)}`,
      RepoTags: [repoTag],
      Layers: layers.map((l) => `blobs/sha256/${hex(l.digest)}`),
      LayerSources: Object.fromEntries(
        layers.map((l) => [
          l.diffId,
          { mediaType: l.mediaType, size: l.bytes.length, digest: l.digest },
        ]),
      ),
    },
  ];
  const top = layers[layers.length - 1];
  const repositories = {
    [repoTag.slice(0, colon)]: { [repoTag.slice(colon + 1)]: top ? hex(top.digest) : "" },
  };
  const pack = tar.pack();
  const writing = pipeline(pack, createWriteStream(file));
  const add = (name: string, bytes: Buffer) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name, size: bytes.length, mode: 0o644, mtime: new Date(0) }, bytes, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  const dir = (name: string) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name, type: "directory", mode: 0o755, mtime: new Date(0) }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  await dir("blobs");
  await dir("blobs/sha256");
  for (const layer of layers) await add(`blobs/sha256/${hex(layer.digest)}`, layer.bytes);
  await add(`blobs/sha256/${hex(configDigest)}`, config);
  await add(`blobs/sha256/${hex(manifestDigest)}`, manifest);
  await add("index.json", Buffer.from(JSON.stringify(index)));
  await add("manifest.json", Buffer.from(JSON.stringify(dockerManifest)));
  await add("oci-layout", Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  await add("repositories", Buffer.from(JSON.stringify(repositories)));
  pack.finalize();
  await writing;
  return { manifestDigest, configDigest, layerDigests: layers.map((l) => l.digest) };
}
