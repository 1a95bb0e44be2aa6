// The Trash page of the web UI in a real browser (Debian's chromium through playwright-core)
// against a real `berth serve` with token auth: skopeo pushes two images, deletes one by
// digest, `berth delete` the other's tag; the administrator sees both entries (kind, tags, reason),
// filters by kind (kept in the URL, so a reload shows the same list), restores the artifact
// (skopeo then reads the same digest under its tag), and purges the tag entry for good
// through the confirmation dialog (a trash-purge job), after which it is gone from the list.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../../src/oci/index.js";
import { BERTH_BIN, type BerthProcess, startBerth } from "../support/berth-process.js";
import { type Chromium, ensureWebBuild, launchChromium } from "../support/browser.js";
import { skopeo, skopeoCopy } from "../support/container-tools.js";
import { run } from "../support/process-control.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const PASSWORD = "admin-password-for-trash-ui";
const CREDS = `admin:${PASSWORD}`;

let berth: BerthProcess;
let browser: Chromium;
let page: Page;
let work: string;
const digests: Record<string, string> = {};

const rows = () =>
  page
    .getByTestId("trash-row")
    .allInnerTexts()
    .then((texts) => texts.map((t) => t.replace(/\s+/g, " ").trim()));

const digestAt = async (reference: string) =>
  digestOf(
    Buffer.from(
      (await skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", CREDS, reference]))
        .stdout,
    ),
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
  work = await mkdtemp(join(tmpdir(), "berth-trash-ui-"));
  for (const name of ["a", "b"]) {
    const image = await syntheticImageLayout(join(work, name), "1", {
      layers: [{ seed: `trash-ui-${name}`, size: 20_000 }],
      label: name,
    });
    digests[name] = image.manifest.digest;
    await skopeoCopy(image.reference, `docker://${berth.host}/shop/${name}:1`, [
      "--dest-creds",
      CREDS,
    ]);
  }
  const del = (ref: string) =>
    skopeo(["delete", "--tls-verify=false", "--creds", CREDS, `docker://${berth.host}/${ref}`]);
  await del(`shop/b@${digests.b}`);
  // The tag only (OCI 1.1 tag delete): skopeo would resolve the tag and delete the manifest.
  const tagDelete = await run(
    process.execPath,
    [BERTH_BIN, "delete", `${berth.host}/shop/a:1`, "--creds", CREDS],
    { timeoutMs: 60_000 },
  );
  if (tagDelete.code !== 0) throw new Error(`berth delete failed: ${tagDelete.stderr}`);
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

describe("the Trash page", () => {
  it("lists, filters, restores and purges", async () => {
    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Trash" })
      .click();
    await page.getByRole("heading", { name: "Trash" }).waitFor();
    await page.getByTestId("trash-row").nth(1).waitFor();
    const listed = await rows();
    expect(listed).toHaveLength(2);
    expect(listed[0]).toContain("shop/a:1");
    expect(listed[0]).toContain("tag");
    expect(listed[1]).toContain("shop/b@");
    expect(listed[1]).toContain("artifact");
    expect(listed[1]).toContain("deleted");

    // The kind filter lives in the URL: a reload shows the same list.
    await page.getByLabel("Kind").selectOption("tag");
    await expect.poll(rows).toHaveLength(1);
    expect(page.url()).toContain("kind=tag");
    await page.reload();
    await page.getByTestId("trash-row").first().waitFor();
    expect(await rows()).toEqual([expect.stringContaining("shop/a:1")]);
    await page.getByLabel("Kind").selectOption("artifact");
    await expect.poll(rows).toEqual([expect.stringContaining("shop/b@")]);

    // Restore the artifact: skopeo reads the same digest under its tag again.
    await page.getByRole("button", { name: /^Restore shop\/b@/ }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("Restored shop/b@");
    await expect.poll(rows).toEqual([]);
    expect(await digestAt(`docker://${berth.host}/shop/b:1`)).toBe(digests.b);

    // Purge the tag entry for good, through the confirmation.
    await page.getByLabel("Kind").selectOption("");
    await page.getByRole("button", { name: "Purge shop/a:1" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("can no longer be restored").waitFor();
    await dialog.getByRole("button", { name: "Purge for good" }).click();
    await expect
      .poll(() => page.getByRole("status").textContent())
      .toContain("Purge queued as job");
    await expect
      .poll(
        async () => {
          await page.reload();
          await page.getByRole("heading", { name: "Trash" }).waitFor();
          return page.getByText("The trash is empty.").count();
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toBe(1);
  }, 180_000);
});
