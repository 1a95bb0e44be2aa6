// The project's list of scanned images (GET /projects/{p}/vulnerabilities/artifacts), on both
// metadata dialects (SQLite and a real PostgreSQL), since its ordering and severity filter are
// SQL of their own: images worst first (a critical before a high-only image before one with
// no findings, whose NULL "worst" must not sort first on PostgreSQL), the severity filter
// keeping images with a finding of that severity, an image stored in two repositories listed
// in each with that repository's tags, signatures/SBOMs (unsupported) left out, pagination and
// a bad severity answering 400.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostgresServer, startPostgres } from "../../registry/postgres-server.js";
import type { BerthProcess } from "../../support/berth-process.js";
import { run } from "../../support/process-control.js";
import { importFixtureDb, npmImage, startScanningBerth } from "../../support/scanning.js";
import type { BuiltImage } from "../catalogers/support/image-builder.js";

const ADMIN_PASSWORD = "artifact-scans-admin-1";
const CREDS = `admin:${ADMIN_PASSWORD}`;

interface Row {
  repository: string;
  digest: string;
  status: string;
  counts: Record<string, number>;
  tags: string[];
}

let work: string;
let postgres: PostgresServer;
const images: BuiltImage[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-artifact-scans-"));
  await importFixtureDb(join(work, "vulndb"));
  postgres = await startPostgres();
  images.push(
    await npmImage("critical", [["lodash", "4.17.11"]]),
    await npmImage("high", [["semver", "7.5.1", "ISC"]]),
    await npmImage("clean", [["left-pad", "1.3.0"]]),
  );
}, 300_000);

afterAll(async () => {
  for (const image of images) await image.remove();
  await postgres?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

for (const dialect of ["sqlite", "postgres"] as const) {
  describe(`the project's scanned images (${dialect})`, () => {
    let server: BerthProcess;

    async function api<T>(method: string, path: string, body?: unknown) {
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

    async function push(source: string, target: string): Promise<void> {
      const r = await run(
        "skopeo",
        [
          ...["copy", "--dest-tls-verify=false", "--dest-creds", CREDS],
          ...[source, `docker://${server.host}/${target}`],
        ],
        { timeoutMs: 180_000 },
      );
      expect(r.code, r.stderr).toBe(0);
    }

    const list = (query = "") =>
      api<{ items: Row[]; total: number }>(
        "GET",
        `/projects/team/vulnerabilities/artifacts${query}`,
      );

    beforeAll(async () => {
      server = await startScanningBerth({
        adminPassword: ADMIN_PASSWORD,
        dbDir: join(work, "vulndb"),
        env:
          dialect === "postgres"
            ? {
                BERTH_DATABASE_DRIVER: "postgres",
                BERTH_DATABASE_URL: await postgres.createDatabase("artifact_scans"),
              }
            : {},
      });
      expect((await api("POST", "/projects", { name: "team" })).status).toBe(201);
      await api("PUT", "/projects/team/scan-policy", { scanOnPush: true });
      const [critical, high, clean] = images as [BuiltImage, BuiltImage, BuiltImage];
      // Pushed cleanest first, so the order asked for is not the push order.
      await push(clean.reference, "team/clean:1");
      await push(high.reference, "team/high:1");
      await push(critical.reference, "team/critical:1");
      await push(critical.reference, "team/copy:a");
    }, 300_000);

    afterAll(async () => {
      await server?.stop();
    });

    it("lists the images worst first, each in its repository with its tags", async () => {
      await expect
        .poll(async () => (await list()).json.items.map((r) => `${r.repository} ${r.status}`), {
          timeout: 90_000,
        })
        .toEqual(["team/copy done", "team/critical done", "team/high done", "team/clean done"]);
      const all = (await list()).json;
      expect(all.total).toBe(4);
      expect(all.items.map((r) => r.tags)).toEqual([["a"], ["1"], ["1"], ["1"]]);
      expect(all.items[0]?.digest).toBe(all.items[1]?.digest);
      expect(all.items[0]?.counts.CRITICAL).toBe(1);
      expect(all.items[2]?.counts.CRITICAL ?? 0).toBe(0);
      expect(all.items[2]?.counts.HIGH).toBe(1);
      // The SBOM referrers the scans attached are in the summary, not in this list.
      // (Each SBOM is pushed after its image's scan, and recorded by a scan job of its own.)
      await expect
        .poll(
          async () =>
            (await api<{ artifacts: number }>("GET", "/projects/team/vulnerabilities/summary")).json
              .artifacts,
          { timeout: 60_000 },
        )
        .toBeGreaterThan(all.total);
    });

    it("filters by severity, paginates, sorts by repository, and refuses a bad severity", async () => {
      const critical = (await list("?severity=critical")).json;
      expect(critical.items.map((r) => r.repository)).toEqual(["team/copy", "team/critical"]);
      const high = (await list("?severity=high")).json;
      expect(high.items.map((r) => r.repository)).toEqual(["team/high"]);
      const either = (await list("?severity=critical,high")).json;
      expect(either.total).toBe(3);
      const page2 = (await list("?page=2&page_size=3")).json;
      expect(page2.items.map((r) => r.repository)).toEqual(["team/clean"]);
      expect(page2.total).toBe(4);
      const byName = (await list("?sort=repository")).json;
      expect(byName.items.map((r) => r.repository)).toEqual([
        "team/clean",
        "team/copy",
        "team/critical",
        "team/high",
      ]);
      const bad = await list("?severity=urgent");
      expect(bad.status).toBe(400);
      const badSort = await list("?sort=size");
      expect(badSort.status).toBe(400);
      expect((await api("GET", "/projects/nope/vulnerabilities/artifacts")).status).toBe(404);
    });
  });
}
