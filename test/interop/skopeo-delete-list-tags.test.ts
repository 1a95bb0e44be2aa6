// Interop: `skopeo list-tags` sees every tag pushed (sorted, more than one page's worth for a
// small `n`), and `skopeo delete` removes a manifest by digest: afterwards the digest and every
// tag pointing at it answer 404 MANIFEST_UNKNOWN, while other images of the repository still
// pull intact.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectRaw, listTags, skopeo, skopeoCopy } from "../support/container-tools.js";
import { run } from "../support/process-control.js";
import { RegistryHttp } from "../support/registry-http.js";
import {
  printRegistryLogOnFailure,
  type RegistryUnderTest,
  startRegistryUnderTest,
} from "../support/registry-under-test.js";
import { syntheticImageLayout, type WrittenImage } from "../support/synthetic-images.js";

const REPOSITORY = "team/tagged";
const TAGS_OF_FIRST = ["1.0", "1.0.0", "latest"];
const TAGS_OF_SECOND = ["2.0", "stable"];

describe("skopeo list-tags and skopeo delete", { timeout: 240_000 }, () => {
  let registry: RegistryUnderTest;
  printRegistryLogOnFailure(() => registry);
  let work: string;
  let first: WrittenImage & { reference: string };
  let second: WrittenImage & { reference: string };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-interop-tags-"));
    registry = await startRegistryUnderTest();
    first = await syntheticImageLayout(join(work, "first"), "src", {
      label: "first",
      layers: [{ seed: "tags-shared", size: 16 * 1024 }],
    });
    second = await syntheticImageLayout(join(work, "second"), "src", {
      label: "second",
      layers: [
        { seed: "tags-shared", size: 16 * 1024 },
        { seed: "tags-second", size: 8 * 1024 },
      ],
    });
    for (const tag of TAGS_OF_FIRST) {
      await skopeoCopy(first.reference, `docker://${registry.host}/${REPOSITORY}:${tag}`, [
        "--preserve-digests",
      ]);
    }
    for (const tag of TAGS_OF_SECOND) {
      await skopeoCopy(second.reference, `docker://${registry.host}/${REPOSITORY}:${tag}`, [
        "--preserve-digests",
      ]);
    }
  });

  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("lists every tag, sorted", async () => {
    const tags = await listTags(`${registry.host}/${REPOSITORY}`);
    expect(tags).toEqual([...TAGS_OF_FIRST, ...TAGS_OF_SECOND].sort());
  });

  it("pages the tag list with n and last, with a Link header to the next page", async () => {
    const http = new RegistryHttp(registry.url);
    const page = await http.send("GET", `/v2/${REPOSITORY}/tags/list?n=2`);
    expect(page.status).toBe(200);
    expect(JSON.parse(page.body.toString())).toEqual({ name: REPOSITORY, tags: ["1.0", "1.0.0"] });
    expect(page.headers.link).toMatch(
      /<[^>]*\/v2\/team\/tagged\/tags\/list\?[^>]*last=1\.0\.0[^>]*>;\s*rel="next"/,
    );
    const next = await http.send("GET", `/v2/${REPOSITORY}/tags/list?n=2&last=1.0.0`);
    expect(JSON.parse(next.body.toString()).tags).toEqual(["2.0", "latest"]);
  });

  it("deletes a manifest by digest: its tags go, the other image stays", async () => {
    await skopeo([
      "delete",
      "--tls-verify=false",
      `docker://${registry.host}/${REPOSITORY}@${first.manifest.digest}`,
    ]);

    const http = new RegistryHttp(registry.url);
    for (const reference of [first.manifest.digest, ...TAGS_OF_FIRST]) {
      const answer = await http.getManifest(REPOSITORY, reference);
      expect(answer.status, reference).toBe(404);
      expect(JSON.parse(answer.body.toString()).errors[0].code).toBe("MANIFEST_UNKNOWN");
    }
    const gone = await run("skopeo", [
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${registry.host}/${REPOSITORY}:latest`,
    ]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/manifest unknown/i);

    expect(await listTags(`${registry.host}/${REPOSITORY}`)).toEqual([...TAGS_OF_SECOND].sort());
    const survivor = await inspectRaw(`docker://${registry.host}/${REPOSITORY}:stable`);
    expect(survivor.digest).toBe(second.manifest.digest);
    for (const layer of second.layers) {
      expect(await http.hashBlob(REPOSITORY, layer.digest)).toEqual({
        status: 200,
        digest: layer.digest,
        size: layer.size,
      });
    }
  });

  it("deletes by tag reference when asked through skopeo (tag resolves to a digest)", async () => {
    await skopeo(["delete", "--tls-verify=false", `docker://${registry.host}/${REPOSITORY}:2.0`]);
    const tags = await run("skopeo", [
      "list-tags",
      "--tls-verify=false",
      `docker://${registry.host}/${REPOSITORY}`,
    ]);
    // Every tag of the second image went with its manifest; an empty repository lists no tags.
    if (tags.code === 0) expect((JSON.parse(tags.stdout) as { Tags: string[] }).Tags).toEqual([]);
    else expect(tags.stderr).toMatch(/name unknown|not found|404/i);
  });
});
