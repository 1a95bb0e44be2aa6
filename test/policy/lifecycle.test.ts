// Lifecycle policies against a real `berth serve` (token auth) driven by real clients
// (skopeo, podman, the berth CLI): safe deletes (a tag delete removes the tag only; a manifest
// an index lists is refused on /v2/ and the API and the index still pulls; referrers go with
// their subject; --dry-run and --force), tag immutability (re-push, retag and delete of a
// matching tag refused with DENIED naming the rule), quotas (usage after push/delete/re-push
// equals a sum computed by hand from the pushed descriptors; repository and system limits
// refuse with a message naming the scope) and a retention run from the CLI in which an
// immutable tag survives.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicHeader } from "../../src/auth/credentials.js";
import { berth } from "../cli/berth-cli.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import {
  inspectRaw,
  listTags,
  podman,
  privateContainerStorage,
  skopeo,
  skopeoCopy,
} from "../support/container-tools.js";
import {
  artifactFor,
  artifactLayout,
  syntheticImageLayout,
  twoPlatformIndexLayout,
  type WrittenImage,
} from "../support/synthetic-images.js";

const PASSWORD = "admin-password-1";
const CREDS = `admin:${PASSWORD}`;
const auth = basicHeader("admin", PASSWORD);
let server: BerthProcess;
let work: string;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: auth,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function image(name: string, label: string, layers: { seed: string; size: number }[]) {
  return syntheticImageLayout(join(work, name), "t", { label, layers });
}

function push(source: string, dest: string, extra: string[] = []) {
  return skopeoCopy(source, `docker://${server.host}/${dest}`, ["--dest-creds", CREDS, ...extra]);
}

async function pushFails(source: string, dest: string): Promise<string> {
  const err = await push(source, dest).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  return (err as Error).message;
}

function cli(args: string[]) {
  return berth(args, { env: { BERTH_USERNAME: "admin", BERTH_PASSWORD: PASSWORD } });
}

/** Bytes an image adds: its manifest, config and layers (each distinct digest once). */
function imageBytes(images: WrittenImage[]): number {
  const sizes = new Map<string, number>();
  for (const i of images) {
    sizes.set(i.manifest.digest, i.manifest.size);
    sizes.set(i.config.digest, i.config.size);
    for (const l of i.layers) sizes.set(l.digest, l.size);
  }
  return [...sizes.values()].reduce((a, b) => a + b, 0);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-lifecycle-"));
  server = await startBerth({ env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: PASSWORD } });
  for (const name of ["team", "quota", "ret"])
    expect((await api("POST", "/projects", { name, public: true })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("safe deletes", { timeout: 300_000 }, () => {
  it("refuses deleting a manifest an index lists, and the index still pulls", async () => {
    const index = await twoPlatformIndexLayout(join(work, "multi"), "1", "multi");
    await push(index.reference, "team/multi:1", ["--all", "--preserve-digests"]);
    const child = index.images[0]!.image.manifest.digest;
    const refused = await skopeo([
      "delete",
      "--tls-verify=false",
      "--creds",
      CREDS,
      `docker://${server.host}/team/multi@${child}`,
    ]).catch((e: unknown) => e as Error);
    expect(refused).toBeInstanceOf(Error);
    expect(String(refused)).toContain(`listed by index ${index.index.digest}`);
    const viaApi = await api(
      "DELETE",
      `/projects/team/repositories/team%2Fmulti/artifacts/${child}`,
    );
    expect(viaApi.status).toBe(409);
    expect(JSON.stringify(viaApi.body)).toContain("listed by index");
    const storage = await privateContainerStorage();
    try {
      await podman(storage, [
        "pull",
        "--tls-verify=false",
        "--creds",
        CREDS,
        "--arch",
        "arm64",
        `${server.host}/team/multi:1`,
      ]);
    } finally {
      await storage.remove();
    }
    // The CLI previews the refusal, then --force deletes through the management API.
    const dry = await cli([
      "delete",
      "--creds",
      CREDS,
      "--dry-run",
      "--format",
      "json",
      `${server.host}/team/multi@${child}`,
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, listedBy: [index.index.digest] });
    const forced = await cli([
      "delete",
      "--creds",
      CREDS,
      "--force",
      `${server.host}/team/multi@${child}`,
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await inspectRaw(`docker://${server.host}/team/multi:1`)).digest).toBe(
      index.index.digest,
    );
    const gone = await fetch(`${server.url}/v2/team/multi/manifests/${child}`, {
      method: "HEAD",
      headers: { authorization: auth },
    });
    expect(gone.status).toBe(404);
  });

  it("deletes a tag only, and a manifest with its referrers", async () => {
    const app = await image("app", "app", [{ seed: "app", size: 20_000 }]);
    await push(app.reference, "team/app:a");
    await push(app.reference, "team/app:b");
    const sbom = artifactFor(app.manifest, "application/vnd.example.sbom", "{}");
    await push(await artifactLayout(join(work, "sbom"), "s", sbom), "team/app:sbom", [
      "--preserve-digests",
    ]);
    const tagDelete = await cli(["delete", "--creds", CREDS, `${server.host}/team/app:a`]);
    expect(tagDelete.code, tagDelete.stderr).toBe(0);
    expect(tagDelete.stdout).toContain("stays");
    expect((await listTags(`${server.host}/team/app`)).sort()).toEqual(["b", "sbom"]);
    expect((await inspectRaw(`docker://${server.host}/team/app:b`)).digest).toBe(
      app.manifest.digest,
    );
    const dry = await cli([
      "delete",
      "--dry-run",
      "--format",
      "json",
      `${server.host}/team/app@${app.manifest.digest}`,
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      kind: "manifest",
      tags: ["b"],
      referrers: [sbom.manifest.digest],
      listedBy: [],
    });
    const plan = await api(
      "DELETE",
      `/projects/team/repositories/team%2Fapp/artifacts/${app.manifest.digest}?dryRun=true`,
    );
    expect(plan.status).toBe(200);
    expect(plan.body).toMatchObject({
      tags: ["b", "sbom"],
      manifests: [
        { digest: app.manifest.digest, reason: "requested" },
        { digest: sbom.manifest.digest, reason: `referrer of ${app.manifest.digest}` },
      ],
    });
    expect((await listTags(`${server.host}/team/app`)).sort()).toEqual(["b", "sbom"]);
    const del = await cli([
      "delete",
      "--creds",
      CREDS,
      `${server.host}/team/app@${app.manifest.digest}`,
    ]);
    expect(del.code, del.stderr).toBe(0);
    for (const digest of [app.manifest.digest, sbom.manifest.digest]) {
      const res = await fetch(`${server.url}/v2/team/app/manifests/${digest}`, {
        method: "HEAD",
        headers: { authorization: auth },
      });
      expect(res.status).toBe(404);
    }
    expect(await listTags(`${server.host}/team/app`)).toEqual([]);
  });
});

describe("tag immutability", { timeout: 300_000 }, () => {
  it("refuses re-push, retag and delete of a matching tag, naming the rule", async () => {
    const added = await cli([
      "admin",
      "--server",
      server.url,
      "--format",
      "json",
      "immutable",
      "add",
      "team",
      "--repo",
      "imm",
      "--tag",
      "v*",
    ]);
    expect(added.code, added.stderr).toBe(0);
    const rule = JSON.parse(added.stdout) as { id: string };
    const one = await image("imm1", "imm1", [{ seed: "imm1", size: 10_000 }]);
    const two = await image("imm2", "imm2", [{ seed: "imm2", size: 10_000 }]);
    await push(one.reference, "team/imm:v1");
    await push(one.reference, "team/imm:v1"); // the same manifest again: allowed
    await push(two.reference, "team/imm:latest");
    await push(two.reference, "team/other:v1"); // another repository: no rule
    const repush = await pushFails(two.reference, "team/imm:v1");
    expect(repush).toContain(`immutability rule ${rule.id}`);
    expect((await inspectRaw(`docker://${server.host}/team/imm:v1`)).digest).toBe(
      one.manifest.digest,
    );
    const retag = await api(
      "POST",
      `/projects/team/repositories/team%2Fimm/artifacts/${two.manifest.digest}/tags`,
      { name: "v1" },
    );
    expect(retag.status).toBe(403);
    expect(JSON.stringify(retag.body)).toContain(`immutability rule ${rule.id}`);
    const untag = await api(
      "DELETE",
      `/projects/team/repositories/team%2Fimm/artifacts/v1/tags/v1`,
    );
    expect(untag.status).toBe(403);
    const byDigest = await api(
      "DELETE",
      `/projects/team/repositories/team%2Fimm/artifacts/${one.manifest.digest}`,
    );
    expect(byDigest.status).toBe(403);
    const skopeoDelete = await skopeo([
      "delete",
      "--tls-verify=false",
      "--creds",
      CREDS,
      `docker://${server.host}/team/imm:v1`,
    ]).catch((e: unknown) => e as Error);
    expect(String(skopeoDelete)).toContain("is immutable");
    const cliDelete = await cli(["delete", "--creds", CREDS, `${server.host}/team/imm:v1`]);
    expect(cliDelete.code).not.toBe(0);
    expect(cliDelete.stderr).toContain(`immutability rule ${rule.id}`);
    expect(await listTags(`${server.host}/team/imm`)).toEqual(["latest", "v1"]);
    const listed = await cli(["admin", "--server", server.url, "immutable", "ls", "team"]);
    expect(listed.stdout).toContain(rule.id);
    const removed = await cli([
      "admin",
      "--server",
      server.url,
      "immutable",
      "rm",
      "team",
      "--repo",
      "imm",
      "--tag",
      "v*",
    ]);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await cli(["delete", "--creds", CREDS, `${server.host}/team/imm:v1`])).code).toBe(0);
    const audit = await api("GET", "/projects/team/audit?page_size=100");
    const actions = (audit.body.items as { action: string }[]).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["immutable.create", "immutable.delete"]));
  });
});

describe("quotas", { timeout: 300_000 }, () => {
  it("usage after push, delete and re-push equals the sum of what is stored", async () => {
    const shared = { seed: "quota-shared", size: 30_000 };
    const a = await image("qa", "qa", [shared, { seed: "qa", size: 11_000 }]);
    const b = await image("qb", "qb", [shared, { seed: "qb", size: 7_000 }]);
    const usage = async (path: string) => (await api("GET", path)).body.usedBytes;
    await push(a.reference, "quota/a:1");
    await push(b.reference, "quota/b:1");
    await push(a.reference, "quota/b:copy");
    const full = imageBytes([a, b]);
    expect(await usage("/projects/quota/quota")).toBe(full);
    expect(await usage("/projects/quota/repositories/quota%2Fa/quota")).toBe(imageBytes([a]));
    expect(await usage("/projects/quota/repositories/quota%2Fb/quota")).toBe(imageBytes([a, b]));
    // Deleting a's manifest in quota/a: the manifest goes; its blobs stay linked (servable)
    // in quota/a until GC, and quota/b still holds a's manifest.
    expect(
      (await api("DELETE", `/projects/quota/repositories/quota%2Fa/artifacts/${a.manifest.digest}`))
        .status,
    ).toBe(204);
    expect(await usage("/projects/quota/quota")).toBe(full);
    expect(await usage("/projects/quota/repositories/quota%2Fa/quota")).toBe(
      imageBytes([a]) - a.manifest.size,
    );
    await push(a.reference, "quota/a:1");
    await push(a.reference, "quota/a:again");
    expect(await usage("/projects/quota/quota")).toBe(full);
    expect(await usage("/projects/quota/repositories/quota%2Fa/quota")).toBe(imageBytes([a]));
    expect(await usage("/system/quota")).toBeGreaterThanOrEqual(full);
  });

  it("repository and system limits refuse with a message naming the scope", async () => {
    const big = await image("qbig", "qbig", [{ seed: "qbig", size: 50_000 }]);
    const set = await cli(["admin", "--server", server.url, "quota", "set", "quota/c", "10KiB"]);
    expect(set.code, set.stderr).toBe(0);
    expect(await pushFails(big.reference, "quota/c:1")).toMatch(
      /quota exceeded: repository \\?"quota\/c\\?" may store 10\.0 KiB/,
    );
    await push(big.reference, "quota/d:1");
    expect(
      (await cli(["admin", "--server", server.url, "quota", "set", "quota/c", "none"])).code,
    ).toBe(0);
    const system = await cli(["admin", "--server", server.url, "quota", "set", "--system", "1KiB"]);
    expect(system.code, system.stderr).toBe(0);
    const other = await image("qsys", "qsys", [{ seed: "qsys", size: 5_000 }]);
    expect(await pushFails(other.reference, "quota/e:1")).toContain("the registry may store");
    expect(
      (await cli(["admin", "--server", server.url, "quota", "set", "--system", "none"])).code,
    ).toBe(0);
    await push(other.reference, "quota/e:1");
    const bad = await cli(["admin", "--server", server.url, "quota", "set", "quota", "lots"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('cannot read size "lots"');
  });
});

describe("retention from the CLI", { timeout: 300_000 }, () => {
  it("dry run lists exactly what goes; the run deletes it and an immutable tag survives", async () => {
    const digests: Record<string, string> = {};
    for (const v of ["v1", "v2", "v3", "v4"]) {
      const img = await image(`ret-${v}`, `ret-${v}`, [{ seed: `ret-${v}`, size: 4_000 }]);
      await push(img.reference, `ret/app:${v}`);
      digests[v] = img.manifest.digest;
    }
    expect(
      (
        await api("POST", "/projects/ret/immutable-rules", {
          repositoryPattern: "**",
          tagPattern: "v1",
        })
      ).status,
    ).toBe(201);
    const file = join(work, "retention.yaml");
    await writeFile(
      file,
      'schedule: "0 3 * * *"\nrules:\n  - repositories: { matching: "**" }\n    tags: { matching: "v*" }\n    retain: { mostRecentlyPushed: 2 }\n',
    );
    const set = await cli(["admin", "--server", server.url, "retention", "set", "ret", file]);
    expect(set.code, set.stderr).toBe(0);
    const dry = await cli([
      "admin",
      "--server",
      server.url,
      "--format",
      "json",
      "retention",
      "run",
      "ret",
      "--dry-run",
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    const report = JSON.parse(dry.stdout) as {
      deleted: { digest: string; tags: string[]; reasons: string[] }[];
    };
    expect(report.deleted.map((d) => d.tags)).toEqual([["v2"]]);
    expect(report.deleted[0]!.digest).toBe(digests.v2);
    expect(report.deleted[0]!.reasons[0]).toBe("retained by no rule");
    expect(await listTags(`${server.host}/ret/app`)).toEqual(["v1", "v2", "v3", "v4"]);
    const run = await cli(["admin", "--server", server.url, "retention", "run", "ret"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("deleted 1 artifacts");
    expect(await listTags(`${server.host}/ret/app`)).toEqual(["v1", "v3", "v4"]);
    const badFile = join(work, "bad.yaml");
    await writeFile(badFile, "rules:\n  - retain: { keepForever: 1 }\n");
    const bad = await cli(["admin", "--server", server.url, "retention", "set", "ret", badFile]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("rules[0].retain needs exactly one of");
  });
});
