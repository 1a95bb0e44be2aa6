// Writes screenshots of the web UI's main pages, light and dark, at laptop and phone widths,
// into docs/ui/ (shown by docs/ui.md). Starts its own Berth with realistic content
// (test/support/ui-fixture.ts) and Debian's chromium (headless, fresh profile), builds the
// UI first if web/ changed. Run: node --import tsx scripts/ui-screenshots.ts
// It must never write outside docs/ui/, and ends only the processes it started.
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { ensureWebBuild, launchChromium } from "../test/support/browser.js";
import { FIXTURE_ADMIN_PASSWORD, startUiFixture } from "../test/support/ui-fixture.js";

const OUT = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "docs", "ui");

interface Shot {
  name: string;
  path: (digest: string) => string;
  /** Waits until the page shows its content. */
  ready: (page: Page) => Promise<void>;
  phone?: boolean;
}

const SHOTS: Shot[] = [
  {
    name: "projects",
    path: () => "/projects",
    ready: (p) => p.getByRole("link", { name: "demo" }).waitFor(),
    phone: true,
  },
  {
    name: "repositories",
    path: () => "/projects/demo/repositories",
    ready: (p) => p.getByRole("link", { name: "demo/web" }).waitFor(),
  },
  {
    name: "artifacts",
    path: () => "/projects/demo/repo/demo%2Fweb",
    ready: (p) => p.locator("tr[data-digest]").first().waitFor(),
    phone: true,
  },
  {
    name: "tags",
    path: () => "/projects/demo/repo/demo%2Fweb?view=tags",
    ready: (p) => p.locator("tr[data-tag]").first().waitFor(),
  },
  {
    name: "artifact",
    path: (digest) => `/projects/demo/repo/demo%2Fweb/artifacts/${digest}`,
    ready: (p) => p.getByTestId("layer-row").first().waitFor(),
    phone: true,
  },
  {
    name: "members",
    path: () => "/projects/demo/members",
    ready: (p) => p.getByRole("cell", { name: "alice", exact: true }).waitFor(),
  },
  {
    name: "robots",
    path: () => "/projects/demo/robots",
    ready: (p) => p.getByText("robot$demo+ci").waitFor(),
  },
  {
    name: "audit",
    path: () => "/projects/demo/audit",
    ready: (p) => p.locator("tbody tr").first().waitFor(),
  },
  {
    name: "admin-users",
    path: () => "/admin/users",
    ready: (p) => p.getByRole("cell", { name: "bob", exact: true }).waitFor(),
  },
  {
    name: "policies",
    path: () => "/projects/demo/policies",
    ready: (p) => p.getByRole("heading", { name: "Tag immutability" }).waitFor(),
  },
  {
    name: "admin-quotas",
    path: () => "/admin/quotas",
    ready: (p) => p.getByRole("form", { name: "Registry quota" }).waitFor(),
  },
  {
    name: "admin-system",
    path: () => "/admin/system",
    ready: (p) => p.getByText("Authentication").waitFor(),
  },
  {
    name: "admin-jobs",
    path: () => "/admin/jobs",
    ready: (p) => p.getByRole("heading", { name: "Jobs" }).waitFor(),
  },
];

async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/projects`);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(FIXTURE_ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("signed-in-user").waitFor();
}

async function main(): Promise<void> {
  await ensureWebBuild();
  await mkdir(OUT, { recursive: true });
  const fixture = await startUiFixture({ extraTags: 40 });
  try {
    for (const theme of ["light", "dark"] as const) {
      for (const device of ["laptop", "phone"] as const) {
        const browser = await launchChromium({
          colorScheme: theme,
          viewport:
            device === "laptop" ? { width: 1366, height: 860 } : { width: 390, height: 844 },
        });
        try {
          const page = await browser.context.newPage();
          await page.goto(`${fixture.berth.url}/signin`);
          if (device === "laptop") {
            await page.getByLabel("Username").waitFor();
            await page.screenshot({ path: join(OUT, `signin-${theme}.png`) });
          }
          await signIn(page, fixture.berth.url);
          for (const shot of SHOTS) {
            if (device === "phone" && !shot.phone) continue;
            await page.goto(`${fixture.berth.url}${shot.path(fixture.imageDigest)}`);
            await shot.ready(page);
            await page.waitForLoadState("networkidle");
            const file = `${shot.name}-${theme}${device === "phone" ? "-phone" : ""}.png`;
            await page.screenshot({ path: join(OUT, file), fullPage: device === "laptop" });
            process.stdout.write(`wrote docs/ui/${file}\n`);
          }
        } finally {
          await browser.close();
        }
      }
    }
  } finally {
    await fixture.close();
  }
}

await main();
