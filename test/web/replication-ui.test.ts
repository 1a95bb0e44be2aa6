// The Replication page in a real browser (Debian's chromium) against a real `berth serve`
// (token auth) and the reference registry as the remote: an administrator adds a rule in
// the form (a bad platform first: the API's message shows and nothing is stored), runs it,
// watches the execution succeed, opens its tasks, and removes the rule; skopeo confirms
// the copy on the reference registry with the same digest.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../../src/oci/index.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { type Chromium, ensureWebBuild, launchChromium } from "../support/browser.js";
import { skopeo, skopeoCopy } from "../support/container-tools.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const PASSWORD = "replication-ui-admin-1";

let berth: BerthProcess;
let reference: ReferenceRegistry;
let browser: Chromium;
let page: Page;
let work: string;
let digest: string;

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${berth.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
}

beforeAll(async () => {
  await ensureWebBuild();
  work = await mkdtemp(join(tmpdir(), "berth-replication-ui-"));
  [berth, reference] = await Promise.all([
    startBerth({
      env: {
        BERTH_AUTH: "token",
        BERTH_ADMIN_PASSWORD: PASSWORD,
        BERTH_JOBS_POLL_INTERVAL: "200ms",
      },
    }),
    startReferenceRegistry(),
  ]);
  expect((await api("POST", "/projects", { name: "team" })).status).toBe(201);
  const endpoint = await api("POST", "/registries", {
    name: "dr",
    url: `http://${reference.host}`,
  });
  expect(endpoint.status, await endpoint.clone().text()).toBe(201);
  const layout = await syntheticImageLayout(join(work, "img"), "v1", {
    label: "ui",
    layers: [{ seed: "ui-layer", size: 32 * 1024 }],
  });
  digest = layout.manifest.digest;
  const pushed = await skopeoCopy(layout.reference, `docker://${berth.host}/team/web:v1`, [
    "--dest-creds",
    `admin:${PASSWORD}`,
  ]);
  expect(pushed.code, pushed.stderr).toBe(0);
  browser = await launchChromium();
  page = await browser.context.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await berth?.stop();
  await reference?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the Replication page", () => {
  it("adds, runs and removes a rule, showing executions and tasks", async () => {
    await page.goto(`${berth.url}/admin/replication`);
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Replication" }).waitFor();
    await page.getByText("No replication rules yet.").waitFor();
    await page.getByRole("link", { name: "Replication" }).first().waitFor();

    await page.getByRole("button", { name: "Add a rule" }).click();
    const form = page.getByRole("form", { name: "Add a replication rule" });
    await form.getByRole("textbox", { name: "Name", exact: true }).fill("to-dr");
    await form.getByRole("textbox", { name: "Endpoint", exact: true }).fill("dr");
    await form.getByRole("textbox", { name: "Repositories", exact: true }).fill("team/**");
    await form.getByRole("textbox", { name: "Platforms", exact: true }).fill("amd64");
    await form.getByRole("textbox", { name: "Destination namespace", exact: true }).fill("mirror");
    await form.getByRole("button", { name: "Add rule" }).click();
    await expect
      .poll(() => form.getByRole("alert").textContent())
      .toContain('platform "amd64" is not os/arch');
    expect(await (await api("GET", "/replication/policies")).json()).toEqual([]);

    await form.getByRole("textbox", { name: "Platforms", exact: true }).fill("");
    await form.getByRole("button", { name: "Add rule" }).click();
    const rules = page.getByRole("table", { name: "Replication rules" });
    await rules.getByRole("cell", { name: "to-dr", exact: true }).waitFor();
    expect(await rules.textContent()).toContain("team/**");
    // an endpoint a rule uses cannot be removed
    const inUse = await api("DELETE", "/registries/dr");
    expect(inUse.status).toBe(409);
    expect(await inUse.text()).toContain('replication rule \\"to-dr\\"');

    await page.getByRole("button", { name: "Run to-dr" }).click();
    const executions = page.getByRole("table", { name: "Replication executions" });
    await executions.getByText("succeeded").waitFor({ timeout: 60_000 });
    await executions.getByRole("link").first().click();
    await expect
      .poll(() => page.getByTestId("execution-state").textContent())
      .toContain("1 copied");
    const tasks = page.getByRole("table", { name: "Tasks" });
    await tasks.getByText("team/web:v1").waitFor();
    expect(await tasks.textContent()).toContain("mirror/web");

    const raw = await skopeo([
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${reference.host}/mirror/web:v1`,
    ]);
    expect(digestOf(Buffer.from(raw.stdout, "utf8"))).toBe(digest);

    await page.getByRole("link", { name: "← Replication" }).click();
    await page.getByRole("button", { name: "Remove" }).click();
    await page.getByRole("button", { name: "Remove rule" }).click();
    await page.getByText("No replication rules yet.").waitFor();
    expect(await (await api("GET", "/replication/policies")).json()).toEqual([]);
  });
});
