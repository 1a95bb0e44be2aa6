// The management API routes the web UI browses with (src/api/routes/browse.ts), against a
// real `berth serve` with token auth and images pushed by skopeo: the caller's actions in
// a project, tag rows (filter, sort, pagination in SQL), and artifact detail (config,
// layers with their commands, platforms of an index, attachments), each refused as the
// resource routes refuse (anonymous 401, outsiders 404, guests may read but not more).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MediaType } from "../../src/oci/index.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { skopeoCopy } from "../support/container-tools.js";
import {
  artifactFor,
  artifactLayout,
  syntheticImageLayout,
  twoPlatformIndexLayout,
} from "../support/synthetic-images.js";

const ADMIN = { user: "admin", password: "admin-password-browse" };
const GUEST = { user: "gina", password: "gina-password-1" };
const OUTSIDER = { user: "otto", password: "otto-password-1" };

let berth: BerthProcess;
let work: string;
let imageDigest: string;
let indexDigest: string;

function basic(who: { user: string; password: string }) {
  return `Basic ${Buffer.from(`${who.user}:${who.password}`).toString("base64")}`;
}

async function call(
  path: string,
  who: { user: string; password: string } | null = ADMIN,
  init: { method?: string; body?: unknown } = {},
) {
  const r = await fetch(`${berth.url}/api/v1${path}`, {
    method: init.method ?? "GET",
    headers: {
      ...(who ? { authorization: basic(who) } : {}),
      "content-type": "application/json",
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const tagsPath = "/projects/shop/repositories/shop%2Fapi/tags";

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-browse-"));
  berth = await startBerth({ env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN.password } });
  for (const u of [GUEST, OUTSIDER]) {
    expect(
      (
        await call("/users", ADMIN, {
          method: "POST",
          body: { username: u.user, password: u.password },
        })
      ).status,
    ).toBe(201);
  }
  expect((await call("/projects", ADMIN, { method: "POST", body: { name: "shop" } })).status).toBe(
    201,
  );
  expect(
    (
      await call("/projects/shop/members", ADMIN, {
        method: "POST",
        body: { username: GUEST.user, role: "guest" },
      })
    ).status,
  ).toBe(201);
  const creds = ["--dest-creds", `${ADMIN.user}:${ADMIN.password}`];
  const image = await syntheticImageLayout(join(work, "image"), "t", {
    layers: [
      { seed: "one", size: 3000 },
      { seed: "two", size: 5000 },
    ],
    label: "browse",
  });
  imageDigest = image.manifest.digest;
  for (const tag of ["v1.0", "v1.1", "v2.0", "latest"]) {
    await skopeoCopy(image.reference, `docker://${berth.host}/shop/api:${tag}`, creds);
  }
  const index = await twoPlatformIndexLayout(join(work, "index"), "multi", "browse");
  indexDigest = index.index.digest;
  await skopeoCopy(index.reference, `docker://${berth.host}/shop/api:multi`, [...creds, "--all"]);
  const sbom = artifactFor(image.manifest, "application/spdx+json", '{"spdxVersion":"SPDX-2.3"}');
  await skopeoCopy(
    await artifactLayout(join(work, "sbom"), "s", sbom),
    `docker://${berth.host}/shop/api:sbom`,
    creds,
  );
});

afterAll(async () => {
  await berth?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("GET /projects/{project}/permissions", () => {
  it("answers the caller's role and actions; outsiders and anonymous callers are refused", async () => {
    const admin = await call("/projects/shop/permissions");
    expect(admin.status).toBe(200);
    expect(admin.body.isAdmin).toBe(true);
    expect(admin.body.actions).toContain("artifact:delete");
    const guest = await call("/projects/shop/permissions", GUEST);
    expect(guest.body).toMatchObject({ role: "guest", isAdmin: false });
    expect(guest.body.actions).toContain("artifact:list");
    expect(guest.body.actions).not.toContain("tag:delete");
    expect((await call("/projects/shop/permissions", OUTSIDER)).status).toBe(404);
    expect((await call("/projects/shop/permissions", null)).status).toBe(401);
  });
});

describe("GET /projects/{project}/repositories", () => {
  it("answers each repository's artifact and tag counts and its size, sortable by tag count", async () => {
    const list = await call("/projects/shop/repositories?sort=-tagCount");
    expect(list.status).toBe(200);
    const items = list.body.items as {
      name: string;
      artifactCount: number;
      tagCount: number;
      sizeBytes: number;
    }[];
    const api = items.find((r) => r.name === "shop/api");
    // v1.0, v1.1, v2.0 and latest share one image; multi is an index of two; sbom.
    expect(api).toMatchObject({ tagCount: 6 });
    expect(api?.artifactCount).toBeGreaterThanOrEqual(4);
    // At least the two layers of the image (3000 + 5000 bytes), and what the quota counts.
    expect(api?.sizeBytes).toBeGreaterThan(8000);
    const quota = await call("/projects/shop/repositories/shop%2Fapi/quota");
    expect(api?.sizeBytes).toBe(quota.body.usedBytes);
    expect((await call("/projects/shop/repositories?sort=tagCount")).status).toBe(200);
  });
});

describe("GET …/repositories/{repository}/tags", () => {
  it("filters, sorts and paginates in the database, with each tag's artifact", async () => {
    const all = await call(`${tagsPath}?page_size=100`);
    expect(all.status).toBe(200);
    const names = (all.body.items as { name: string }[]).map((t) => t.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(
      expect.arrayContaining(["v1.0", "v1.1", "v2.0", "latest", "multi", "sbom"]),
    );
    const row = (
      all.body.items as { name: string; digest: string; kind: string; size: number }[]
    ).find((t) => t.name === "v1.0");
    expect(row).toMatchObject({ digest: imageDigest, kind: "image" });
    expect(row?.size).toBeGreaterThan(8000);
    const kinds = Object.fromEntries(
      (all.body.items as { name: string; kind: string }[]).map((t) => [t.name, t.kind]),
    );
    expect(kinds.multi).toBe("index");
    expect(kinds.sbom).toBe("sbom");

    const filtered = await call(`${tagsPath}?q=v1.&sort=-name`);
    expect(filtered.body.total).toBe(2);
    expect((filtered.body.items as { name: string }[]).map((t) => t.name)).toEqual([
      "v1.1",
      "v1.0",
    ]);
    const page2 = await call(`${tagsPath}?page=2&page_size=2`);
    expect(page2.body).toMatchObject({ page: 2, pageSize: 2, total: all.body.total });
    expect((page2.body.items as { name: string }[]).map((t) => t.name)).toEqual(names.slice(2, 4));
    // A LIKE wildcard in the filter is taken literally, never as a pattern.
    expect((await call(`${tagsPath}?q=%25`)).body.total).toBe(0);
    expect((await call(`${tagsPath}?q=v_.0`)).body.total).toBe(0);
  });

  it("refuses a bad sort field, a repository of another project, outsiders and anonymous callers", async () => {
    expect((await call(`${tagsPath}?sort=digest`)).status).toBe(400);
    expect((await call("/projects/other/repositories/shop%2Fapi/tags")).status).toBe(404);
    expect((await call(tagsPath, OUTSIDER)).status).toBe(404);
    expect((await call(tagsPath, null)).status).toBe(401);
    expect((await call(tagsPath, GUEST)).status).toBe(200);
  });
});

describe("GET …/artifacts/{reference}", () => {
  const detail = (ref: string) => `/projects/shop/repositories/shop%2Fapi/artifacts/${ref}`;

  it("answers an image's config, layers with their commands, tags and attachments", async () => {
    const r = await call(detail("v1.0"), GUEST);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      digest: imageDigest,
      kind: "image",
      tags: ["latest", "v1.0", "v1.1", "v2.0"],
    });
    expect(r.body.config).toMatchObject({ platform: "linux/amd64", cmd: ["/bin/true"] });
    const layers = r.body.layers as { command: string; size: number }[];
    expect(layers.map((l) => l.command)).toEqual([
      "RUN synthetic layer one (browse)",
      "RUN synthetic layer two (browse)",
    ]);
    const attachments = r.body.attachments as { kind: string; artifactType: string }[];
    expect(attachments).toEqual([
      expect.objectContaining({ kind: "sbom", artifactType: "application/spdx+json" }),
    ]);
  });

  it("answers the platforms of an index and an SBOM's subject", async () => {
    const index = await call(detail(indexDigest));
    expect(index.body.kind).toBe("index");
    expect((index.body.platforms as { platform: string }[]).map((p) => p.platform)).toEqual([
      "linux/amd64",
      "linux/arm64/v8",
    ]);
    const sbom = await call(detail("sbom"));
    expect(sbom.body).toMatchObject({
      kind: "sbom",
      subject: imageDigest,
      mediaType: MediaType.OciManifest,
    });
  });

  it("answers 404 for an unknown reference, and refuses outsiders", async () => {
    const missing = await call(detail("nope"));
    expect(missing.status).toBe(404);
    expect((missing.body.errors as { message: string }[])[0]?.message).toContain("not found");
    expect((await call(detail(`sha256:${"0".repeat(64)}`))).status).toBe(404);
    expect((await call(detail("v1.0"), OUTSIDER)).status).toBe(404);
  });
});
