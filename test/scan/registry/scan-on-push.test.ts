// Scanning inside a real Berth (token auth on) with real clients and a real OSV fixture
// database (test/fixtures/osv/records imported with `berth db import`'s importer into the
// server's scan.dbDir): images pushed with skopeo are scanned without any manual step (the
// scan-on-push outbox consumer → `scan` job), results, findings, SBOM referrer and SPDX
// download appear in the API; the project's pull prevention refuses a pull with DENIED naming
// the vulnerability ids, lets it through once the CVE is allowlisted, and refuses again when
// the entry has expired; unscanned images are refused when asked; a server killed mid-scan
// leaves the job to be retried after its lease, and the report is completed by the restarted
// server.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importOsv } from "../../../src/scan/osv/import.js";
import { type BerthProcess, startBerth } from "../../support/berth-process.js";
import { type DebianImage, debianImage } from "../../support/debian-image.js";
import { type CommandResult, run } from "../../support/process-control.js";
import { goFixture } from "../catalogers/support/go-fixture.js";
import { type BuiltImage, buildImage } from "../catalogers/support/image-builder.js";
import { RECORDS_DIR } from "../fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: API answers, checked field by field below
type Json = any;

const ADMIN_PASSWORD = "scan-admin-pass-1";
const CREDS = `admin:${ADMIN_PASSWORD}`;

let work: string;
let dataDir: string;
let server: BerthProcess;
let lang: BuiltImage;
let debian: DebianImage;

function serverEnv(): NodeJS.ProcessEnv {
  return {
    BERTH_AUTH: "token",
    BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
    BERTH_LOG_LEVEL: "warn",
    BERTH_DB_DIR: join(work, "vulndb"),
    BERTH_JOBS_LEASE: "3s",
  };
}

function skopeo(args: string[]): Promise<CommandResult> {
  return run("skopeo", args, { timeoutMs: 180_000 });
}

async function push(source: string, target: string): Promise<void> {
  const r = await skopeo([
    "copy",
    "--dest-tls-verify=false",
    "--dest-creds",
    CREDS,
    source,
    `docker://${server.host}/${target}`,
  ]);
  expect(r.code, r.stderr).toBe(0);
}

function pull(target: string): Promise<CommandResult> {
  return skopeo([
    "copy",
    "--src-tls-verify=false",
    "--src-creds",
    CREDS,
    `docker://${server.host}/${target}`,
    `oci:${join(work, "pulled")}:x`,
  ]);
}

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(CREDS).toString("base64")}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const artifact = (repo: string, ref: string) =>
  `/projects/team/repositories/${encodeURIComponent(`team/${repo}`)}/artifacts/${encodeURIComponent(ref)}`;

/** Polls the report until its status is one of `statuses`. */
async function waitForStatus(
  repo: string,
  ref: string,
  statuses: string[],
  timeoutMs = 90_000,
): Promise<any> {
  const until = Date.now() + timeoutMs;
  let last: Json;
  while (Date.now() < until) {
    const r = await api("GET", `${artifact(repo, ref)}/scan`);
    last = r.json;
    if (r.status === 200 && statuses.includes(r.json.status)) return r.json;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `scan of ${repo}:${ref} never reached ${statuses}: ${JSON.stringify(last)}\n${server.output()}`,
  );
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-regscan-"));
  dataDir = join(work, "data");
  await importOsv(join(work, "vulndb"), [RECORDS_DIR]);
  const go = await goFixture();
  lang = await buildImage([
    {
      createdBy: "RUN npm install lodash@4.17.11 semver@7.5.1",
      entries: [
        {
          path: "app/node_modules/lodash/package.json",
          content: JSON.stringify({ name: "lodash", version: "4.17.11" }),
        },
        {
          path: "app/node_modules/semver/package.json",
          content: JSON.stringify({ name: "semver", version: "7.5.1" }),
        },
      ],
    },
    {
      createdBy: "RUN pip install requests==2.30.0",
      entries: [
        {
          path: "usr/lib/python3/dist-packages/requests-2.30.0.dist-info/METADATA",
          content: "Metadata-Version: 2.1\nName: requests\nVersion: 2.30.0\n",
        },
      ],
    },
    {
      createdBy: "COPY berthapp /usr/local/bin/berthapp",
      entries: [{ path: "usr/local/bin/berthapp", content: go.binary, mode: 0o755 }],
    },
  ]);
  debian = await debianImage();
  server = await startBerth({ dataDir, env: serverEnv() });
  expect((await api("POST", "/projects", { name: "team" })).status).toBe(201);
  const policy = await api("PUT", "/projects/team/scan-policy", { scanOnPush: true });
  expect(policy.status, JSON.stringify(policy.json)).toBe(200);
}, 1_800_000);

afterAll(async () => {
  await server?.stop();
  await lang?.remove();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("scan on push", () => {
  it("an npm/Python/Go image pushed with skopeo is scanned without a manual step", async () => {
    await push(lang.reference, "team/lang:1");
    const report = await waitForStatus("lang", "1", ["done", "failed"]);
    expect(report.status, report.error).toBe("done");
    expect(report.counts.CRITICAL).toBeGreaterThanOrEqual(1);
    expect(report.counts.HIGH).toBeGreaterThanOrEqual(1);
    expect(report.counts.MEDIUM).toBeGreaterThanOrEqual(1);
    expect(report.fixable.CRITICAL).toBeGreaterThanOrEqual(1);
    expect(report.database.version).toMatch(/^sha256:/);
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
    expect(report.sbom).toMatch(/^sha256:/);

    const critical = await api("GET", `${artifact("lang", "1")}/vulnerabilities?severity=critical`);
    expect(critical.status).toBe(200);
    expect(critical.json.items.map((f: Json) => `${f.package} ${f.id}`)).toEqual([
      "lodash GHSA-jf85-cpcp-j695",
    ]);
    const paged = await api("GET", `${artifact("lang", "1")}/vulnerabilities?page_size=1`);
    expect(paged.json.total).toBe(report.total);
    expect(paged.json.items).toHaveLength(1);
    expect(paged.json.items[0].severity).toBe("CRITICAL");
    const requests = await api("GET", `${artifact("lang", "1")}/vulnerabilities?package=requests`);
    expect(requests.json.items.length).toBeGreaterThanOrEqual(1);
    expect(requests.json.items.every((f: Json) => f.package === "requests")).toBe(true);
    const bad = await api("GET", `${artifact("lang", "1")}/vulnerabilities?severity=urgent`);
    expect(bad.status).toBe(400);
  });

  it("attaches the SBOM as a CycloneDX referrer and serves it as SPDX", async () => {
    const report = await waitForStatus("lang", "1", ["done"]);
    const res = await fetch(`${server.url}/v2/team/lang/referrers/${report.digest}`, {
      headers: { authorization: `Basic ${Buffer.from(CREDS).toString("base64")}` },
    });
    expect(res.status).toBe(200);
    const index = (await res.json()) as { manifests: { digest: string; artifactType: string }[] };
    expect(index.manifests).toContainEqual(
      expect.objectContaining({
        digest: report.sbom,
        artifactType: "application/vnd.cyclonedx+json",
      }),
    );
    const spdx = await api("GET", `${artifact("lang", "1")}/sbom`);
    expect(spdx.status).toBe(200);
    expect(spdx.json.spdxVersion).toBe("SPDX-2.3");
    const names = spdx.json.packages.map((p: Json) => p.name);
    expect(names).toEqual(expect.arrayContaining(["lodash", "semver", "requests"]));
    expect(names.some((n: string) => n.startsWith("example.com/"))).toBe(true);
    // The SBOM referrer itself is recorded as not scannable, never scanned.
    const sbomReport = await waitForStatus("lang", report.sbom, ["unsupported"]);
    expect(sbomReport.status).toBe("unsupported");
  });

  it("scans the real Debian image and lists the scan job", async () => {
    await push(debian.reference, "team/debian:bookworm");
    const report = await waitForStatus("debian", "bookworm", ["done", "failed"], 300_000);
    expect(report.status, report.error).toBe("done");
    expect(report.packages).toBeGreaterThan(80);
    const jobs = await api("GET", "/jobs?kind=scan");
    expect(jobs.status).toBe(200);
    expect(jobs.json.items.some((j: Json) => j.payload.digest === report.digest)).toBe(true);
    const summary = await api("GET", "/projects/team/vulnerabilities/summary");
    expect(summary.json.byStatus.done).toBeGreaterThanOrEqual(2);
    expect(summary.json.counts.CRITICAL).toBeGreaterThanOrEqual(1);
  });
});

describe("prevent vulnerable images from being pulled", () => {
  it("refuses with DENIED naming the CVE, allows once allowlisted, refuses after expiry", async () => {
    await waitForStatus("lang", "1", ["done"]);
    expect((await pull("team/lang:1")).code).toBe(0);
    const set = await api("PUT", "/projects/team/scan-policy", { preventSeverity: "critical" });
    expect(set.json.preventSeverity).toBe("CRITICAL");
    const refused = await pull("team/lang:1");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/denied/i);
    expect(refused.stderr).toContain("GHSA-jf85-cpcp-j695");
    expect(refused.stderr).toContain("critical 1");

    // Allowlisted by its CVE alias (the GHSA record names CVE-2019-10744).
    const added = await api("POST", "/projects/team/cve-allowlist", { cve: "CVE-2019-10744" });
    expect(added.status).toBe(201);
    expect((await pull("team/lang:1")).code).toBe(0);

    const expired = await api("POST", "/projects/team/cve-allowlist", {
      cve: "CVE-2019-10744",
      expires: "2020-01-01",
    });
    expect(expired.json.expired).toBe(true);
    const again = await pull("team/lang:1");
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("GHSA-jf85-cpcp-j695");

    // The system-wide list applies to every project.
    expect((await api("DELETE", "/projects/team/cve-allowlist/CVE-2019-10744")).status).toBe(204);
    expect(
      (await api("POST", "/system/cve-allowlist", { cve: "GHSA-jf85-cpcp-j695" })).status,
    ).toBe(201);
    expect((await pull("team/lang:1")).code).toBe(0);
    expect((await api("DELETE", "/system/cve-allowlist/GHSA-jf85-cpcp-j695")).status).toBe(204);
    await api("PUT", "/projects/team/scan-policy", { preventSeverity: null });
  });

  it("refuses unscanned images when the project says so", async () => {
    expect((await api("POST", "/projects", { name: "strict" })).status).toBe(201);
    await api("PUT", "/projects/strict/scan-policy", { preventUnscanned: true });
    const fresh = await buildImage([
      { createdBy: "COPY x /x", entries: [{ path: "x", content: "never scanned" }] },
    ]);
    await push(fresh.reference, "strict/app:1");
    await fresh.remove();
    const refused = await pull("strict/app:1");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/not scanned/);
  });
});

describe("durability", () => {
  it("a server killed mid-scan leaves the job to be retried after its lease", async () => {
    const requested = await api("POST", `${artifact("debian", "bookworm")}/scan`);
    expect(requested.status).toBe(202);
    const job = requested.json.jobs[0].job as number;
    await waitForStatus("debian", "bookworm", ["running"], 60_000);
    await server.kill9();
    server = await startBerth({ dataDir, env: serverEnv() });
    const report = await waitForStatus("debian", "bookworm", ["done", "failed"], 300_000);
    expect(report.status, report.error).toBe("done");
    const after = await api("GET", `/jobs/${job}`);
    expect(after.json.state).toBe("succeeded");
    expect(after.json.attempts).toBe(2);
  });
});
