// Storage accounting per scope on a real SQLite metadata database: usage counts each
// distinct blob and manifest once per scope, and a project's repositories are found exactly
// (a `_` in a project name is not a wildcard: "my_proj" never counts "myxproj").
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type MetaDatabase,
  openDatabase,
  putManifest,
  recordBlobInRepository,
} from "../../src/meta/index.js";
import { MetaStorageAccounting } from "../../src/policy/quotas.js";

let meta: MetaDatabase;
let dir: string;
const blob = (c: string) => `sha256:${c.repeat(64)}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-accounting-"));
  meta = await openDatabase({ driver: "sqlite", path: join(dir, "meta.db") });
  const store = async (repository: string, layer: string, size: number, seed: string) => {
    await recordBlobInRepository(meta.db, repository, layer, size);
    const content = Buffer.from(`{"schemaVersion":2,"seed":"${seed}"}`);
    await putManifest(meta.db, {
      repository,
      digest: `sha256:${seed.repeat(64).slice(0, 64)}`,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      content,
      references: [{ kind: "blob", digest: layer }],
      tag: "1",
    });
    return content.length;
  };
  sizes.a = await store("my_proj/app", blob("a"), 1000, "1");
  sizes.b = await store("my_proj/web", blob("a"), 1000, "2"); // shares the layer
  sizes.c = await store("myxproj/app", blob("c"), 5000, "3");
});

const sizes: Record<string, number> = {};

afterAll(async () => {
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

it("counts a project's own repositories, each distinct digest once", async () => {
  const accounting = new MetaStorageAccounting(meta.db);
  expect(await accounting.usage({ kind: "project", project: "my_proj" })).toBe(
    1000 + (sizes.a ?? 0) + (sizes.b ?? 0),
  );
  expect(await accounting.usage({ kind: "project", project: "myxproj" })).toBe(
    5000 + (sizes.c ?? 0),
  );
  expect(await accounting.usage({ kind: "repository", repository: "my_proj/web" })).toBe(
    1000 + (sizes.b ?? 0),
  );
  expect(await accounting.usage({ kind: "system" })).toBe(
    6000 + (sizes.a ?? 0) + (sizes.b ?? 0) + (sizes.c ?? 0),
  );
  expect(await accounting.holds({ kind: "project", project: "my_proj" }, blob("c"))).toBe(false);
  expect(await accounting.holds({ kind: "project", project: "myxproj" }, blob("c"))).toBe(true);
});
