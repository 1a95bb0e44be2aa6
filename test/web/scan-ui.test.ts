// The scanning and quality-gate views of the web UI in a real browser (Debian's chromium
// through playwright-core) against a real `berth serve` with token auth and the OSV fixture
// database (test/fixtures/osv/records) in its scan.dbDir. In the UI, an administrator turns
// scan on push and pull prevention on, attaches a quality-gate policy (a bad key is refused
// naming it, nothing stored), sees an image pushed with skopeo scanned without a manual step
// (counts, findings filtered by severity and fixable as the API filters them, a deep link
// that reloads to the same filter), its SBOM packages with licences, the project's
// Vulnerabilities tab (the summary and the images with their counts, worst first, filtered by
// severity as the API filters them), the gate verdict recorded at push, and each artifact row's
// scan counts and gate verdicts (push and pull) as the API summarises them; allowlists the CVE
// that blocked a skopeo pull and sees the pull pass, then an expired entry stop allowing it;
// asks for a scan of the project. A guest sees the same results and policies with nothing to
// change.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuiltImage } from "../scan/catalogers/support/image-builder.js";
import type { BerthProcess } from "../support/berth-process.js";
import { type Chromium, ensureWebBuild, launchChromium } from "../support/browser.js";
import { type CommandResult, run } from "../support/process-control.js";
import { importFixtureDb, langImage, npmImage, startScanningBerth } from "../support/scanning.js";

const ADMIN_PASSWORD = "admin-password-for-scan-ui";
const GUEST_PASSWORD = "guest-password-for-scan-ui";
const CREDS = `admin:${ADMIN_PASSWORD}`;

let berth: BerthProcess;
let browser: Chromium;
let page: Page;
let work: string;
let image: BuiltImage;
let digest = "";

interface Finding {
  id: string;
  severity: string;
  package: string;
}

async function api<T>(
  path: string,
  init: RequestInit = {},
  creds = CREDS,
): Promise<{ status: number; json: T }> {
  const res = await fetch(`${berth.url}/api/v1${path}`, {
    ...init,
    headers: {
      authorization: `Basic ${Buffer.from(creds).toString("base64")}`,
      "content-type": "application/json",
      ...init.headers,
    },
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
}

function skopeoCopy(source: string, destination: string, creds: string): Promise<CommandResult> {
  return run(
    "skopeo",
    [
      "copy",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      "--src-creds",
      creds,
      "--dest-creds",
      creds,
      source,
      destination,
    ],
    { timeoutMs: 180_000 },
  );
}

const pull = () =>
  skopeoCopy(`docker://${berth.host}/scanui/lang:1`, `oci:${join(work, "pulled")}:x`, CREDS);

const artifactApi = () =>
  `/projects/scanui/repositories/${encodeURIComponent("scanui/lang")}/artifacts/${digest}`;
const artifactUrl = (view: string) =>
  `${berth.url}/projects/scanui/repo/${encodeURIComponent("scanui/lang")}/artifacts/${digest}${
    view ? `?view=${view}` : ""
  }`;

async function signIn(username: string, password: string): Promise<void> {
  await page.goto(`${berth.url}/projects`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("signed-in-user").waitFor();
}

const rowTexts = (testId: string) =>
  page
    .getByTestId(testId)
    .allInnerTexts()
    .then((texts) => texts.map((t) => t.replace(/\s+/g, " ").trim()));

beforeAll(async () => {
  await ensureWebBuild();
  work = await mkdtemp(join(tmpdir(), "berth-scan-ui-"));
  image = await langImage();
  berth = await startScanningBerth({
    adminPassword: ADMIN_PASSWORD,
    dbDir: await importFixtureDb(join(work, "vulndb")),
  });
  expect(
    (await api("/projects", { method: "POST", body: JSON.stringify({ name: "scanui" }) })).status,
  ).toBe(201);
  const guest = await api("/users", {
    method: "POST",
    body: JSON.stringify({ username: "guestie", password: GUEST_PASSWORD }),
  });
  expect(guest.status, JSON.stringify(guest.json)).toBe(201);
  const member = await api("/projects/scanui/members", {
    method: "POST",
    body: JSON.stringify({ username: "guestie", role: "guest" }),
  });
  expect(member.status, JSON.stringify(member.json)).toBeLessThan(300);
  browser = await launchChromium();
  page = await browser.context.newPage();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await berth?.stop();
  await image?.remove();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("scanning and the quality gate in the web UI", () => {
  it("sets the scan policy and the gate policy on the Policies tab; a bad key is refused by name", async () => {
    await signIn("admin", ADMIN_PASSWORD);
    await page.goto(`${berth.url}/projects/scanui/policies`);
    const form = page.getByRole("form", { name: "Scan policy" });
    await form.getByLabel("Scan on push").check();
    await form.getByLabel(/Refuse pulls of images with vulnerabilities/).selectOption("CRITICAL");
    await form.getByRole("button", { name: "Save scan policy" }).click();
    await form.getByRole("status").waitFor();
    const stored = await api<{ scanOnPush: boolean; preventSeverity: string | null }>(
      "/projects/scanui/scan-policy",
    );
    expect(stored.json).toMatchObject({ scanOnPush: true, preventSeverity: "CRITICAL" });
    // After a reload the form shows what the server stored.
    await page.reload();
    expect(await page.getByLabel("Scan on push").isChecked()).toBe(true);
    expect(await page.getByLabel(/Refuse pulls of images with vulnerabilities/).inputValue()).toBe(
      "CRITICAL",
    );

    const gate = page.getByRole("form", { name: "Quality-gate policy" });
    await gate.getByLabel("Policy file").fill("maxSize: 100MB\nmaxSizes: 1GB\n");
    await gate.getByRole("button", { name: "Save gate policy" }).click();
    await expect
      .poll(() => page.getByTestId("gate-policy").getByRole("alert").textContent())
      .toContain("maxSizes");
    expect((await api("/projects/scanui/gate-policy")).status).toBe(404);

    await gate
      .getByLabel("Policy file")
      .fill("maxSize: 100MB\nforbiddenLicenses: [AGPL-3.0-only]\n");
    await gate.getByRole("button", { name: "Save gate policy" }).click();
    await expect
      .poll(() => page.getByTestId("gate-rules").textContent())
      .toContain("Enforced at push: maxSize; at pull: forbiddenLicenses.");
    const gateStored = await api<{ policy: string }>("/projects/scanui/gate-policy");
    expect(gateStored.json.policy).toBe("maxSize: 100MB\nforbiddenLicenses: [AGPL-3.0-only]\n");
  });

  it("shows an image pushed with skopeo scanned without a manual step, with filters that match the API", async () => {
    const pushed = await skopeoCopy(image.reference, `docker://${berth.host}/scanui/lang:1`, CREDS);
    expect(pushed.code, pushed.stderr).toBe(0);
    const tags = await api<{ items: { name: string; digest: string }[] }>(
      `/projects/scanui/repositories/${encodeURIComponent("scanui/lang")}/tags`,
    );
    digest = tags.json.items.find((t) => t.name === "1")?.digest ?? "";
    expect(digest).toMatch(/^sha256:/);

    await page.goto(artifactUrl(""));
    await page
      .getByRole("navigation", { name: "Artifact sections" })
      .getByRole("link", { name: "Vulnerabilities" })
      .click();
    await page.waitForURL(/\?view=vulnerabilities$/);
    await expect
      .poll(() => page.getByTestId("scan-status").textContent(), {
        timeout: 90_000,
      })
      .toBe("done");
    const all = await api<{ items: Finding[]; total: number }>(
      `${artifactApi()}/vulnerabilities?page_size=100`,
    );
    expect(all.json.total).toBeGreaterThanOrEqual(3);
    const counts = (await page.getByTestId("scan-counts").textContent()) ?? "";
    expect(counts).toContain("critical 1");
    const rows = await rowTexts("finding-row");
    expect(rows).toHaveLength(all.json.total);
    expect(rows.map((r) => r.split(" ")[0])).toEqual(
      all.json.items.map((f) => f.severity.toLowerCase()),
    );
    expect(rows.some((r) => r.includes("GHSA-jf85-cpcp-j695") && r.includes("lodash"))).toBe(true);

    await page.getByLabel("Severity").selectOption("critical");
    await page.waitForURL(/severity=critical/);
    await expect.poll(() => rowTexts("finding-row")).toHaveLength(1);
    expect((await rowTexts("finding-row"))[0]).toContain("GHSA-jf85-cpcp-j695");
    // The filter lives in the URL: a reload shows the same rows.
    await page.reload();
    await expect.poll(() => rowTexts("finding-row")).toHaveLength(1);

    await page.getByLabel("Severity").selectOption("");
    await page.getByLabel("Package").fill("requests");
    await page.getByLabel("Package").press("Enter");
    await page.waitForURL(/package=requests/);
    const onlyRequests = await api<{ total: number }>(
      `${artifactApi()}/vulnerabilities?package=requests`,
    );
    expect(onlyRequests.json.total).toBeGreaterThanOrEqual(1);
    await expect.poll(() => rowTexts("finding-row")).toHaveLength(onlyRequests.json.total);
    expect((await rowTexts("finding-row")).every((r) => r.includes("requests"))).toBe(true);

    await page.getByLabel("Fixable only").check();
    await page.waitForURL(/fixable=true/);
    const fixable = await api<{ total: number }>(
      `${artifactApi()}/vulnerabilities?package=requests&fixable=true`,
    );
    await expect.poll(() => rowTexts("finding-row")).toHaveLength(fixable.json.total);
  });

  it("lists the SBOM's packages with their licences and offers the SPDX download", async () => {
    await page.goto(artifactUrl("sbom"));
    await expect
      .poll(() => rowTexts("sbom-package"))
      .toEqual(["lodash 4.17.11 npm MIT", "requests 2.30.0 pypi", "semver 7.5.1 npm ISC"]);
    await page.getByLabel("Filter packages").fill("sem");
    await expect.poll(() => rowTexts("sbom-package")).toEqual(["semver 7.5.1 npm ISC"]);
    const href = await page.getByRole("link", { name: "Download SPDX" }).getAttribute("href");
    expect(href).toContain("/sbom?format=spdx-json");
    // The link is the API's: it answers the SPDX document with the page's session.
    const spdx = await page.evaluate(async (url) => (await fetch(url)).json(), href ?? "");
    expect((spdx as { spdxVersion: string }).spdxVersion).toBe("SPDX-2.3");
  });

  it("the project's Vulnerabilities tab: the summary and its images with counts, filtered by severity", async () => {
    // Two more images: one with only semver 7.5.1 (no critical finding), one with nothing known.
    const extra: BuiltImage[] = [
      await npmImage("scanui-semver", [["semver", "7.5.1", "ISC"]]),
      await npmImage("scanui-clean", [["left-pad", "1.3.0"]]),
    ];
    try {
      for (const [i, name] of ["semver", "clean"].entries()) {
        const pushed = await skopeoCopy(
          extra[i]?.reference ?? "",
          `docker://${berth.host}/scanui/${name}:1`,
          CREDS,
        );
        expect(pushed.code, pushed.stderr).toBe(0);
      }
    } finally {
      for (const x of extra) await x.remove();
    }
    interface Row {
      repository: string;
      digest: string;
      status: string;
      counts: Record<string, number>;
      tags: string[];
    }
    const listed = () =>
      api<{ items: Row[]; total: number }>("/projects/scanui/vulnerabilities/artifacts");
    await expect
      .poll(async () => (await listed()).json.items.map((r) => `${r.repository} ${r.status}`), {
        timeout: 90_000,
      })
      .toEqual(["scanui/lang done", "scanui/semver done", "scanui/clean done"]);
    const all = (await listed()).json;
    expect(all.items[0]?.counts.CRITICAL).toBe(1);
    expect(all.items[1]?.counts.CRITICAL ?? 0).toBe(0);
    expect(all.items[1]?.counts.HIGH).toBeGreaterThanOrEqual(1);
    expect(Object.values(all.items[2]?.counts ?? {}).every((n) => n === 0)).toBe(true);
    const critical = await api<{ items: Row[] }>(
      "/projects/scanui/vulnerabilities/artifacts?severity=critical",
    );
    expect(critical.json.items.map((r) => r.repository)).toEqual(["scanui/lang"]);
    const bad = await api("/projects/scanui/vulnerabilities/artifacts?severity=urgent");
    expect(bad.status).toBe(400);

    // The summary counts every manifest with a report: the three SBOM referrers too (recorded
    // unsupported once their own push event is handled).
    const summaryOf = () =>
      api<{ artifacts: number; database: { version: string; totalRecords: number } }>(
        "/projects/scanui/vulnerabilities/summary",
      );
    await expect.poll(async () => (await summaryOf()).json.artifacts).toBe(6);
    const summary = await summaryOf();
    await page.goto(`${berth.url}/projects/scanui/repositories`);
    await page
      .getByRole("navigation", { name: "Sections" })
      .getByRole("link", { name: "Vulnerabilities" })
      .click();
    await page.waitForURL(/\/projects\/scanui\/vulnerabilities$/);
    await expect
      .poll(() => page.getByTestId("project-vulnerability-summary").textContent())
      .toMatch(/^6 artifacts, 3 scanned, 2 vulnerable critical 1\s?high /);
    expect(await page.getByTestId("vulnerability-database").textContent()).toContain(
      `, ${summary.json.database.totalRecords} records, data of `,
    );
    await expect
      .poll(() => rowTexts("vulnerable-artifact"))
      .toEqual([
        expect.stringMatching(/^scanui\/lang@sha256:\S+ 1 done critical 1 ?high \d+.* \d+ of \d+/),
        expect.stringMatching(/^scanui\/semver@sha256:\S+ 1 done high \d+/),
        expect.stringMatching(/^scanui\/clean@sha256:\S+ 1 done no vulnerabilities 0 of 0/),
      ]);
    const rows = await rowTexts("vulnerable-artifact");
    expect(rows[1]).not.toContain("critical");

    await page.getByLabel("With a finding of severity").selectOption("critical");
    await page.waitForURL(/severity=critical/);
    await expect
      .poll(() => rowTexts("vulnerable-artifact"))
      .toEqual([expect.stringMatching(/^scanui\/lang@/)]);
    // The filter is in the URL: a reload shows the same rows.
    await page.reload();
    await expect
      .poll(() => rowTexts("vulnerable-artifact"))
      .toEqual([expect.stringMatching(/^scanui\/lang@/)]);
    await page.getByLabel("With a finding of severity").selectOption("low");
    const low = await api<{ items: Row[] }>(
      "/projects/scanui/vulnerabilities/artifacts?severity=low",
    );
    await expect.poll(() => rowTexts("vulnerable-artifact")).toHaveLength(low.json.items.length);

    // A row leads to the image's findings.
    await page.getByLabel("With a finding of severity").selectOption("critical");
    await expect.poll(() => rowTexts("vulnerable-artifact")).toHaveLength(1);
    await page.getByTestId("vulnerable-artifact").getByRole("link").click();
    await page.waitForURL(new RegExp(`/artifacts/${digest}\\?view=vulnerabilities$`));
    await expect.poll(() => page.getByTestId("scan-counts").textContent()).toContain("critical 1");
  });

  it("shows the quality-gate verdict recorded at push, rule by rule", async () => {
    await page.goto(artifactUrl("gate"));
    await expect.poll(() => rowTexts("gate-rule")).toHaveLength(2);
    const rules = await rowTexts("gate-rule");
    expect(rules[0]).toMatch(/^maxSize pass /);
    expect(rules[1]).toMatch(/^forbiddenLicenses undecided /);
    expect(await page.getByTestId("gate-verdict").textContent()).toContain("pass");
    const recorded = await api<{ verdict: string; rules: { rule: string; status: string }[] }>(
      `${artifactApi()}/gate`,
    );
    expect(recorded.json.verdict).toBe("pass");
    expect(recorded.json.rules.map((r) => `${r.rule} ${r.status}`)).toEqual([
      "maxSize pass",
      "forbiddenLicenses undecided",
    ]);
  });

  it("the artifacts list shows each row's scan counts and gate verdicts, as the API summarises them", async () => {
    const repo = `/projects/scanui/repositories/${encodeURIComponent("scanui/lang")}`;
    const listed = await api<{ items: { digest: string }[] }>(`${repo}/artifacts`);
    const digests = listed.json.items.map((a) => a.digest);
    expect(digests).toContain(digest);
    interface Summary {
      digest: string;
      scan: { status: string; counts: Record<string, number> };
      push: { verdict: string } | null;
      pull: { verdict: string; reasons: string[] };
    }
    const summaries = await api<{ items: Summary[] }>(
      `${repo}/artifact-summaries?digest=${digests.join(",")}`,
    );
    expect(summaries.status).toBe(200);
    const own = summaries.json.items.find((s) => s.digest === digest);
    expect(own?.scan).toMatchObject({ status: "done", counts: { CRITICAL: 1 } });
    expect(own?.push?.verdict).toBe("pass");
    // The pull admission's own judgement: the scan policy refuses CRITICAL (skopeo is refused
    // in the next test), so the row says so.
    expect(own?.pull.verdict).toBe("fail");
    expect(own?.pull.reasons.join(" ")).toContain("scan policy");
    // The SBOM referrer is not gated and not scanned as an image.
    const others = summaries.json.items.filter((s) => s.digest !== digest);
    expect(others.length).toBeGreaterThan(0);
    expect(others.every((s) => s.pull.verdict === "not-gated")).toBe(true);
    expect((await api(`${repo}/artifact-summaries?digest=latest`)).status).toBe(400);

    await page.goto(`${berth.url}/projects/scanui/repo/${encodeURIComponent("scanui/lang")}`);
    const row = page.locator(`tr[data-digest="${digest}"]`);
    await expect.poll(() => row.getByTestId("row-scan").getAttribute("data-status")).toBe("done");
    expect(await row.getByTestId("row-scan").textContent()).toContain("critical 1");
    const gate = row.getByTestId("row-gate");
    expect(await gate.getAttribute("data-pull")).toBe("fail");
    expect(await gate.getAttribute("data-push")).toBe("pass");
    expect(await gate.textContent()).toMatch(/pull blocked.*push pass/);
  });

  it("allowlists the CVE that refused a pull, and an expired entry stops allowing it", async () => {
    const refused = await pull();
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("GHSA-jf85-cpcp-j695");

    await page.goto(`${berth.url}/projects/scanui/policies`);
    const add = page.getByRole("form", { name: "Allowlist a vulnerability" });
    await add.getByLabel("Vulnerability id").fill("CVE-2019-10744");
    await add.getByRole("button", { name: "Allowlist" }).click();
    await expect
      .poll(() => rowTexts("allowlist-entry"))
      .toEqual([expect.stringMatching(/^CVE-2019-10744 no expiry by admin Remove$/)]);
    const allowed = await pull();
    expect(allowed.code, allowed.stderr).toBe(0);

    await page.getByTestId("allowlist-entry").getByRole("button", { name: "Remove" }).click();
    await expect.poll(() => rowTexts("allowlist-entry")).toEqual([]);
    await add.getByLabel("Vulnerability id").fill("CVE-2019-10744");
    await add.getByLabel("Expires").fill("2020-01-01");
    await add.getByRole("button", { name: "Allowlist" }).click();
    await expect
      .poll(() => rowTexts("allowlist-entry"))
      .toEqual([expect.stringMatching(/^CVE-2019-10744 expired 2020-01-01 by admin Remove$/)]);
    const again = await pull();
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("GHSA-jf85-cpcp-j695");
  });

  it("summarises the project and asks for a scan of it", async () => {
    const summary = page.getByTestId("project-scan-summary");
    await expect.poll(() => summary.textContent()).toMatch(/2 vulnerable .*critical 1/);
    await page.getByRole("button", { name: "Scan project" }).click();
    await expect
      .poll(() => page.getByTestId("scanning-policies").getByRole("status").textContent())
      .toMatch(/^[1-9]\d* scans queued\.$/);
    const jobs = await api<{ items: { payload: { digest: string; reason: string } }[] }>(
      "/jobs?kind=scan",
    );
    expect(
      jobs.json.items.some((j) => j.payload.digest === digest && j.payload.reason === "manual"),
    ).toBe(true);
  });

  it("a guest sees results and policies, with nothing to change", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn("guestie", GUEST_PASSWORD);
    await page.goto(artifactUrl("vulnerabilities"));
    await expect
      .poll(() => page.getByTestId("scan-status").textContent())
      .toMatch(/done|pending|running/);
    expect(await page.getByRole("button", { name: "Scan now" }).count()).toBe(0);
    await page.goto(`${berth.url}/projects/scanui/policies`);
    await page.getByRole("form", { name: "Scan policy" }).waitFor();
    expect(await page.getByLabel("Scan on push").isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Save scan policy" }).count()).toBe(0);
    expect(await page.getByRole("form", { name: "Allowlist a vulnerability" }).count()).toBe(0);
    expect(await page.getByRole("form", { name: "Quality-gate policy" }).count()).toBe(0);
    expect(await page.getByTestId("gate-policy").textContent()).toContain("maxSize: 100MB");
    expect(await page.getByRole("button", { name: "Scan project" }).count()).toBe(0);
    // The project's Vulnerabilities tab is theirs to read too.
    await page.goto(`${berth.url}/projects/scanui/vulnerabilities?severity=critical`);
    await expect
      .poll(() => rowTexts("vulnerable-artifact"))
      .toEqual([expect.stringMatching(/^scanui\/lang@/)]);
  });
});
