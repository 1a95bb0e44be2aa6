// The web UI in a real browser (Debian's chromium through playwright-core) against a real
// `berth serve` with token auth: sign in, create a project and a robot in the UI, push an
// image with skopeo as that robot and see it with its layers and pull command, remove a
// tag in the UI and check with skopeo that it is gone, and a user without rights sees no
// administration and gets the API's refusal when forcing an admin URL. Also the serving
// side: deep links answer index.html, assets are cached immutably, the CSP header is set,
// and the API and registry keep their own answers.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { type Chromium, ensureWebBuild, launchChromium } from "../support/browser.js";
import { skopeo, skopeoCopy } from "../support/container-tools.js";
import { run } from "../support/process-control.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const ADMIN_PASSWORD = "admin-password-for-ui";
const VIEWER_PASSWORD = "viewer-password-1";

let berth: BerthProcess;
let browser: Chromium;
let page: Page;
let work: string;

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${berth.url}/api/v1${path}`, {
    ...init,
    headers: {
      authorization: basic("admin", ADMIN_PASSWORD),
      "content-type": "application/json",
      ...init.headers,
    },
  });
}

/** `skopeo list-tags` as the administrator (the project is private). */
async function listTags(repository: string): Promise<string[]> {
  const result = await skopeo([
    "list-tags",
    "--tls-verify=false",
    "--creds",
    `admin:${ADMIN_PASSWORD}`,
    `docker://${repository}`,
  ]);
  return (JSON.parse(result.stdout) as { Tags: string[] }).Tags;
}

async function signIn(username: string, password: string): Promise<void> {
  await page.goto(`${berth.url}/projects`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("signed-in-user").waitFor();
}

async function signOut(): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
}

beforeAll(async () => {
  await ensureWebBuild();
  work = await mkdtemp(join(tmpdir(), "berth-ui-test-"));
  berth = await startBerth({
    env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD },
  });
  const created = await api("/users", {
    method: "POST",
    body: JSON.stringify({ username: "viewer", password: VIEWER_PASSWORD }),
  });
  expect(created.status, await created.clone().text()).toBe(201);
  browser = await launchChromium();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await berth?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("serving the UI", () => {
  it("answers index.html on deep links with a CSP, hashed assets with an immutable cache, and leaves the API alone", async () => {
    const deep = await fetch(`${berth.url}/projects/some/repo/x%2Fy/artifacts/sha256:00`);
    expect(deep.status).toBe(200);
    expect(deep.headers.get("content-type")).toContain("text/html");
    expect(deep.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await deep.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset, html).toBeDefined();
    const js = await fetch(`${berth.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect(js.headers.get("content-type")).toContain("javascript");
    expect(js.headers.get("content-encoding")).toBe("gzip");
    const plain = await fetch(`${berth.url}${asset}`, {
      headers: { "accept-encoding": "identity" },
    });
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect((await plain.text()).length).toBe((await js.text()).length);
    expect((await fetch(`${berth.url}/assets/..%2Fpackage.json`)).status).toBe(404);
    const unknownApi = await fetch(`${berth.url}/api/v1/no-such-thing`);
    expect(unknownApi.status).toBe(404);
    expect(((await unknownApi.json()) as { errors: unknown[] }).errors).toHaveLength(1);
    // The UI's own requests get no Basic challenge (no browser password dialog); others do.
    const fromUi = await fetch(`${berth.url}/api/v1/projects`, {
      headers: { "x-requested-with": "XMLHttpRequest", authorization: "Basic eDp5" },
    });
    expect(fromUi.status).toBe(401);
    expect(fromUi.headers.get("www-authenticate")).toBeNull();
    const fromScript = await fetch(`${berth.url}/api/v1/projects`, {
      headers: { authorization: "Basic eDp5" },
    });
    expect(fromScript.headers.get("www-authenticate")).toMatch(/^Basic /);
    expect((await fetch(`${berth.url}/v2/`)).status).toBe(401);
    expect((await fetch(`${berth.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${berth.url}/no-ui-here`)).status).toBe(404);
  });
});

describe("the web UI in chromium", () => {
  let robotName = "";
  let robotSecret = "";

  it("signs in, shows the API's message for a wrong password, and creates a project and a robot", async () => {
    await page.goto(`${berth.url}/projects`);
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill("wrong-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toContain("invalid username or password");
    await signIn("admin", ADMIN_PASSWORD);
    expect(await page.getByTestId("signed-in-user").textContent()).toContain("admin");

    await page.getByRole("button", { name: "New project" }).click();
    await page.getByLabel("Name").fill("webui");
    await page.getByRole("button", { name: "Create project" }).click();
    await page.waitForURL(/\/projects\/webui\/repositories$/);
    await page.getByRole("heading", { name: "webui" }).waitFor();

    await page
      .getByRole("navigation", { name: "Sections" })
      .getByRole("link", { name: "Robots" })
      .click();
    await page.waitForURL(/\/projects\/webui\/robots$/);
    const form = page.getByRole("form", { name: "New robot account" });
    await form.getByLabel("Name").fill("ci");
    await form.getByLabel("push").check();
    await form.getByLabel("Expires in").fill("30d");
    await form.getByRole("button", { name: "Create robot" }).click();
    robotSecret = (await page.getByTestId("robot-secret").textContent()) ?? "";
    expect(robotSecret.length).toBeGreaterThan(16);
    const row = page.getByRole("row").filter({ hasText: "webui: pull, push" });
    robotName = ((await row.locator("code").first().textContent()) ?? "").trim();
    expect(robotName).toMatch(/^robot\$webui\+ci$/);
    // The secret is shown once: after a reload it is gone.
    await page.reload();
    await page.getByRole("row").filter({ hasText: robotName }).waitFor();
    expect(await page.getByTestId("robot-secret").count()).toBe(0);
  });

  it("shows an image pushed with skopeo as the robot, with its layers and pull command", async () => {
    const image = await syntheticImageLayout(join(work, "layout"), "v1", {
      layers: [
        { seed: "base", size: 4096 },
        { seed: "app", size: 2048 },
      ],
      label: "ui",
    });
    const creds = ["--dest-creds", `${robotName}:${robotSecret}`];
    await skopeoCopy(image.reference, `docker://${berth.host}/webui/app:v1`, creds);
    await skopeoCopy(image.reference, `docker://${berth.host}/webui/app:v2`, creds);

    await page.goto(`${berth.url}/projects/webui/repositories`);
    await page.getByRole("link", { name: "webui/app" }).click();
    await page.waitForURL(/\/projects\/webui\/repo\/webui%2Fapp$/);
    const artifact = page.locator(`tr[data-digest="${image.manifest.digest}"]`);
    await artifact.waitFor();
    expect(await artifact.textContent()).toContain("v1");
    expect(await artifact.textContent()).toContain("v2");
    expect(await artifact.textContent()).toContain("image");
    await artifact.getByText("Pull", { exact: true }).click();
    expect(await artifact.getByTestId("pull-docker").textContent()).toBe(
      `docker pull ${berth.host}/webui/app:v1`,
    );
    expect(await artifact.getByTestId("pull-skopeo").textContent()).toContain(
      `skopeo copy docker://${berth.host}/webui/app:v1`,
    );

    await artifact.getByRole("link", { name: /sha256:/ }).click();
    await page.waitForURL(new RegExp(`/artifacts/${image.manifest.digest}$`));
    const layers = page.getByTestId("layer-row");
    await expect.poll(() => layers.count()).toBe(2);
    expect(await layers.nth(0).textContent()).toContain("synthetic layer base (ui)");
    expect(await layers.nth(1).textContent()).toContain("synthetic layer app (ui)");
    expect(await page.getByText("linux/amd64").count()).toBeGreaterThan(0);
    // A deep link reloads to the same view.
    await page.reload();
    await expect.poll(() => page.getByTestId("layer-row").count()).toBe(2);
  });

  it("removes a tag through the UI, and skopeo no longer lists it", async () => {
    expect((await listTags(`${berth.host}/webui/app`)).sort()).toEqual(["v1", "v2"]);
    await page.goto(`${berth.url}/projects/webui/repo/webui%2Fapp?view=tags`);
    const row = page.locator('[data-tag="v2"]');
    await row.waitFor();
    await row.getByRole("button", { name: "Delete tag v2" }).click();
    await expect.poll(() => page.locator('[data-tag="v2"]').count()).toBe(0);
    expect(await page.getByTestId("tag-total").textContent()).toBe("1 tag");
    expect(await listTags(`${berth.host}/webui/app`)).toEqual(["v1"]);
  });

  it("deletes the robot after a confirmation that can be cancelled, and skopeo's use of its secret is refused at once", async () => {
    const inspectAsRobot = () =>
      run("skopeo", [
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        `${robotName}:${robotSecret}`,
        `docker://${berth.host}/webui/app:v1`,
      ]);
    expect((await inspectAsRobot()).code).toBe(0);
    await page.goto(`${berth.url}/projects/webui/robots`);
    const row = page.getByRole("row").filter({ hasText: robotName });
    await row.waitFor();
    const deleteButton = row.getByRole("button", { name: `Delete robot account ${robotName}` });
    await deleteButton.click();
    const dialog = page.getByRole("dialog", { name: `Delete robot account ${robotName}?` });
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await row.count()).toBe(1);
    expect((await inspectAsRobot()).code).toBe(0);

    await deleteButton.click();
    await dialog.getByRole("button", { name: "Delete robot account" }).click();
    await expect.poll(() => page.getByRole("row").filter({ hasText: robotName }).count()).toBe(0);
    const refused = await inspectAsRobot();
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unauthorized|authentication required|401/i);
    const listed = (await (await api("/projects/webui/robots")).json()) as {
      items: { name: string }[];
    };
    expect(listed.items.map((r) => r.name)).not.toContain(robotName);
  });

  it("hides administration from a user without rights, and shows the API's refusal on a forced URL", async () => {
    await signOut();
    await signIn("viewer", VIEWER_PASSWORD);
    const nav = page.getByRole("navigation", { name: "Main" });
    expect(await nav.getByRole("link", { name: "Projects" }).count()).toBe(1);
    expect(await nav.getByRole("link", { name: "Users" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "New project" }).count()).toBe(0);
    await page.goto(`${berth.url}/admin/users`);
    await expect
      .poll(() => page.getByRole("alert").first().textContent())
      .toContain("only system administrators may do this");
    // A private project the viewer is not in answers as missing.
    await page.goto(`${berth.url}/projects/webui/repositories`);
    await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("not found");
  });
});
