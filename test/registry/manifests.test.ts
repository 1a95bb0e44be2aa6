// Manifest endpoints: PUT/GET/HEAD/DELETE by tag and digest, validation errors, size limit,
// subject + OCI-Subject, indexes with children, and Accept negotiation for manifest lists.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  errorCode,
  OCI_INDEX,
  OCI_MANIFEST,
  pushBlob,
  pushImage,
  randomBytes,
  sha256,
  startTestRegistry,
  type TestRegistry,
} from "./harness.js";

let registry: TestRegistry;
let url: string;

beforeAll(async () => {
  registry = await startTestRegistry({ env: { BERTH_MAX_MANIFEST_BYTES: "64KiB" } });
  url = registry.url;
});
afterAll(async () => {
  await registry.destroy();
});

function putManifest(
  repository: string,
  reference: string,
  body: Buffer | string,
  type = OCI_MANIFEST,
) {
  return fetch(`${url}/v2/${repository}/manifests/${reference}`, {
    method: "PUT",
    headers: { "Content-Type": type },
    body,
  });
}

describe("push and pull", () => {
  it("stores by tag and serves the exact bytes by tag and digest", async () => {
    const image = await pushImage(url, "m/app", "v1");
    for (const ref of ["v1", image.digest]) {
      const res = await fetch(`${url}/v2/m/app/manifests/${ref}`, {
        headers: { Accept: OCI_MANIFEST },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(OCI_MANIFEST);
      expect(res.headers.get("docker-content-digest")).toBe(image.digest);
      expect(res.headers.get("content-length")).toBe(String(image.bytes.length));
      expect(Buffer.from(await res.arrayBuffer()).equals(image.bytes)).toBe(true);
    }
    const head = await fetch(`${url}/v2/m/app/manifests/v1`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("docker-content-digest")).toBe(image.digest);
    expect(head.headers.get("content-length")).toBe(String(image.bytes.length));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it("answers 201 with Location and Docker-Content-Digest, and accepts PUT by digest", async () => {
    const image = await pushImage(url, "m/bydigest", "tmp", { seed: 31 });
    const res = await putManifest("m/bydigest", image.digest, image.bytes);
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/v2/m/bydigest/manifests/${image.digest}`);
    expect(res.headers.get("docker-content-digest")).toBe(image.digest);
  });

  it("serves bytes exactly as pushed, whitespace included", async () => {
    const base = await pushImage(url, "m/ws", "base", { seed: 32 });
    const pretty = Buffer.from(JSON.stringify(JSON.parse(base.bytes.toString()), null, 3) + "\n");
    expect((await putManifest("m/ws", "pretty", pretty)).status).toBe(201);
    const res = await fetch(`${url}/v2/m/ws/manifests/pretty`);
    expect(Buffer.from(await res.arrayBuffer()).equals(pretty)).toBe(true);
    expect(res.headers.get("docker-content-digest")).toBe(sha256(pretty));
  });

  it("serves a manifest through the blob endpoint of its repository", async () => {
    const image = await pushImage(url, "m/asblob", "v1", { seed: 33 });
    const res = await fetch(`${url}/v2/m/asblob/blobs/${image.digest}`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(image.bytes)).toBe(true);
  });

  it("moves a tag to a new manifest", async () => {
    await pushImage(url, "m/retag", "latest", { seed: 34 });
    const second = await pushImage(url, "m/retag", "latest", { seed: 35 });
    const res = await fetch(`${url}/v2/m/retag/manifests/latest`, { method: "HEAD" });
    expect(res.headers.get("docker-content-digest")).toBe(second.digest);
  });

  it("stores a Docker schema2 manifest with its own media type", async () => {
    const config = await pushBlob(url, "m/docker", Buffer.from("{}"));
    const layer = await pushBlob(url, "m/docker", randomBytes(100, 36));
    const type = "application/vnd.docker.distribution.manifest.v2+json";
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: type,
      config: {
        mediaType: "application/vnd.docker.container.image.v1+json",
        digest: config,
        size: 2,
      },
      layers: [
        {
          mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
          digest: layer,
          size: 100,
        },
      ],
    });
    expect((await putManifest("m/docker", "v1", manifest, type)).status).toBe(201);
    const res = await fetch(`${url}/v2/m/docker/manifests/v1`, { headers: { Accept: type } });
    expect(res.headers.get("content-type")).toBe(type);
  });
});

describe("validation", () => {
  it("rejects a manifest referencing a blob missing from this repository", async () => {
    const foreign = await pushBlob(url, "m/foreign", randomBytes(50, 40));
    const config = await pushBlob(url, "m/strict", Buffer.from("{}"));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: 2 },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: foreign, size: 50 }],
    });
    const res = await putManifest("m/strict", "v1", manifest);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { code: string; detail: { digest: string } }[] };
    expect(body.errors[0]!.code).toBe("MANIFEST_BLOB_UNKNOWN");
    expect(body.errors[0]!.detail.digest).toBe(foreign);
    expect((await fetch(`${url}/v2/m/strict/manifests/v1`)).status).toBe(404);
  });

  it("rejects invalid JSON and invalid documents with MANIFEST_INVALID", async () => {
    for (const body of [
      "not json",
      "[]",
      '{"schemaVersion":1}',
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}',
    ]) {
      const res = await putManifest("m/invalid", "v1", body);
      expect(res.status, body).toBe(400);
      expect(await errorCode(res)).toBe("MANIFEST_INVALID");
    }
  });

  it("rejects a Content-Type that contradicts the document's mediaType", async () => {
    const image = await pushImage(url, "m/ctype", "v1", { seed: 41 });
    const res = await putManifest("m/ctype", "v2", image.bytes, OCI_INDEX);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("MANIFEST_INVALID");
  });

  it("rejects a PUT by digest whose bytes have another digest", async () => {
    const image = await pushImage(url, "m/mismatch", "v1", { seed: 42 });
    const res = await putManifest("m/mismatch", sha256("other"), image.bytes);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("DIGEST_INVALID");
  });

  it("rejects an oversized manifest with 413 SIZE_INVALID", async () => {
    const big = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      annotations: { pad: "x".repeat(70_000) },
    });
    const res = await putManifest("m/big", "v1", big);
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe("SIZE_INVALID");
  });

  it("rejects invalid tags and names", async () => {
    const tooLong = "t".repeat(129);
    const res = await putManifest("m/tags", tooLong, "{}");
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("MANIFEST_INVALID");
    const name = await putManifest("M/Upper", "v1", "{}");
    expect(name.status).toBe(400);
    expect(await errorCode(name)).toBe("NAME_INVALID");
  });

  it("answers 404 MANIFEST_UNKNOWN to GET/HEAD of a reference that is neither tag nor digest", async () => {
    await pushImage(url, "m/badref", "v1", { seed: 77 });
    for (const ref of ["t".repeat(129), "-leading-dash", "sha256:zz", "bad%20tag", "sha256:"]) {
      const get = await fetch(`${url}/v2/m/badref/manifests/${ref}`);
      expect(get.status, ref).toBe(404);
      expect(await errorCode(get)).toBe("MANIFEST_UNKNOWN");
      const head = await fetch(`${url}/v2/m/badref/manifests/${ref}`, { method: "HEAD" });
      expect(head.status, ref).toBe(404);
    }
    // A PUT of such a reference is still the client's mistake: 400.
    const put = await putManifest("m/badref", "-leading-dash", "{}");
    expect(put.status).toBe(400);
  });

  it("answers MANIFEST_UNKNOWN for unknown tags and digests", async () => {
    for (const ref of ["nope", sha256("nope")]) {
      const res = await fetch(`${url}/v2/m/app/manifests/${ref}`);
      expect(res.status).toBe(404);
      expect(await errorCode(res)).toBe("MANIFEST_UNKNOWN");
    }
  });
});

describe("indexes", () => {
  async function pushIndex(repository: string, listType: string) {
    const amd = await pushImage(url, repository, "amd", { seed: 50 });
    const arm = await pushImage(url, repository, "arm", { seed: 51 });
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: listType,
        manifests: [
          {
            mediaType: OCI_MANIFEST,
            digest: arm.digest,
            size: arm.bytes.length,
            platform: { os: "linux", architecture: "arm64" },
          },
          {
            mediaType: OCI_MANIFEST,
            digest: amd.digest,
            size: amd.bytes.length,
            platform: { os: "linux", architecture: "amd64" },
          },
        ],
      }),
    );
    const res = await putManifest(repository, "multi", index, listType);
    expect(res.status).toBe(201);
    return { index, amd, arm };
  }

  it("stores an index whose children are in the repository", async () => {
    const { index } = await pushIndex("m/multi", OCI_INDEX);
    const res = await fetch(`${url}/v2/m/multi/manifests/multi`, {
      headers: { Accept: `${OCI_INDEX}, ${OCI_MANIFEST}` },
    });
    expect(res.headers.get("content-type")).toBe(OCI_INDEX);
    expect(Buffer.from(await res.arrayBuffer()).equals(index)).toBe(true);
  });

  it("rejects an index whose child manifest is missing", async () => {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: sha256("absent"), size: 10 }],
    });
    const res = await putManifest("m/multi-bad", "v1", index, OCI_INDEX);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("MANIFEST_BLOB_UNKNOWN");
  });

  it("gives a schema2-only client the linux/amd64 image of a Docker list by tag", async () => {
    const list = "application/vnd.docker.distribution.manifest.list.v2+json";
    const { index, amd } = await pushIndex("m/list", list);
    const old = await fetch(`${url}/v2/m/list/manifests/multi`, {
      headers: {
        Accept:
          "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
      },
    });
    expect(old.headers.get("docker-content-digest")).toBe(amd.digest);
    const modern = await fetch(`${url}/v2/m/list/manifests/multi`, {
      headers: { Accept: `${list}, ${OCI_MANIFEST}` },
    });
    expect(modern.headers.get("docker-content-digest")).toBe(sha256(index));
    const byDigest = await fetch(`${url}/v2/m/list/manifests/${sha256(index)}`, {
      headers: { Accept: OCI_MANIFEST },
    });
    expect(byDigest.headers.get("docker-content-digest")).toBe(sha256(index));
    const none = await fetch(`${url}/v2/m/list/manifests/multi`);
    expect(none.headers.get("docker-content-digest")).toBe(sha256(index));
  });
});

describe("subject", () => {
  it("returns OCI-Subject for a manifest with a subject, even if the subject is absent", async () => {
    const absent = sha256("not pushed");
    const res = await pushImage(url, "m/subject", "sig", {
      seed: 60,
      subject: { mediaType: OCI_MANIFEST, digest: absent, size: 10 },
    });
    const check = await fetch(`${url}/v2/m/subject/manifests/${res.digest}`);
    expect(check.status).toBe(200);
  });

  it("sends the OCI-Subject header on PUT", async () => {
    const target = await pushImage(url, "m/subject2", "v1", { seed: 61 });
    const config = await pushBlob(url, "m/subject2", Buffer.from("{}"));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/vnd.example.sig",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: config, size: 2 },
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: target.digest, size: target.bytes.length },
    });
    const res = await putManifest("m/subject2", sha256(manifest), manifest);
    expect(res.status).toBe(201);
    expect(res.headers.get("oci-subject")).toBe(target.digest);
  });
});

describe("DELETE", () => {
  it("deletes a tag and keeps the manifest", async () => {
    const image = await pushImage(url, "m/deltag", "v1", { seed: 70 });
    const res = await fetch(`${url}/v2/m/deltag/manifests/v1`, { method: "DELETE" });
    expect(res.status).toBe(202);
    expect((await fetch(`${url}/v2/m/deltag/manifests/v1`)).status).toBe(404);
    expect((await fetch(`${url}/v2/m/deltag/manifests/${image.digest}`)).status).toBe(200);
    const again = await fetch(`${url}/v2/m/deltag/manifests/v1`, { method: "DELETE" });
    expect(again.status).toBe(404);
  });

  it("deletes a manifest by digest together with its tags", async () => {
    const image = await pushImage(url, "m/delman", "v1", { seed: 71 });
    await putManifest("m/delman", "v2", image.bytes);
    const res = await fetch(`${url}/v2/m/delman/manifests/${image.digest}`, { method: "DELETE" });
    expect(res.status).toBe(202);
    expect((await fetch(`${url}/v2/m/delman/manifests/${image.digest}`)).status).toBe(404);
    expect((await fetch(`${url}/v2/m/delman/manifests/v1`)).status).toBe(404);
    const tags = (await (await fetch(`${url}/v2/m/delman/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toEqual([]);
    const gone = await fetch(`${url}/v2/m/delman/manifests/${image.digest}`, { method: "DELETE" });
    expect(gone.status).toBe(404);
    expect(await errorCode(gone)).toBe("MANIFEST_UNKNOWN");
  });
});
