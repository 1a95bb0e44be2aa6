// Scanning inside a real Berth (token auth on) with real clients and a real OSV fixture
// database (test/fixtures/osv/records imported with `berth db import`'s importer into the
// server's scan.dbDir): images pushed with skopeo are scanned without any manual step (the
// scan-on-push outbox consumer → `scan` job), results, findings, SBOM referrer and SPDX
// download appear in the API; the project's pull prevention refuses a pull with DENIED naming
// the vulnerability ids, lets it through once the CVE is allowlisted, and refuses again when
// the entry has expired; unscanned images are refused when asked; a server killed mid-scan
// leaves the job to be retried after its lease, and the report is completed by the restarted
// server.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth, berthOk } from "../../cli/berth-cli.js";
import type { BerthProcess } from "../../support/berth-process.js";
import { type DebianImage, debianImage } from "../../support/debian-image.js";
import { type CommandResult, run } from "../../support/process-control.js";
import {
  importFixtureDb,
  langImage,
  npmImage,
  startScanningBerth,
} from "../../support/scanning.js";
import { twoPlatformIndexLayout } from "../../support/synthetic-images.js";
import { type BuiltImage, buildImage } from "../catalogers/support/image-builder.js";

// biome-ignore lint/suspicious/noExplicitAny: API answers, checked field by field below
type Json = any;

const ADMIN_PASSWORD = "scan-admin-pass-1";
const CREDS = `admin:${ADMIN_PASSWORD}`;

let work: string;
let dataDir: string;
let server: BerthProcess;
let lang: BuiltImage;
let debian: DebianImage;
/** When the fixture database was imported (ms): its stored time must not be older. */
let importedSince: number;

/** A done report's timings: whole milliseconds, the scan inside its job's start and end. */
function expectTimings(report: Json): void {
  expect(Number.isInteger(report.durationMs)).toBe(true);
  expect(Number.isInteger(report.cpuMs)).toBe(true);
  expect(report.cpuMs).toBeGreaterThanOrEqual(0);
  const started = Date.parse(report.startedAt);
  const finished = Date.parse(report.finishedAt);
  expect(started).toBeGreaterThanOrEqual(Date.parse(report.requestedAt));
  expect(report.durationMs).toBeLessThanOrEqual(finished - started);
}

const startServer = () =>
  startScanningBerth({
    adminPassword: ADMIN_PASSWORD,
    dbDir: join(work, "vulndb"),
    dataDir,
    env: { BERTH_JOBS_LEASE: "3s", BERTH_SCAN_RESCAN_SCHEDULE: "* * * * * *" },
  });

function skopeo(args: string[]): Promise<CommandResult> {
  return run("skopeo", args, { timeoutMs: 180_000 });
}

async function push(source: string, target: string, creds = CREDS): Promise<void> {
  const r = await skopeo([
    "copy",
    "--dest-tls-verify=false",
    "--dest-creds",
    creds,
    source,
    `docker://${server.host}/${target}`,
  ]);
  expect(r.code, r.stderr).toBe(0);
}

function pull(target: string, creds = CREDS): Promise<CommandResult> {
  return skopeo([
    "copy",
    "--src-tls-verify=false",
    "--src-creds",
    creds,
    `docker://${server.host}/${target}`,
    `oci:${join(work, "pulled")}:x`,
  ]);
}

async function api(
  method: string,
  path: string,
  body?: unknown,
  creds = CREDS,
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(creds).toString("base64")}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const artifact = (repo: string, ref: string, project = "team") =>
  `/projects/${project}/repositories/${encodeURIComponent(`${project}/${repo}`)}/artifacts/${encodeURIComponent(ref)}`;

/** Polls the report until its status is one of `statuses`. */
async function waitForStatus(
  repo: string,
  ref: string,
  statuses: string[],
  timeoutMs = 90_000,
  project = "team",
): Promise<Json> {
  const until = Date.now() + timeoutMs;
  let last: Json;
  while (Date.now() < until) {
    const r = await api("GET", `${artifact(repo, ref, project)}/scan`);
    last = r.json;
    if (r.status === 200 && statuses.includes(r.json.status)) return r.json;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `scan of ${repo}:${ref} never reached ${statuses}: ${JSON.stringify(last)}\n${server.output()}`,
  );
}

const basicAuth = (creds: string) => `Basic ${Buffer.from(creds).toString("base64")}`;

/**
 * Pushes an OCI layout's image with Basic credentials sent on every request (no token
 * exchange): how a client configured for a Basic-auth registry (or curl) pushes.
 */
async function pushWithBasic(layoutDir: string, target: string, creds: string): Promise<string> {
  const [repository, tag] = target.split(":") as [string, string];
  const index = JSON.parse(await readFile(join(layoutDir, "index.json"), "utf8")) as Json;
  const top = index.manifests[0];
  const blobPath = (digest: string) => join(layoutDir, "blobs", "sha256", digest.slice(7));
  const manifestBytes = await readFile(blobPath(top.digest));
  const manifest = JSON.parse(manifestBytes.toString("utf8")) as Json;
  const headers = { authorization: basicAuth(creds) };
  for (const blob of [manifest.config, ...manifest.layers]) {
    const start = await fetch(`${server.url}/v2/${repository}/blobs/uploads/`, {
      method: "POST",
      headers,
    });
    expect(start.status, await start.clone().text()).toBe(202);
    const location = new URL(start.headers.get("location") ?? "", server.url);
    location.searchParams.set("digest", blob.digest);
    const put = await fetch(location, {
      method: "PUT",
      headers: { ...headers, "content-type": "application/octet-stream" },
      body: await readFile(blobPath(blob.digest)),
    });
    expect(put.status, await put.text()).toBe(201);
  }
  const put = await fetch(`${server.url}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { ...headers, "content-type": top.mediaType },
    body: manifestBytes,
  });
  expect(put.status, await put.text()).toBe(201);
  return top.digest as string;
}

/** GET of a manifest with Basic credentials: status and the registry's error JSON. */
async function getManifestWithBasic(
  target: string,
  creds: string,
): Promise<{ status: number; json: Json }> {
  const [repository, tag] = target.split(":") as [string, string];
  const res = await fetch(`${server.url}/v2/${repository}/manifests/${tag}`, {
    headers: {
      authorization: basicAuth(creds),
      accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
    },
  });
  const text = await res.text();
  return { status: res.status, json: text.startsWith("{") ? JSON.parse(text) : text };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-regscan-"));
  dataDir = join(work, "data");
  importedSince = Date.now();
  await importFixtureDb(join(work, "vulndb"));
  lang = await langImage({ go: true });
  debian = await debianImage();
  server = await startServer();
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
    // The database's time is the import's, as `berth db status` reports it.
    const status = await berthOk([
      "db",
      "status",
      "--db-dir",
      join(work, "vulndb"),
      "--format",
      "json",
    ]);
    const importedAt = JSON.parse(status.stdout).importedAt as string;
    expect(report.database.updatedAt).toBe(importedAt);
    expect(Date.parse(importedAt)).toBeGreaterThanOrEqual(importedSince);
    expectTimings(report);
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
    // While the push's scan is queued or running, `berth admin scan --wait` enqueues nothing
    // more and waits for that scan, printing its result.
    await waitForStatus("debian", "bookworm", ["pending", "running"], 60_000);
    const cli = await berth(
      [
        ...["admin", "--server", server.url, "--format", "json", "scan"],
        ...[`${server.host}/team/debian:bookworm`, "--wait"],
      ],
      { env: { BERTH_USERNAME: "admin", BERTH_PASSWORD: ADMIN_PASSWORD } },
    );
    expect(cli.code, cli.stderr).toBe(0);
    const out = JSON.parse(cli.stdout);
    expect(out.jobs).toEqual([]);
    expect(out.waiting).toHaveLength(1);
    expect(out.reports.map((x: Json) => `${x.repository} ${x.status}`)).toEqual([
      "team/debian done",
    ]);
    const report = await waitForStatus("debian", "bookworm", ["done", "failed"], 300_000);
    expect(out.reports[0].digest).toBe(report.digest);
    expect(out.waiting[0].digest).toBe(report.digest);
    expect(report.status, report.error).toBe("done");
    expect(report.packages).toBeGreaterThan(80);
    expectTimings(report);
    // Cataloging 80+ dpkg packages and matching them takes measurable CPU time.
    expect(report.cpuMs).toBeGreaterThan(0);
    expect(report.durationMs).toBeGreaterThan(0);
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

describe("indexes, the CLI, the gate at pull and rescans", () => {
  const admin = (args: string[]) =>
    berth(["admin", "--server", server.url, ...args], {
      env: { BERTH_USERNAME: "admin", BERTH_PASSWORD: ADMIN_PASSWORD },
    });

  it("scans every platform of an index; berth admin scan --wait prints each result", async () => {
    const multi = await twoPlatformIndexLayout(join(work, "multi"), "1", "scanmulti");
    const r = await skopeo([
      "copy",
      "--all",
      "--dest-tls-verify=false",
      "--dest-creds",
      CREDS,
      multi.reference,
      `docker://${server.host}/team/multi:1`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    for (const { image } of multi.images)
      await waitForStatus("multi", image.manifest.digest, ["done"]);
    const index = await api("GET", `${artifact("multi", "1")}/scan`);
    expect(index.json.status).toBe("done");
    expect(index.json.platforms.map((p: Json) => p.platform).sort()).toEqual([
      "linux/amd64",
      "linux/arm64",
    ]);
    const cli = await admin(["--format", "json", "scan", `${server.host}/team/multi:1`, "--wait"]);
    expect(cli.code, cli.stderr).toBe(0);
    const out = JSON.parse(cli.stdout);
    expect(out.reports.map((x: Json) => x.status)).toEqual(["done", "done"]);
    expect(out.reports.map((x: Json) => x.digest).sort()).toEqual(
      multi.images.map((i) => i.image.manifest.digest).sort(),
    );
  });

  it("permissions: a guest reads results and policies but changes nothing", async () => {
    const created = await api("POST", "/users", {
      username: "guestie",
      password: "guestie-pass-1",
      isAdmin: false,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const member = await api("POST", "/projects/team/members", {
      username: "guestie",
      role: "guest",
    });
    expect(member.status, JSON.stringify(member.json)).toBeLessThan(300);
    const guest = "guestie:guestie-pass-1";
    expect((await api("GET", `${artifact("lang", "1")}/scan`, undefined, guest)).status).toBe(200);
    expect(
      (await api("GET", `${artifact("lang", "1")}/vulnerabilities`, undefined, guest)).status,
    ).toBe(200);
    expect((await api("GET", "/projects/team/scan-policy", undefined, guest)).status).toBe(200);
    expect(
      (await api("PUT", "/projects/team/scan-policy", { scanOnPush: false }, guest)).status,
    ).toBe(403);
    expect((await api("POST", `${artifact("lang", "1")}/scan`, undefined, guest)).status).toBe(403);
    expect(
      (await api("POST", "/projects/team/cve-allowlist", { cve: "CVE-2019-10744" }, guest)).status,
    ).toBe(403);
    expect((await api("GET", "/system/vulnerabilities/summary", undefined, guest)).status).toBe(
      403,
    );
    expect((await api("GET", "/system/cve-allowlist", undefined, guest)).status).toBe(403);
  });

  it("berth admin scan-policy and allowlist change what the API shows", async () => {
    const set = await admin([
      "--format",
      "json",
      "scan-policy",
      "set",
      "strict",
      "--prevent-severity",
      "high",
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      preventSeverity: "HIGH",
      preventUnscanned: true,
      scanOnPush: false,
    });
    const bad = await admin(["scan-policy", "set", "strict", "--prevent-severity", "severe"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("not a severity");
    const added = await admin([
      "allowlist",
      "add",
      "--system",
      "CVE-2000-0001",
      "--expires",
      "2099-01-01",
    ]);
    expect(added.code, added.stderr).toBe(0);
    const ls = await admin(["--format", "json", "allowlist", "ls", "--system"]);
    expect(JSON.parse(ls.stdout)).toContainEqual(
      expect.objectContaining({ cve: "CVE-2000-0001", expired: false }),
    );
    await berthOk(
      ["admin", "--server", server.url, "allowlist", "rm", "--system", "CVE-2000-0001"],
      {
        env: { BERTH_USERNAME: "admin", BERTH_PASSWORD: ADMIN_PASSWORD },
      },
    );
    const none = await admin(["allowlist", "rm", "strict", "CVE-2000-0001"]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain("not in the strict allowlist");
    const usage = await admin(["allowlist", "add", "CVE-2000-0001"]);
    expect(usage.code).toBe(2);
  });

  it("berth admin scan-policy set --prevent-unscanned and --scan-on-push, allowlist add PROJECT --expires: real pulls", async () => {
    expect((await api("POST", "/projects", { name: "clipol" })).status).toBe(201);
    const json = (r: CommandResult) => {
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Json;
    };
    // --prevent-unscanned alone: scan on push stays off, an unscanned image is refused.
    expect(
      json(
        await admin(["--format", "json", "scan-policy", "set", "clipol", "--prevent-unscanned"]),
      ),
    ).toMatchObject({ scanOnPush: false, preventUnscanned: true, preventSeverity: null });
    const image = await npmImage("clipol", [["lodash", "4.17.11"]]);
    try {
      await push(image.reference, "clipol/app:1");
      const unscanned = await pull("clipol/app:1");
      expect(unscanned.code).not.toBe(0);
      expect(unscanned.stderr).toMatch(/not scanned/);
      expect((await api("GET", `${artifact("app", "1", "clipol")}/scan`)).json.status).toBe("none");
      // --no-prevent-unscanned lets it through.
      json(
        await admin(["--format", "json", "scan-policy", "set", "clipol", "--no-prevent-unscanned"]),
      );
      expect((await pull("clipol/app:1")).code).toBe(0);

      // --scan-on-push: the next push is scanned without a manual step, and (with a severity)
      // the pull is refused naming the CVE.
      const on = json(
        await admin([
          ...["--format", "json", "scan-policy", "set", "clipol", "--scan-on-push"],
          ...["--prevent-unscanned", "--prevent-severity", "critical"],
        ]),
      );
      expect(on).toMatchObject({
        scanOnPush: true,
        preventUnscanned: true,
        preventSeverity: "CRITICAL",
      });
      await push(image.reference, "clipol/app:2");
      const report = await waitForStatus("app", "2", ["done", "failed"], 90_000, "clipol");
      expect(report.status, report.error).toBe("done");
      expect(report.counts.CRITICAL).toBe(1);
      const refused = await pull("clipol/app:2");
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("GHSA-jf85-cpcp-j695");

      // A project entry that expires in a few seconds: allowed until then, refused after.
      const expiresAt = new Date(Date.now() + 6_000);
      const added = json(
        await admin([
          ...["--format", "json", "allowlist", "add", "clipol", "CVE-2019-10744"],
          ...["--expires", expiresAt.toISOString()],
        ]),
      );
      expect(added).toMatchObject({ cve: "CVE-2019-10744", expired: false });
      expect(Date.parse(added.expiresAt)).toBe(expiresAt.getTime());
      const allowed = await pull("clipol/app:2");
      expect(allowed.code, allowed.stderr).toBe(0);
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, expiresAt.getTime() - Date.now()) + 500),
      );
      const listed = json(await admin(["--format", "json", "allowlist", "ls", "clipol"]));
      expect(listed).toEqual([expect.objectContaining({ cve: "CVE-2019-10744", expired: true })]);
      const expired = await pull("clipol/app:2");
      expect(expired.code).not.toBe(0);
      expect(expired.stderr).toContain("GHSA-jf85-cpcp-j695");

      // An entry given an expiry in the past is stored, says so, and never allows.
      const past = await admin([
        "allowlist",
        "add",
        "clipol",
        "CVE-2019-10744",
        "--expires",
        "2020-01-01",
      ]);
      expect(past.code, past.stderr).toBe(0);
      expect(past.stdout).toContain("already expired: it does not apply");
      expect((await pull("clipol/app:2")).code).not.toBe(0);
      // Without an expiry it allows.
      json(await admin(["--format", "json", "allowlist", "add", "clipol", "CVE-2019-10744"]));
      const forever = await pull("clipol/app:2");
      expect(forever.code, forever.stderr).toBe(0);
      const bad = await admin([
        "allowlist",
        "add",
        "clipol",
        "CVE-2019-10744",
        "--expires",
        "soon",
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("not a date");
    } finally {
      await image.remove();
    }
  });

  it("the gate policy's vulnerabilities rule gates pulls with the stored report", async () => {
    expect((await api("POST", "/projects", { name: "gated" })).status).toBe(201);
    await api("PUT", "/projects/gated/scan-policy", { scanOnPush: true });
    const gate = await api("PUT", "/projects/gated/gate-policy", {
      policy: "vulnerabilities:\n  max: {critical: 0}\n",
    });
    expect(gate.status, JSON.stringify(gate.json)).toBe(200);
    await push(lang.reference, "gated/app:1");
    const refused = await pull("gated/app:1");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("quality gate");
    expect(refused.stderr).toContain("GHSA-jf85-cpcp-j695");
  });

  it("forbiddenPackages and forbiddenLicenses gate pulls from the stored SBOM, as berth gate judges", async () => {
    expect((await api("POST", "/projects", { name: "pkggate" })).status).toBe(201);
    await api("PUT", "/projects/pkggate/scan-policy", { scanOnPush: true });
    const policyText = "forbiddenPackages: [lodash@4.17.11]\nforbiddenLicenses: [ISC]\n";
    const gate = await api("PUT", "/projects/pkggate/gate-policy", { policy: policyText });
    expect(gate.status, JSON.stringify(gate.json)).toBe(200);
    expect(gate.json.pullRules).toEqual(["forbiddenPackages", "forbiddenLicenses"]);
    expect(gate.json.pushRules).toEqual([]);
    // Not decidable at push: the push is accepted; the pull waits for the scan.
    await push(lang.reference, "pkggate/app:1");
    await waitForStatus("app", "1", ["done"], 90_000, "pkggate");
    const refused = await pull("pkggate/app:1");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("quality gate");
    expect(refused.stderr).toContain("forbiddenPackages");
    expect(refused.stderr).toContain("lodash 4.17.11");
    expect(refused.stderr).toContain("forbiddenLicenses");
    expect(refused.stderr).toContain("semver 7.5.1: ISC");
    // The registry's verdict is the CLI's, rule for rule, evidence for evidence.
    const answer = await getManifestWithBasic("pkggate/app:1", CREDS);
    expect(answer.status).toBe(403);
    expect(answer.json.errors[0].code).toBe("DENIED");
    const registryRules = answer.json.errors[0].detail.rules;
    const policyFile = join(work, "pkg-gate.yaml");
    await writeFile(policyFile, policyText);
    const cli = await berth(["gate", lang.reference, "--policy", policyFile, "--format", "json"]);
    expect(cli.code, cli.stderr).toBe(1);
    const cliRules = JSON.parse(cli.stdout)
      .rules.filter((r: Json) => r.status === "fail")
      .map((r: Json) => ({ rule: r.rule, message: r.message, evidence: r.evidence }));
    expect(registryRules).toEqual(cliRules);
    expect(registryRules.map((r: Json) => r.rule)).toEqual([
      "forbiddenPackages",
      "forbiddenLicenses",
    ]);
    // A policy the image meets lets the pull through (this process drops its cached rules
    // within the policy TTL).
    const relaxed = await api("PUT", "/projects/pkggate/gate-policy", {
      policy: "forbiddenPackages: [left-pad]\nforbiddenLicenses: [AGPL-3.0-only]\n",
    });
    expect(relaxed.status).toBe(200);
    const until = Date.now() + 10_000;
    let allowed = await pull("pkggate/app:1");
    while (allowed.code !== 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      allowed = await pull("pkggate/app:1");
    }
    expect(allowed.code, allowed.stderr).toBe(0);
  });

  it("rescans when the vulnerability database changes", async () => {
    const before = await waitForStatus("lang", "1", ["done"]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await importFixtureDb(join(work, "vulndb"));
    const until = Date.now() + 90_000;
    let report = before;
    while (Date.now() < until) {
      report = (await api("GET", `${artifact("lang", "1")}/scan`)).json;
      if (report.status === "done" && report.database.version !== before.database.version) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(report.database.version).not.toBe(before.database.version);
    // The rescanned report stores the new database's time, later than the old one's.
    expect(Date.parse(report.database.updatedAt)).toBeGreaterThan(
      Date.parse(before.database.updatedAt),
    );
    expectTimings(report);
    expect(report.counts).toEqual(before.counts);
    const jobs = await api("GET", "/jobs?kind=scan");
    expect(jobs.json.items.some((j: Json) => j.payload.reason === "rescan")).toBe(true);
  });
});

describe("scanning with Basic credentials and robot accounts", () => {
  it("a push with Basic credentials on every request is scanned; the gated pull answers DENIED", async () => {
    const digest = await pushWithBasic(lang.dir, "gated/basic:1", CREDS);
    const report = await waitForStatus("basic", "1", ["done", "failed"], 90_000, "gated");
    expect(report.status, report.error).toBe("done");
    expect(report.digest).toBe(digest);
    expect(report.counts.CRITICAL).toBeGreaterThanOrEqual(1);
    const refused = await getManifestWithBasic("gated/basic:1", CREDS);
    expect(refused.status).toBe(403);
    expect(refused.json.errors[0].code).toBe("DENIED");
    expect(refused.json.errors[0].message).toContain("GHSA-jf85-cpcp-j695");
  });

  it("a robot account's push is scanned on push, and the robot's pull is refused by the gate", async () => {
    const created = await api("POST", "/projects/gated/robots", {
      name: "ci",
      actions: ["pull", "push"],
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const robot = `${created.json.robot.name}:${created.json.secret}`;
    // Through the token flow (skopeo) and with Basic straight to /v2/.
    await push(lang.reference, "gated/robot:1", robot);
    const report = await waitForStatus("robot", "1", ["done", "failed"], 90_000, "gated");
    expect(report.status, report.error).toBe("done");
    const refused = await pull("gated/robot:1", robot);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("GHSA-jf85-cpcp-j695");
    const basic = await getManifestWithBasic("gated/robot:1", robot);
    expect(basic.status).toBe(403);
    expect(basic.json.errors[0].code).toBe("DENIED");
    // The robot may read the results it produced (pull permission), not change the policy.
    const seen = await api("GET", `${artifact("robot", "1", "gated")}/scan`, undefined, robot);
    expect(seen.status).toBe(200);
    expect(
      (await api("PUT", "/projects/gated/scan-policy", { scanOnPush: false }, robot)).status,
    ).toBe(403);
  });
});

describe("the SBOM referrer and the project quota", () => {
  const quota = async (project: string) => (await api("GET", `/projects/${project}/quota`)).json;
  const manifestOf = (repository: string, digest: string) =>
    fetch(`${server.url}/v2/${repository}/manifests/${digest}`, {
      headers: {
        authorization: basicAuth(CREDS),
        accept: "application/vnd.oci.image.manifest.v1+json",
      },
    });
  /** An image of its own (a digest no other test scanned) and its bytes as a quota counts them. */
  async function uniqueImage(name: string): Promise<{ image: BuiltImage; bytes: number }> {
    const image = await npmImage(name, [["lodash", "4.17.11"]]);
    const index = JSON.parse(await readFile(join(image.dir, "index.json"), "utf8")) as Json;
    const top = index.manifests[0];
    const manifest = JSON.parse(
      await readFile(join(image.dir, "blobs", "sha256", top.digest.slice(7)), "utf8"),
    ) as Json;
    const bytes = [manifest.config, ...manifest.layers].reduce(
      (sum: number, d: Json) => sum + d.size,
      top.size as number,
    );
    return { image, bytes };
  }

  it("counts the SBOM against the quota, is not attached over it, and goes with its subject", async () => {
    const first = await uniqueImage("quota-first");
    const second = await uniqueImage("quota-second");
    try {
      expect((await api("POST", "/projects", { name: "quota" })).status).toBe(201);
      await api("PUT", "/projects/quota/scan-policy", { scanOnPush: true });
      await push(first.image.reference, "quota/app:1");
      const report = await waitForStatus("app", "1", ["done"], 90_000, "quota");
      expect(report.sbom).toMatch(/^sha256:/);
      const sbomManifest = await manifestOf("quota/app", report.sbom);
      expect(sbomManifest.status).toBe(200);
      const sbomBytes = Buffer.from(await sbomManifest.arrayBuffer());
      const sbomLayer = (JSON.parse(sbomBytes.toString("utf8")) as Json).layers[0];
      const withSbom = (await quota("quota")).usedBytes;
      // The image, the SBOM layer, the SBOM manifest and its empty config (`{}`).
      expect(withSbom).toBe(first.bytes + sbomLayer.size + sbomBytes.length + 2);

      // A project whose quota the image just fits: scanned, but no SBOM stored over the limit.
      expect((await api("POST", "/projects", { name: "full" })).status).toBe(201);
      await api("PUT", "/projects/full/scan-policy", { scanOnPush: true });
      const set = await api("PUT", "/projects/full/quota", { limitBytes: second.bytes + 100 });
      expect(set.status, JSON.stringify(set.json)).toBe(200);
      await push(second.image.reference, "full/app:1");
      const full = await waitForStatus("app", "1", ["done", "failed"], 90_000, "full");
      expect(full.status, full.error).toBe("done");
      expect(full.sbom).toBeNull();
      expect(full.error).toMatch(/SBOM not attached: .*quota/i);
      expect((await quota("full")).usedBytes).toBe(second.bytes);
      // The SBOM download still works from the stored result.
      expect((await api("GET", `${artifact("app", "1", "full")}/sbom`)).status).toBe(200);

      // Deleting the subject deletes its SBOM referrer, and the quota stops counting both.
      const del = await fetch(`${server.url}/v2/quota/app/manifests/${report.digest}`, {
        method: "DELETE",
        headers: { authorization: basicAuth(CREDS) },
      });
      expect(del.status).toBe(202);
      expect((await manifestOf("quota/app", report.sbom)).status).toBe(404);
      const after = (await quota("quota")).usedBytes;
      expect(after).toBeLessThanOrEqual(withSbom - sbomBytes.length - 100);
    } finally {
      await first.image.remove();
      await second.image.remove();
    }
  });
});

describe("durability", () => {
  it("a server killed mid-scan leaves the job to be retried after its lease", async () => {
    const requested = await api("POST", `${artifact("debian", "bookworm")}/scan`);
    expect(requested.status).toBe(202);
    // The rescan schedule may have queued it already; either way one job is about to scan it.
    const running = await waitForStatus("debian", "bookworm", ["running"], 60_000);
    const job = running.job as number;
    await server.kill9();
    server = await startServer();
    const report = await waitForStatus("debian", "bookworm", ["done", "failed"], 300_000);
    expect(report.status, report.error).toBe("done");
    const after = await api("GET", `/jobs/${job}`);
    expect(after.json.state).toBe("succeeded");
    expect(after.json.attempts).toBe(2);
  });
});
