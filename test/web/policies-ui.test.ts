// The policy editors of the web UI in a real browser (Debian's chromium through
// playwright-core) against a real `berth serve` with token auth: an administrator writes a
// retention policy in the form (a bad count is refused with the API's message and nothing
// is stored; rules added, removed and edited; a schedule), reloads to the same values,
// dry-runs it (nothing goes, skopeo still lists every tag), runs it for real after the
// confirmation (skopeo lists only what it kept), and deletes it; sets the trust policy (a
// mode without keys and a malformed key are refused naming the problem, a real public key
// is stored with its fingerprint, then turned off); sets a project quota on the admin
// Quotas page. A guest sees the same policies with nothing to change.
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { type Chromium, ensureWebBuild, launchChromium } from "../support/browser.js";
import { skopeo, skopeoCopy } from "../support/container-tools.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const ADMIN_PASSWORD = "admin-password-for-policies-ui";
const GUEST_PASSWORD = "guest-password-for-policies-ui";

let berth: BerthProcess;
let browser: Chromium;
let page: Page;
let work: string;

async function api<T>(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; json: T | undefined }> {
  const res = await fetch(`${berth.url}/api/v1${path}`, {
    ...init,
    headers: {
      authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`,
      "content-type": "application/json",
      ...init.headers,
    },
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as T) : undefined };
}

async function listTags(): Promise<string[]> {
  const result = await skopeo([
    "list-tags",
    "--tls-verify=false",
    "--creds",
    `admin:${ADMIN_PASSWORD}`,
    `docker://${berth.host}/pol/app`,
  ]);
  return ((JSON.parse(result.stdout) as { Tags: string[] }).Tags ?? []).sort();
}

async function signIn(username: string, password: string): Promise<void> {
  await page.goto(`${berth.url}/projects`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("signed-in-user").waitFor();
}

beforeAll(async () => {
  await ensureWebBuild();
  work = await mkdtemp(join(tmpdir(), "berth-policies-ui-"));
  berth = await startBerth({ env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  expect(
    (await api("/projects", { method: "POST", body: JSON.stringify({ name: "pol" }) })).status,
  ).toBe(201);
  expect(
    (
      await api("/users", {
        method: "POST",
        body: JSON.stringify({ username: "guest", password: GUEST_PASSWORD }),
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await api("/projects/pol/members", {
        method: "POST",
        body: JSON.stringify({ username: "guest", role: "guest" }),
      })
    ).status,
  ).toBe(201);
  // Three different images, pushed one after the other: v1 oldest, v3 newest.
  for (const tag of ["v1", "v2", "v3"]) {
    const image = await syntheticImageLayout(join(work, tag), tag, {
      layers: [{ seed: `retention ${tag}`, size: 1024 }],
      label: tag,
    });
    await skopeoCopy(image.reference, `docker://${berth.host}/pol/app:${tag}`, [
      "--dest-creds",
      `admin:${ADMIN_PASSWORD}`,
    ]);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  browser = await launchChromium();
  page = await browser.context.newPage();
  await signIn("admin", ADMIN_PASSWORD);
});

afterAll(async () => {
  await browser?.close();
  await berth?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const retentionForm = () => page.getByRole("form", { name: "Retention policy" });
const status = () => page.getByTestId("retention-status").textContent();

describe("policy editors in chromium", () => {
  it("writes a retention policy in the form, refusing a bad count with the API's message", async () => {
    await page.goto(`${berth.url}/projects/pol/policies`);
    await expect.poll(status).toContain("No retention policy");
    const form = retentionForm();
    await expect.poll(() => form.getByTestId("retention-rule").count()).toBe(1);
    await form.getByLabel("Rule 1 count").fill("many");
    await form.getByRole("button", { name: "Save retention policy" }).click();
    await expect
      .poll(() => form.getByRole("alert").textContent())
      .toContain("rules/0/retain/mostRecentlyPushed must be integer");
    expect((await api("/projects/pol/retention")).status).toBe(404);

    // Add a second rule, then remove it again; edit the first.
    await form.getByRole("button", { name: "Add rule" }).click();
    await expect.poll(() => form.getByTestId("retention-rule").count()).toBe(2);
    await form.getByLabel("Rule 2 tag pattern").fill("release-*");
    await form.getByRole("button", { name: "Remove rule 2" }).click();
    await expect.poll(() => form.getByTestId("retention-rule").count()).toBe(1);
    await form.getByLabel("Rule 1 repository pattern").fill("app");
    await form.getByLabel("Rule 1 tag pattern").fill("v*");
    await form.getByLabel("Rule 1 keeps").selectOption("mostRecentlyPushed");
    await form.getByLabel("Rule 1 count").fill("1");
    await form.getByLabel(/^Schedule/).fill("0 3 * * *");
    await form.getByRole("button", { name: "Save retention policy" }).click();
    await expect.poll(status).toContain("Stored policy with 1 rule");

    const stored = await api<{ schedule: string; rules: unknown[] }>("/projects/pol/retention");
    expect(stored.status).toBe(200);
    expect(stored.json?.schedule).toBe("0 3 * * *");
    expect(stored.json?.rules).toEqual([
      {
        repositories: { matching: "app" },
        tags: { matching: "v*", untagged: false },
        retain: { mostRecentlyPushed: 1 },
      },
    ]);
    // A deep link reloads to the stored values.
    await page.reload();
    await expect.poll(() => retentionForm().getByLabel("Rule 1 count").inputValue()).toBe("1");
    expect(await retentionForm().getByLabel("Rule 1 tag pattern").inputValue()).toBe("v*");
  });

  it("dry-runs (nothing goes), runs after confirming (skopeo lists what it kept), and deletes the policy", async () => {
    await page.getByRole("button", { name: "Dry run" }).click();
    const report = page.getByTestId("retention-report");
    await expect.poll(() => report.textContent()).toContain("Dry run: 2 would be deleted, 1 kept");
    expect(await report.getByTestId("retention-delete").count()).toBe(2);
    expect(await listTags()).toEqual(["v1", "v2", "v3"]);

    await page.getByRole("button", { name: "Run now" }).click();
    const dialog = page.getByRole("dialog", { name: /Run retention in pol now/ });
    await dialog.getByRole("button", { name: "Delete what the rules do not keep" }).click();
    await expect.poll(() => report.textContent()).toContain("Run: 2 deleted, 1 kept");
    expect(await dialog.count()).toBe(0);
    expect(await listTags()).toEqual(["v3"]);

    await page.getByRole("button", { name: "Delete retention policy" }).click();
    await page
      .getByRole("dialog", { name: /Delete the retention policy/ })
      .getByRole("button", { name: "Delete retention policy" })
      .click();
    await expect.poll(status).toContain("No retention policy");
    expect((await api("/projects/pol/retention")).status).toBe(404);
    expect(await listTags()).toEqual(["v3"]);
  });

  it("sets the trust policy: refuses enforce without keys and a malformed key, stores a real key", async () => {
    await page.goto(`${berth.url}/projects/pol/policies`);
    const form = page.getByRole("form", { name: "Trust policy" });
    await form.getByRole("radio", { name: /^enforce/ }).check();
    await form.getByRole("button", { name: "Save trust policy" }).click();
    await expect
      .poll(() => form.getByRole("alert").textContent())
      .toContain('mode "enforce" needs at least one trusted public key');

    await form.getByRole("button", { name: "Add key" }).click();
    await form.getByLabel("Trusted public key 1 (PEM)").fill("not a key");
    await form.getByRole("button", { name: "Save trust policy" }).click();
    await expect.poll(() => form.getByRole("alert").textContent()).toContain("keys[0]");
    expect((await api<{ mode: string }>("/projects/pol/trust")).json?.mode).toBe("off");

    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
    await form.getByLabel("Trusted public key 1 (PEM)").fill(pem);
    await form.getByRole("button", { name: "Save trust policy" }).click();
    await expect
      .poll(() => page.getByTestId("trust-status").textContent())
      .toContain("Mode enforce with 1 trusted key");
    const stored = await api<{ mode: string; keys: { fingerprint: string }[] }>(
      "/projects/pol/trust",
    );
    expect(stored.json?.mode).toBe("enforce");
    const fingerprint = stored.json?.keys[0]?.fingerprint ?? "";
    expect(fingerprint).not.toBe("");
    expect(await page.getByTestId("trust-key").textContent()).toContain(fingerprint);

    await page.getByRole("button", { name: "Turn off and remove all keys" }).click();
    await expect
      .poll(() => page.getByTestId("trust-status").textContent())
      .toContain("Mode off with 0 trusted keys");
    expect(
      (await api<{ mode: string; keys: unknown[] }>("/projects/pol/trust")).json,
    ).toMatchObject({ mode: "off", keys: [] });
  });

  it("sets a project quota on the Quotas page, refusing text that is not a size", async () => {
    await page.goto(`${berth.url}/admin/quotas`);
    const form = page.getByRole("form", { name: "Project pol quota" });
    await form.getByLabel("Project pol limit").fill("lots");
    await form.getByRole("button", { name: "Set limit" }).click();
    await expect
      .poll(() => form.getByRole("alert").textContent())
      .toContain('"lots" is not a size');
    expect((await api<{ limitBytes: number | null }>("/projects/pol/quota")).json?.limitBytes).toBe(
      null,
    );
    await form.getByLabel("Project pol limit").fill("2GB");
    await form.getByRole("button", { name: "Set limit" }).click();
    await expect
      .poll(async () => (await api<{ limitBytes: number }>("/projects/pol/quota")).json?.limitBytes)
      .toBe(2_000_000_000);
    await expect
      .poll(() => page.getByRole("form", { name: "Project pol quota" }).textContent())
      .toContain("2 GB");
  });

  it("shows a guest the policies with nothing to change", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn("guest", GUEST_PASSWORD);
    await page.goto(`${berth.url}/projects/pol/policies`);
    await expect.poll(status).toContain("No retention policy");
    expect(await page.getByRole("button", { name: "Save retention policy" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Save trust policy" }).count()).toBe(0);
    expect(await retentionForm().getByLabel("Rule 1 count").isDisabled()).toBe(true);
    expect(
      await page
        .getByRole("form", { name: "Trust policy" })
        .getByRole("radio", { name: /^off/ })
        .isDisabled(),
    ).toBe(true);
  });
});
