// The web UI in Chromium (Debian's, headless, a fresh profile per run): first load of the
// project list (JavaScript + CSS bytes on the wire and gzip-compressed, time until the list
// is shown and interactive), and a repository with 10,000 tags (time from navigation to the
// first page of rows, and from a keystroke in the filter to the updated rows). Prints one
// JSON document. Run: node --import tsx bench/ui.ts [--tags N] [--rounds N]. Never asserts.
import { gzipSync } from "node:zlib";
import { ensureWebBuild, launchChromium } from "../test/support/browser.js";
import { FIXTURE_ADMIN_PASSWORD, startUiFixture } from "../test/support/ui-fixture.js";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} needs a positive integer`);
  return value;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** What the in-app navigation uses of the page's window (the bench compiles without DOM types). */
interface InPage {
  history: { pushState(state: null, title: string, url: string): void };
  dispatchEvent(event: unknown): void;
  PopStateEvent: new (type: string) => unknown;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function main(): Promise<void> {
  const tags = option("tags", 10_000);
  const rounds = option("rounds", 5);
  await ensureWebBuild();
  process.stderr.write(`ui bench: seeding ${tags} tags…\n`);
  const fixture = await startUiFixture({ extraTags: tags });
  const url = fixture.berth.url;
  const firstLoad: number[] = [];
  const firstRows: number[] = [];
  const filterUpdate: number[] = [];
  let wire = { js: 0, css: 0, jsGzip: 0, cssGzip: 0 };
  try {
    for (let r = 0; r < rounds; r++) {
      const browser = await launchChromium();
      try {
        const context = browser.context;
        const signIn = await context.request.post(`${url}/api/v1/session`, {
          data: { username: "admin", password: FIXTURE_ADMIN_PASSWORD },
        });
        if (signIn.status() !== 201) throw new Error(`sign-in answered ${signIn.status()}`);
        const page = await context.newPage();
        const bytes = { js: 0, css: 0, jsGzip: 0, cssGzip: 0 };
        page.on("response", async (response) => {
          const type = response.headers()["content-type"] ?? "";
          const kind = type.includes("javascript")
            ? "js"
            : type.includes("css")
              ? "css"
              : undefined;
          if (!kind) return;
          const body = await response.body();
          bytes[kind] += body.length;
          bytes[`${kind}Gzip`] += gzipSync(body, { level: 9 }).length;
        });
        // First load of the project list on a fresh profile: until a project link is
        // visible and the search box accepts input.
        const started = performance.now();
        await page.goto(`${url}/projects`);
        await page.getByRole("link", { name: "demo" }).waitFor();
        await page.getByLabel("Search projects").focus();
        firstLoad.push(performance.now() - started);
        await page.waitForLoadState("networkidle");
        // The first load only: pages loaded later (their own chunks) are not counted.
        wire = { ...bytes };
        // The 10,000-tag repository: navigation (inside the app) to the first rows.
        const repo = "/projects/demo/repo/demo%2Fweb?view=tags";
        const navStarted = performance.now();
        await page.evaluate((to) => {
          const w = globalThis as unknown as InPage;
          w.history.pushState(null, "", to);
          w.dispatchEvent(new w.PopStateEvent("popstate"));
        }, repo);
        await page.locator("tr[data-tag]").first().waitFor();
        firstRows.push(performance.now() - navStarted);
        // A keystroke in the filter: until the list shows the matching rows only.
        const filter = page.getByLabel("Filter tags");
        const total = page.getByTestId("tag-total");
        await filter.fill("build-0000");
        await total.filter({ hasText: /^9 tags$/ }).waitFor();
        const typed = performance.now();
        await filter.press("1");
        await total.filter({ hasText: /^1 tag$/ }).waitFor();
        filterUpdate.push(performance.now() - typed);
      } finally {
        await browser.close();
      }
    }
  } finally {
    await fixture.close();
  }
  const report = {
    tags,
    rounds,
    bundle: {
      jsBytes: wire.js,
      cssBytes: wire.css,
      gzipTotalBytes: wire.jsGzip + wire.cssGzip,
      gzipTotalKiB: round((wire.jsGzip + wire.cssGzip) / 1024),
    },
    firstLoadInteractiveMs: { median: round(median(firstLoad)), samples: firstLoad.map(round) },
    tagsFirstPageMs: { median: round(median(firstRows)), samples: firstRows.map(round) },
    tagsFilterUpdateMs: { median: round(median(filterUpdate)), samples: filterUpdate.map(round) },
    targets: {
      gzipTotalKiB: 250,
      firstLoadInteractiveMs: 1000,
      tagsFirstPageMs: 300,
      tagsFilterUpdateMs: 100,
    },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

await main();
