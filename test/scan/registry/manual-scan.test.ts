// Scanning in a real Berth (token auth on) where scan on push is off: nothing is scanned until
// asked; `berth admin scan PROJECT/REPO --wait` scans every image of that repository and no
// other, `berth admin scan PROJECT --wait` every image of the project (the API's POST
// …/repositories/{r}/scan and POST /projects/{p}/scan underneath); the vulnerabilities API's
// `fixable` filter splits the findings as the report's fixable counts say (with an OSV
// record of this test's own that has no fix); the system summary adds up the projects' and
// names the database that judged them; an image whose layer is not what its media type says
// ends `failed` with the reason, its findings answer 404 saying so, and `--wait` exits 3 (the
// operation failed, docs/cli.md).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf, MediaType } from "../../../src/oci/index.js";
import { berth } from "../../cli/berth-cli.js";
import type { BerthProcess } from "../../support/berth-process.js";
import { OciLayoutWriter } from "../../support/oci-layout.js";
import { type CommandResult, run } from "../../support/process-control.js";
import {
  importFixtureDb,
  npmImage,
  startScanningBerth,
  unfixedSemverRecord,
} from "../../support/scanning.js";
import { type BuiltImage, tarOf } from "../catalogers/support/image-builder.js";

const ADMIN_PASSWORD = "manual-scan-admin-1";
const CREDS = `admin:${ADMIN_PASSWORD}`;
/** An OSV record of this test: semver 7.x affected, no fixed version. */
const UNFIXED_ID = "GHSA-bert-h000-0001";

interface Report {
  digest: string;
  status: string;
  counts: Record<string, number>;
  fixable: Record<string, number>;
  total: number;
  fixableTotal: number;
  error: string | null;
  database: { version: string; updatedAt: string | null };
}

interface Finding {
  id: string;
  package: string;
  fixedVersion: string | null;
}

interface Summary {
  artifacts: number;
  byStatus: Record<string, number>;
  counts: Record<string, number>;
  fixable: Record<string, number>;
  vulnerableArtifacts: number;
  database: { version: string; totalRecords: number } | null;
}

let work: string;
let server: BerthProcess;
const images: BuiltImage[] = [];

async function api<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(CREDS).toString("base64")}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
}

const artifact = (repository: string, ref: string) =>
  `/projects/${repository.split("/")[0]}/repositories/${encodeURIComponent(repository)}/artifacts/${encodeURIComponent(ref)}`;

const report = async (repository: string, ref: string) =>
  (await api<Report>("GET", `${artifact(repository, ref)}/scan`)).json;

function admin(args: string[]): Promise<CommandResult> {
  return berth(["admin", "--server", server.url, "--format", "json", ...args], {
    env: { BERTH_USERNAME: "admin", BERTH_PASSWORD: ADMIN_PASSWORD },
  });
}

async function push(source: string, target: string): Promise<void> {
  const r = await run(
    "skopeo",
    [
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      CREDS,
      source,
      `docker://${server.host}/${target}`,
    ],
    { timeoutMs: 180_000 },
  );
  expect(r.code, r.stderr).toBe(0);
}

/** An image of npm packages with its own digest, removed after the tests. */
async function ownImage(seed: string, packages: [string, string][]): Promise<BuiltImage> {
  const image = await npmImage(seed, packages);
  images.push(image);
  return image;
}

/** An image whose only layer claims to be a gzip tar but holds plain text. */
async function brokenImage(dir: string): Promise<string> {
  const layout = await OciLayoutWriter.create(dir);
  const layer = await layout.writeBlob("this is not a gzip stream", MediaType.OciLayerGzip);
  const config = await layout.writeJson(
    {
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [layer.digest] },
    },
    MediaType.OciConfig,
  );
  const manifest = await layout.writeJson(
    { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] },
    MediaType.OciManifest,
  );
  layout.addManifest(manifest, "1");
  await layout.finish();
  return `oci:${dir}:1`;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-manual-scan-"));
  await importFixtureDb(join(work, "vulndb"), [unfixedSemverRecord(UNFIXED_ID)]);
  server = await startScanningBerth({
    adminPassword: ADMIN_PASSWORD,
    dbDir: join(work, "vulndb"),
    dataDir: join(work, "data"),
    env: { BERTH_JOBS_RETRY_BACKOFF: "100ms" },
  });
  for (const name of ["manual", "other"])
    expect((await api("POST", "/projects", { name })).status).toBe(201);
  const a = await ownImage("a", [
    ["lodash", "4.17.11"],
    ["semver", "7.5.1"],
  ]);
  const b = await ownImage("b", [["semver", "7.5.1"]]);
  const c = await ownImage("c", [["lodash", "4.17.11"]]);
  await push(a.reference, "manual/a:1");
  await push(b.reference, "manual/b:1");
  await push(c.reference, "other/c:1");
}, 600_000);

afterAll(async () => {
  await server?.stop();
  for (const image of images) await image.remove();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("manual scans of a repository and of a project", () => {
  it("scans nothing while scan on push is off", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const [repository, ref] of [
      ["manual/a", "1"],
      ["manual/b", "1"],
      ["other/c", "1"],
    ] as const)
      expect((await report(repository, ref)).status).toBe("none");
  });

  it("berth admin scan PROJECT/REPO --wait scans every image of that repository and no other", async () => {
    const r = await admin(["scan", `${server.host}/manual/a`, "--wait"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { reports: (Report & { repository: string })[] };
    const a = await report("manual/a", "1");
    expect(out.reports.map((x) => `${x.repository} ${x.digest} ${x.status}`)).toEqual([
      `manual/a ${a.digest} done`,
    ]);
    expect(a.counts.CRITICAL).toBe(1);
    expect((await report("manual/b", "1")).status).toBe("none");
    expect((await report("other/c", "1")).status).toBe("none");
  });

  it("berth admin scan PROJECT --wait scans every image of the project, and only that project", async () => {
    const r = await admin(["scan", "manual", "--wait"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { reports: (Report & { repository: string })[] };
    const b = await report("manual/b", "1");
    expect(b.status).toBe("done");
    const scanned = out.reports.map((x) => `${x.repository} ${x.digest}`);
    expect(scanned).toContain(`manual/b ${b.digest}`);
    expect(out.reports.every((x) => x.repository.startsWith("manual/"))).toBe(true);
    expect(out.reports.every((x) => x.status === "done" || x.status === "unsupported")).toBe(true);
    expect((await report("other/c", "1")).status).toBe("none");
    // The API underneath: a repository scan answers 202 with the jobs it queued.
    const repo = await api<{ jobs: { digest: string }[] }>(
      "POST",
      `/projects/other/repositories/${encodeURIComponent("other/c")}/scan`,
    );
    expect(repo.status).toBe(202);
    expect(repo.json.jobs.map((j) => j.digest)).toContain((await report("other/c", "1")).digest);
    const until = Date.now() + 60_000;
    while ((await report("other/c", "1")).status !== "done" && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await report("other/c", "1")).status).toBe("done");
  });
});

describe("the findings and the summaries", () => {
  it("fixable=true and fixable=false split the findings as the report's fixable counts say", async () => {
    const a = await report("manual/a", "1");
    const path = `${artifact("manual/a", "1")}/vulnerabilities?page_size=100`;
    const all = (await api<{ total: number; items: Finding[] }>("GET", path)).json;
    const fixed = (await api<{ total: number; items: Finding[] }>("GET", `${path}&fixable=true`))
      .json;
    const unfixed = (await api<{ total: number; items: Finding[] }>("GET", `${path}&fixable=false`))
      .json;
    expect(all.total).toBe(a.total);
    expect(fixed.total).toBe(a.fixableTotal);
    expect(fixed.total + unfixed.total).toBe(all.total);
    expect(fixed.items.every((f) => f.fixedVersion !== null)).toBe(true);
    expect(unfixed.items.map((f) => `${f.id} ${f.package} ${f.fixedVersion}`)).toEqual([
      `${UNFIXED_ID} semver null`,
    ]);
    expect(a.fixable.HIGH).toBe(a.counts.HIGH - 1);
    const high = (await api<{ items: Finding[] }>("GET", `${path}&severity=high&fixable=false`))
      .json;
    expect(high.items.map((f) => f.id)).toEqual([UNFIXED_ID]);
  });

  it("the system summary adds up every project's and names the database", async () => {
    const system = await api<Summary>("GET", "/system/vulnerabilities/summary");
    expect(system.status).toBe(200);
    const manual = (await api<Summary>("GET", "/projects/manual/vulnerabilities/summary")).json;
    const other = (await api<Summary>("GET", "/projects/other/vulnerabilities/summary")).json;
    expect(system.json.artifacts).toBe(manual.artifacts + other.artifacts);
    for (const severity of ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]) {
      expect(system.json.counts[severity]).toBe(
        (manual.counts[severity] ?? 0) + (other.counts[severity] ?? 0),
      );
      expect(system.json.fixable[severity]).toBe(
        (manual.fixable[severity] ?? 0) + (other.fixable[severity] ?? 0),
      );
    }
    expect(system.json.vulnerableArtifacts).toBe(3);
    expect(system.json.counts.CRITICAL).toBe(2);
    expect(system.json.database?.version).toBe((await report("manual/a", "1")).database.version);
    expect(system.json.database?.totalRecords).toBe(18);
  });
});

describe("a scan that cannot read the image", () => {
  it("ends failed with the reason; its findings answer 404 saying so; --wait exits 3", async () => {
    await push(await brokenImage(join(work, "broken")), "manual/broken:1");
    const r = await admin(["scan", `${server.host}/manual/broken:1`, "--wait"]);
    expect(r.code, r.stderr).toBe(3);
    const out = JSON.parse(r.stdout) as { reports: Report[] };
    expect(out.reports.map((x) => x.status)).toEqual(["failed"]);
    const failed = await report("manual/broken", "1");
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/^layer 0 \(sha256:[0-9a-f]{64}\) is unreadable: /);
    expect(failed.error).not.toMatch(/\n\s+at /);
    const findings = await api<{ errors: { message: string }[] }>(
      "GET",
      `${artifact("manual/broken", "1")}/vulnerabilities`,
    );
    expect(findings.status).toBe(404);
    expect(findings.json.errors[0]?.message).toContain("has no scan results (failed)");
  });
});

describe("a project scan of more images than a page of jobs", () => {
  const basic = `Basic ${Buffer.from(CREDS).toString("base64")}`;

  async function putBlob(repository: string, bytes: Buffer): Promise<string> {
    const digest = digestOf(bytes);
    const start = await fetch(`${server.url}/v2/${repository}/blobs/uploads/`, {
      method: "POST",
      headers: { authorization: basic },
    });
    expect(start.status).toBe(202);
    const location = new URL(start.headers.get("location") ?? "", server.url);
    location.searchParams.set("digest", digest);
    const put = await fetch(location, {
      method: "PUT",
      headers: { authorization: basic, "content-type": "application/octet-stream" },
      body: bytes,
    });
    expect(put.status, await put.text()).toBe(201);
    return digest;
  }

  it("berth admin scan PROJECT --wait reports all 101 images, each in its repository", async () => {
    expect((await api("POST", "/projects", { name: "many" })).status).toBe(201);
    const tar = await tarOf([
      {
        path: "app/node_modules/lodash/package.json",
        content: JSON.stringify({ name: "lodash", version: "4.17.11", license: "MIT" }),
      },
    ]);
    const layer = gzipSync(tar);
    const config = Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        rootfs: { type: "layers", diff_ids: [digestOf(tar)] },
      }),
    );
    // Two repositories, so each report must come back under the right one.
    const expected: string[] = [];
    for (const [repository, count] of [
      ["many/left", 51],
      ["many/right", 50],
    ] as const) {
      const layerDigest = await putBlob(repository, layer);
      const configDigest = await putBlob(repository, config);
      for (let i = 0; i < count; i++) {
        // Distinct manifests (an annotation each) over the same two blobs.
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MediaType.OciManifest,
            config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length },
            layers: [
              { mediaType: MediaType.OciLayerGzip, digest: layerDigest, size: layer.length },
            ],
            annotations: { "org.example.copy": `${repository} ${i}` },
          }),
        );
        const put = await fetch(`${server.url}/v2/${repository}/manifests/v${i}`, {
          method: "PUT",
          headers: { authorization: basic, "content-type": MediaType.OciManifest },
          body: manifest,
        });
        expect(put.status, await put.text()).toBe(201);
        expected.push(`${repository} ${digestOf(manifest)} done`);
      }
    }
    const r = await admin(["scan", "many", "--wait"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      jobs: { repository: string }[];
      reports: (Report & { repository: string })[];
    };
    expect(out.jobs).toHaveLength(101);
    expect(out.reports.map((x) => `${x.repository} ${x.digest} ${x.status}`).sort()).toEqual(
      expected.sort(),
    );
    expect(out.reports.every((x) => x.counts.CRITICAL === 1)).toBe(true);
  }, 600_000);
});
