// The self-contained HTML reports of `berth scan --format html` and `berth gate --format html`,
// opened in a real browser (Debian's chromium through playwright-core, headless, network
// requests recorded): one file, no request beyond the file itself, no element loading or
// linking anything (no src/href), the tables and the findings present, and a click on a
// column header sorts the table.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth, berthOk } from "../cli/berth-cli.js";
import {
  APP_LAYER,
  BASE_LAYER,
  GOOD_LABELS,
  npmPackage,
  writeGateImage,
} from "../policy/gate-images.js";
import { RECORDS_DIR } from "../scan/fixtures.js";
import { findExecutable } from "../support/tools.js";

let work: string;
let browser: Browser;
let image: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-html-report-"));
  const executablePath = findExecutable("chromium");
  if (!executablePath) throw new Error("chromium is required (Debian package chromium)");
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  await berthOk(["db", "import", "--db-dir", join(work, "db"), RECORDS_DIR]);
  const built = await writeGateImage(join(work, "image"), "1", {
    layers: [
      BASE_LAYER,
      [...APP_LAYER, npmPackage("lodash", "4.17.11", "MIT"), npmPackage("minimist", "1.2.5")],
    ],
    labels: { maintainer: GOOD_LABELS.maintainer },
  });
  image = built.reference;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Opened {
  requests: string[];
  tables: { headers: string[]; rows: string[][] }[];
  linking: number;
  sortedFirstColumn: () => Promise<string[]>;
}

async function open(file: string): Promise<Opened> {
  const context = await browser.newContext({ javaScriptEnabled: true });
  const page = await context.newPage();
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).toString(), { waitUntil: "load" });
  const tables = (await page.evaluate(`Array.from(document.querySelectorAll("table")).map((t) => ({
    headers: Array.from(t.querySelectorAll("thead th")).map((h) => h.textContent),
    rows: Array.from(t.tBodies[0] ? t.tBodies[0].rows : []).map((r) =>
      Array.from(r.cells).map((c) => c.textContent)),
  }))`)) as Opened["tables"];
  const linking = (await page.evaluate(
    `document.querySelectorAll("[src],[href],link,img,iframe,object").length`,
  )) as number;
  const firstColumn = `(() => { const ts = document.querySelectorAll("table");
    return Array.from(ts[ts.length - 1].tBodies[0].rows).map((r) => r.cells[0].textContent); })()`;
  return {
    requests,
    tables,
    linking,
    sortedFirstColumn: async () => {
      await page.click("table >> nth=-1 >> thead th >> nth=0");
      const asc = (await page.evaluate(firstColumn)) as string[];
      await page.click("table >> nth=-1 >> thead th >> nth=0");
      const desc = (await page.evaluate(firstColumn)) as string[];
      await context.close();
      expect(desc).toEqual([...asc].reverse());
      return asc;
    },
  };
}

describe("HTML reports in a real browser", () => {
  it("berth scan --format html: one self-contained file with the findings in sortable tables", async () => {
    const out = join(work, "scan.html");
    await berthOk(["scan", "--db-dir", join(work, "db"), "--format", "html", "-o", out, image]);
    const html = await readFile(out, "utf8");
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    const page = await open(out);
    expect(page.requests).toEqual([pathToFileURL(out).toString()]);
    expect(page.linking).toBe(0);
    expect(page.tables.length).toBeGreaterThan(0);
    const cells = page.tables.flatMap((t) => t.rows.flat()).join("\n");
    expect(cells).toContain("GHSA-jf85-cpcp-j695");
    expect(cells).toContain("lodash");
    expect(cells).toMatch(/CRITICAL/);
    const column = await page.sortedFirstColumn();
    expect(column).toEqual([...column].sort((a, b) => a.localeCompare(b)));
  }, 120_000);

  it("berth gate --format html: every rule in a sortable table, the failed one with its evidence", async () => {
    const policy = join(work, "gate.yaml");
    await writeFile(
      policy,
      "maxSize: 1MB\nrequiredLabels:\n  maintainer: '@example\\.com$'\n  version: '.+'\nforbiddenPackages: [minimist]\n",
    );
    const out = join(work, "gate.html");
    const r = await berth(["gate", image, "--policy", policy, "--format", "html", "-o", out]);
    expect(r.code, r.stderr).toBe(1);
    const page = await open(out);
    expect(page.requests).toEqual([pathToFileURL(out).toString()]);
    expect(page.linking).toBe(0);
    const rules = page.tables.find((t) => t.headers.some((h) => /rule/i.test(h)));
    expect(rules, JSON.stringify(page.tables)).toBeDefined();
    const text = rules!.rows.map((row) => row.join(" | ")).join("\n");
    expect(text).toMatch(/maxSize \| pass/);
    expect(text).toMatch(/requiredLabels \| fail/);
    expect(text).toContain("label version is missing");
    expect(text).toMatch(/forbiddenPackages \| fail/);
    expect(text).toContain("npm package minimist 1.2.5");
    await page.sortedFirstColumn();
  }, 120_000);
});
