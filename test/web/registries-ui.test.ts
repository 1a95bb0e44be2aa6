// The registries page in a real browser (Debian's chromium through playwright-core) against a
// real `berth serve` and the reference registry (docker-registry) with htpasswd auth: add an
// endpoint with a wrong password (its connection test fails with the registry's refusal), fix
// the password in the edit form (the test passes), add a second with the right one, delete it
// through the confirmation dialog; make a project a proxy cache of the first (which then
// cannot be deleted) and stop proxying. The password never appears on the page or in the API.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { type Chromium, ensureWebBuild, launchChromium } from "../support/browser.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";

const ADMIN_PASSWORD = "admin-password-for-registries-ui";
const PEER_USER = "mirror";
const PEER_PASSWORD = "Mirror-pass-59ad";

let berth: BerthProcess;
let upstream: ReferenceRegistry;
let browser: Chromium;
let page: Page;
let work: string;

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${berth.url}/api/v1${path}`, {
    ...init,
    headers: {
      authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`,
      "content-type": "application/json",
    },
  });
}

beforeAll(async () => {
  await ensureWebBuild();
  work = await mkdtemp(join(tmpdir(), "berth-registries-ui-"));
  [berth, upstream] = await Promise.all([
    startBerth({ env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD } }),
    startReferenceRegistry({ htpasswd: { username: PEER_USER, password: PEER_PASSWORD } }),
  ]);
  browser = await launchChromium();
  page = await browser.context.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([berth?.stop(), upstream?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the registries page", () => {
  it("adds, tests, fixes and deletes registry endpoints", async () => {
    await page.goto(`${berth.url}/admin/registries`);
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Registries" }).waitFor();
    await expect.poll(() => page.getByText("No registry endpoints yet.").count()).toBe(1);

    const form = page.getByRole("form", { name: "New registry endpoint" });
    await form.getByLabel("Name", { exact: true }).fill("upstream");
    await form.getByLabel("URL", { exact: true }).fill(upstream.url);
    await form.getByLabel("Username").fill(PEER_USER);
    await form.getByLabel("Password", { exact: true }).fill("wrong-password");
    await form.getByLabel("Description").fill("reference registry");
    await form.getByRole("button", { name: "Add registry" }).click();
    const row = page.getByTestId("registry-upstream");
    await row.waitFor();
    expect(await row.textContent()).toContain(upstream.url);
    expect(await row.textContent()).toContain("plain HTTP");

    await row.getByRole("button", { name: "Test" }).click();
    const status = page.getByTestId("registry-upstream-status");
    await expect.poll(() => status.textContent()).toContain("failed");
    expect(await status.textContent()).toContain(`refused the credentials of ${PEER_USER}`);

    await row.getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("form", { name: "Edit registry upstream" });
    expect(await edit.getByLabel("Password", { exact: true }).getAttribute("placeholder")).toBe(
      "unchanged",
    );
    await edit.getByLabel("Password", { exact: true }).fill(PEER_PASSWORD);
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.waitFor({ state: "detached" });
    await row.getByRole("button", { name: "Test" }).click();
    await expect.poll(() => status.textContent()).toContain("reachable");

    // A bad URL: the API's message, nothing added.
    await form.getByLabel("Name", { exact: true }).fill("broken");
    await form.getByLabel("URL", { exact: true }).fill("ftp://example.com");
    await form.getByRole("button", { name: "Add registry" }).click();
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toContain("must start with https:// or http://");
    expect(await page.getByTestId("registry-broken").count()).toBe(0);

    await form.getByLabel("Name", { exact: true }).fill("second");
    await form.getByLabel("URL", { exact: true }).fill(upstream.url);
    await form.getByRole("button", { name: "Add registry" }).click();
    const second = page.getByTestId("registry-second");
    await second.waitFor();
    await second.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Delete registry" }).click();
    await second.waitFor({ state: "detached" });

    // Make an existing project a proxy cache of the endpoint, then stop proxying.
    const project = await api("/projects", {
      method: "POST",
      body: JSON.stringify({ name: "cache" }),
    });
    expect(project.status).toBe(201);
    const proxyForm = page.getByRole("form", { name: "New proxy-cache project" });
    await proxyForm.getByLabel("Project", { exact: true }).fill("cache");
    await proxyForm.getByLabel("Upstream").selectOption("upstream");
    await proxyForm.getByLabel("Tag TTL (seconds)").fill("60");
    await proxyForm.getByRole("button", { name: "Make proxy cache" }).click();
    const proxyRow = page.getByTestId("proxy-cache");
    await proxyRow.waitFor();
    expect(await proxyRow.textContent()).toContain("60 s");
    const bound = (await (await api("/projects/cache/proxy")).json()) as Record<string, unknown>;
    expect(bound).toMatchObject({ project: "cache", endpoint: "upstream", ttlSeconds: 60 });
    // An endpoint in use cannot be deleted: the dialog shows the API's refusal.
    await row.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Delete registry" }).click();
    await expect
      .poll(() => page.getByRole("dialog").getByRole("alert").textContent())
      .toContain('in use by proxy project "cache"');
    await page.getByRole("button", { name: "Cancel" }).click();
    await proxyRow.getByRole("button", { name: "Stop proxying" }).click();
    await proxyRow.waitFor({ state: "detached" });
    expect((await api("/projects/cache/proxy")).status).toBe(404);

    expect(await page.content()).not.toContain(PEER_PASSWORD);
    const listed = await api("/registries");
    const text = await listed.text();
    expect(text).not.toContain(PEER_PASSWORD);
    const names = (JSON.parse(text) as { name: string; hasPassword: boolean }[]).map((e) => [
      e.name,
      e.hasPassword,
    ]);
    expect(names).toEqual([["upstream", true]]);
  });
});
