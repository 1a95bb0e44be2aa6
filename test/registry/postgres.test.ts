// PostgreSQL as the metadata database: the metadata contract suite, then the registry
// itself on PostgreSQL (push, pull, tags, referrers, delete) through HTTP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/meta/index.js";
import { pushImage, startTestRegistry, type TestRegistry } from "./harness.js";
import { describeMetaContract } from "./meta-contract.js";
import { type PostgresServer, startPostgres } from "./postgres-server.js";

let postgres: PostgresServer;
let counter = 0;

beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

describeMetaContract("postgres", async () => {
  const url = await postgres.createDatabase(`contract_${++counter}`);
  return openDatabase({ driver: "postgres", url, poolSize: 4 });
});

describe("registry on postgres", () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    const url = await postgres.createDatabase("registry");
    registry = await startTestRegistry({
      env: { BERTH_DATABASE_DRIVER: "postgres", BERTH_DATABASE_URL: url },
    });
  });
  afterAll(async () => {
    await registry?.destroy();
  });

  it("pushes, pulls, lists, finds referrers and deletes", async () => {
    const url = registry.url;
    const image = await pushImage(url, "pg/app", "v1");
    const got = await fetch(`${url}/v2/pg/app/manifests/v1`);
    expect(Buffer.from(await got.arrayBuffer()).equals(image.bytes)).toBe(true);
    const blob = await fetch(`${url}/v2/pg/app/blobs/${image.layers[0]}`, { method: "HEAD" });
    expect(blob.headers.get("content-length")).toBe("1000");
    const sig = await pushImage(url, "pg/app", "sig", {
      seed: 2,
      subject: {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: image.digest,
        size: image.bytes.length,
      },
    });
    const referrers = (await (
      await fetch(`${url}/v2/pg/app/referrers/${image.digest}`)
    ).json()) as {
      manifests: { digest: string }[];
    };
    expect(referrers.manifests.map((m) => m.digest)).toEqual([sig.digest]);
    const tags = (await (await fetch(`${url}/v2/pg/app/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toEqual(["sig", "v1"]);
    expect(
      (await fetch(`${url}/v2/pg/app/manifests/${image.digest}`, { method: "DELETE" })).status,
    ).toBe(202);
    expect((await fetch(`${url}/v2/pg/app/manifests/v1`)).status).toBe(404);
    const catalog = (await (await fetch(`${url}/v2/_catalog`)).json()) as {
      repositories: string[];
    };
    expect(catalog.repositories).toEqual(["pg/app"]);
  });
});
