// The lifecycle pages of the web UI in a real browser (Debian's chromium through
// playwright-core) against a real `berth serve` with token auth. Jobs: the administrator
// starts a GC dry run from the Jobs page, sees the gc job reach `succeeded`, filters by state
// (kept in the URL across a reload) and opens the job with its log. Policies: in a project's
// Policies tab the administrator adds a tag immutability rule (the registry then refuses moving
// a matching tag to another image, naming the rule) and removes it again (the re-push then passes).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { type Chromium, ensureWebBuild, launchChromium } from "../support/browser.js";
import { run } from "../support/process-control.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const PASSWORD = "admin-password-for-lifecycle-ui";
const CREDS = `admin:${PASSWORD}`;

let berth: BerthProcess;
let browser: Chromium;
let page: Page;
let work: string;
let source = "";
let other = "";

const push = (tag: string, from = source) =>
  run(
    "skopeo",
    [
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      CREDS,
      from,
      `docker://${berth.host}/life/app:${tag}`,
    ],
    { timeoutMs: 120_000 },
  );

beforeAll(async () => {
  await ensureWebBuild();
  berth = await startBerth({
    env: {
      BERTH_AUTH: "token",
      BERTH_ADMIN_PASSWORD: PASSWORD,
      BERTH_AUTO_CREATE_PROJECTS: "true",
    },
  });
  work = await mkdtemp(join(tmpdir(), "berth-lifecycle-ui-"));
  source = (
    await syntheticImageLayout(join(work, "img"), "1", {
      layers: [{ seed: "lifecycle-ui", size: 10_000 }],
      label: "life",
    })
  ).reference;
  other = (
    await syntheticImageLayout(join(work, "other"), "1", {
      layers: [{ seed: "lifecycle-ui-2", size: 10_000 }],
      label: "other",
    })
  ).reference;
  const first = await push("v1");
  if (first.code !== 0) throw new Error(`skopeo push failed: ${first.stderr}`);
  browser = await launchChromium();
  page = await browser.context.newPage();
  await page.goto(`${berth.url}/projects`);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("signed-in-user").waitFor();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await berth?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("lifecycle pages", () => {
  it("Jobs: a GC dry run started from the page succeeds, filters stay in the URL, the log shows", async () => {
    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Jobs" })
      .click();
    await page.getByRole("heading", { name: "Jobs" }).waitFor();
    await page.getByRole("button", { name: "Start a GC dry run" }).click();
    const gcRow = page.getByRole("row").filter({ hasText: "gc" });
    await expect
      .poll(
        async () => {
          await page.reload();
          await page.getByRole("heading", { name: "Jobs" }).waitFor();
          return (
            (await gcRow
              .first()
              .textContent()
              .catch(() => "")) ?? ""
          );
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toContain("succeeded");
    await page.getByLabel("State").selectOption("failed");
    await expect.poll(() => page.getByRole("row").filter({ hasText: "gc" }).count()).toBe(0);
    expect(page.url()).toContain("state=failed");
    await page.getByLabel("State").selectOption("succeeded");
    await page.reload();
    await gcRow.first().waitFor();
    expect(page.url()).toContain("state=succeeded");
    await gcRow.first().getByRole("link").click();
    await page.getByRole("heading", { name: /Job \d+: gc/ }).waitFor();
    await expect.poll(() => page.locator("pre.log").textContent()).toContain("planned:");
  }, 120_000);

  it("Policies: an immutability rule added in the page refuses moving a tag; removed, the push passes", async () => {
    await page.goto(`${berth.url}/projects/life/policies`);
    await page.getByRole("heading", { name: "Tag immutability" }).waitFor();
    const form = page.getByRole("form", { name: "Add immutability rule" });
    await form.getByLabel("Repository pattern").fill("**");
    await form.getByLabel("Tag pattern").fill("v*");
    await form.getByRole("button", { name: "Add rule" }).click();
    const rule = page.getByRole("listitem").filter({ hasText: "v*" });
    await rule.waitFor();
    // Moving v1 to another image is what the rule refuses.
    const refused = await push("v1", other);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/immutab/i);
    await page.reload();
    await rule.waitFor();
    await rule.getByRole("button", { name: "Remove" }).click();
    await page.getByText("No rules: every tag may move.").waitFor();
    const again = await push("v1", other);
    expect(again.code, again.stderr).toBe(0);
  }, 180_000);
});
