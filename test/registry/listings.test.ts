// Tag listing, catalog and referrers: sorting, n/last pagination with Link headers and its
// edges (n=0, past the end, invalid n), unknown repositories, and the referrers index with
// its artifactType filter.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  errorCode,
  OCI_INDEX,
  OCI_MANIFEST,
  pushBlob,
  pushImage,
  sha256,
  startTestRegistry,
  type TestRegistry,
} from "./harness.js";

let registry: TestRegistry;
let url: string;
const TAGS = ["v10", "V2", "a", "latest", "v1", "1.0", "_x"];

beforeAll(async () => {
  registry = await startTestRegistry();
  url = registry.url;
  const image = await pushImage(url, "list/app", TAGS[0]!);
  for (const tag of TAGS.slice(1)) {
    const res = await fetch(`${url}/v2/list/app/manifests/${tag}`, {
      method: "PUT",
      headers: { "Content-Type": OCI_MANIFEST },
      body: image.bytes,
    });
    expect(res.status).toBe(201);
  }
  for (const name of ["list/b", "list/a", "list/c/deep"]) await pushImage(url, name, "v1");
});
afterAll(async () => {
  await registry.destroy();
});

async function tags(query = "") {
  const res = await fetch(`${url}/v2/list/app/tags/list${query}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { name: string; tags: string[] };
  return { body, link: res.headers.get("link") };
}

describe("tags/list", () => {
  it("lists every tag in byte order", async () => {
    const { body, link } = await tags();
    expect(body.name).toBe("list/app");
    expect(body.tags).toEqual([...TAGS].sort());
    expect(link).toBeNull();
  });

  it("paginates with n and last and a Link header", async () => {
    const sorted = [...TAGS].sort();
    const seen: string[] = [];
    let query = "?n=3";
    for (let page = 0; page < 10; page++) {
      const { body, link } = await tags(query);
      seen.push(...body.tags);
      if (!link) break;
      expect(body.tags.length).toBe(3);
      const m = /^<(\/v2\/list\/app\/tags\/list\?[^>]+)>; rel="next"$/.exec(link);
      expect(m).not.toBeNull();
      query = m![1]!.slice("/v2/list/app/tags/list".length);
    }
    expect(seen).toEqual(sorted);
  });

  it("handles the pagination edges", async () => {
    const sorted = [...TAGS].sort();
    const zero = await tags("?n=0");
    expect(zero.body.tags).toEqual([]);
    expect(zero.link).toBeNull();
    const exact = await tags(`?n=${TAGS.length}`);
    expect(exact.body.tags).toEqual(sorted);
    expect(exact.link).toBeNull();
    const after = await tags(`?last=${sorted[4]}`);
    expect(after.body.tags).toEqual(sorted.slice(5));
    const past = await tags(`?n=2&last=zzz`);
    expect(past.body.tags).toEqual([]);
    expect(past.link).toBeNull();
    const bad = await fetch(`${url}/v2/list/app/tags/list?n=-1`);
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe("PAGINATION_NUMBER_INVALID");
  });

  it("answers NAME_UNKNOWN for an unknown repository", async () => {
    const res = await fetch(`${url}/v2/list/missing/tags/list`);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("NAME_UNKNOWN");
  });
});

describe("_catalog", () => {
  it("lists repositories sorted and paginated", async () => {
    const all = (await (await fetch(`${url}/v2/_catalog`)).json()) as { repositories: string[] };
    expect(all.repositories).toEqual(["list/a", "list/app", "list/b", "list/c/deep"]);
    const first = await fetch(`${url}/v2/_catalog?n=2`);
    expect(((await first.json()) as { repositories: string[] }).repositories).toEqual([
      "list/a",
      "list/app",
    ]);
    expect(first.headers.get("link")).toBe('</v2/_catalog?n=2&last=list%2Fapp>; rel="next"');
    const second = await fetch(`${url}/v2/_catalog?n=2&last=list%2Fapp`);
    expect(((await second.json()) as { repositories: string[] }).repositories).toEqual([
      "list/b",
      "list/c/deep",
    ]);
    expect(second.headers.get("link")).toBeNull();
    const zero = await fetch(`${url}/v2/_catalog?n=0`);
    expect(((await zero.json()) as { repositories: string[] }).repositories).toEqual([]);
  });
});

describe("referrers", () => {
  it("returns an empty index when nothing refers to the digest, and for unknown repositories", async () => {
    for (const repo of ["list/app", "list/none"]) {
      const res = await fetch(`${url}/v2/${repo}/referrers/${sha256("nothing")}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(OCI_INDEX);
      expect(await res.json()).toEqual({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    }
  });

  it("lists referrers with artifactType and annotations, and filters by artifactType", async () => {
    const subjectImage = await pushImage(url, "ref/app", "v1", { seed: 90 });
    const subject = {
      mediaType: OCI_MANIFEST,
      digest: subjectImage.digest,
      size: subjectImage.bytes.length,
    };
    const sig = await pushImage(url, "ref/app", "sig", {
      seed: 91,
      subject,
      artifactType: "application/vnd.example.signature",
      annotations: { "org.example.signer": "alice" },
    });
    // Without artifactType the config media type is reported.
    const sbom = await pushImage(url, "ref/app", "sbom", { seed: 92, subject });
    // An artifact in another repository never shows up here.
    await pushBlob(url, "ref/other", Buffer.from("x"));
    await pushImage(url, "ref/other", "sig", {
      seed: 93,
      subject,
      artifactType: "application/vnd.example.signature",
    });

    const res = await fetch(`${url}/v2/ref/app/referrers/${subjectImage.digest}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("oci-filters-applied")).toBeNull();
    const index = (await res.json()) as { manifests: Record<string, unknown>[] };
    expect(index.manifests).toHaveLength(2);
    const bySig = index.manifests.find((m) => m.digest === sig.digest)!;
    expect(bySig).toEqual({
      mediaType: OCI_MANIFEST,
      digest: sig.digest,
      size: sig.bytes.length,
      artifactType: "application/vnd.example.signature",
      annotations: { "org.example.signer": "alice" },
    });
    const bySbom = index.manifests.find((m) => m.digest === sbom.digest)!;
    expect(bySbom.artifactType).toBe("application/vnd.oci.image.config.v1+json");

    const filtered = await fetch(
      `${url}/v2/ref/app/referrers/${subjectImage.digest}?artifactType=application/vnd.example.signature`,
    );
    expect(filtered.headers.get("oci-filters-applied")).toBe("artifactType");
    const only = (await filtered.json()) as { manifests: { digest: string }[] };
    expect(only.manifests.map((m) => m.digest)).toEqual([sig.digest]);
  });

  it("answers 400 for a malformed digest", async () => {
    const res = await fetch(`${url}/v2/ref/app/referrers/sha256:bad`);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("DIGEST_INVALID");
  });
});
