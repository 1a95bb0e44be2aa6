// Keyboard use and names for screen readers in the web UI, in a real browser (Debian's
// chromium through playwright-core) against a real `berth serve` with token auth: signs in,
// creates a project, opens its Settings and deletes it with the keyboard only (Tab, Enter,
// Escape; no clicks), checking that the focused control is always visible (an outline), that
// the confirmation dialog takes focus, keeps Tab inside, closes on Escape and gives focus back
// to the button that opened it. Then every page of the main flows is checked for landmarks
// (banner, main navigation, main) and for a control without an accessible name. Also the
// Users page's Disable/Enable (the API refuses a disabled user's password at once).
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { type Chromium, ensureWebBuild, launchChromium } from "../support/browser.js";

const ADMIN_PASSWORD = "admin-password-for-keyboard-ui";

let berth: BerthProcess;
let browser: Chromium;
let page: Page;

interface Focused {
  name: string;
  tag: string;
  outline: string;
  inDialog: boolean;
}

// The page-side checks run in the browser as plain JavaScript (the tests compile without
// DOM types).

/** The focused element: its accessible name (as the audit computes it) and its outline. */
const FOCUSED = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return { name: "", tag: "body", outline: "", inDialog: false };
  const label =
    el.getAttribute("aria-label") ??
    [...(el.labels ?? [])].map((l) => l.textContent ?? "").join(" ");
  const style = getComputedStyle(el);
  return {
    name: (label || el.textContent || "").replace(/\\s+/g, " ").trim(),
    tag: el.tagName.toLowerCase(),
    outline: style.outlineStyle + " " + style.outlineWidth,
    inDialog: el.closest("dialog[open]") !== null,
  };
})()`;

function focused(): Promise<Focused> {
  return page.evaluate<Focused>(FOCUSED);
}

/** Presses Tab until the focused control's name matches, failing after `max` presses. */
async function tabTo(name: string | RegExp, max = 60): Promise<Focused> {
  const matches = (text: string) => (typeof name === "string" ? text === name : name.test(text));
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const now = await focused();
    if (matches(now.name)) {
      // The focus indicator is visible: an outline, not "none".
      expect(now.outline, `focus outline of ${now.name}`).not.toMatch(/^none/);
      return now;
    }
  }
  throw new Error(`"${String(name)}" is not reachable with Tab within ${max} presses`);
}

/** Controls on the page without an accessible name, and the landmarks present. */
const AUDIT = `(() => {
  const textOf = (ids) =>
    ids.split(/\\s+/).map((id) => document.getElementById(id)?.textContent ?? "").join(" ");
  const unnamed = [];
  const controls = document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, [role=button]",
  );
  for (const el of controls) {
    const labelledBy = el.getAttribute("aria-labelledby");
    const labels = [...(el.labels ?? [])].map((l) => l.textContent ?? "").join(" ");
    const own = el.tagName === "BUTTON" || el.tagName === "A";
    const name = [
      el.getAttribute("aria-label") ?? "",
      labelledBy ? textOf(labelledBy) : "",
      labels,
      own ? (el.textContent ?? "") : "",
      el.getAttribute("title") ?? "",
    ].join("").trim();
    if (!name) unnamed.push(el.outerHTML.slice(0, 160));
  }
  const landmarks = [
    document.querySelector("header") ? "banner" : "",
    document.querySelector('nav[aria-label="Main"]') ? "navigation Main" : "",
    document.querySelector("main") ? "main" : "",
  ].filter(Boolean);
  return { controls: controls.length, unnamed, landmarks };
})()`;

function audit(): Promise<{ controls: number; unnamed: string[]; landmarks: string[] }> {
  return page.evaluate(AUDIT);
}

beforeAll(async () => {
  await ensureWebBuild();
  berth = await startBerth({ env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  browser = await launchChromium();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await berth?.stop();
});

describe("the web UI with the keyboard only", () => {
  it("signs in, creates a project and deletes it through the confirmation dialog", async () => {
    await page.goto(`${berth.url}/projects`);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await tabTo("Username");
    await page.keyboard.type("admin");
    await tabTo("Password");
    await page.keyboard.type(ADMIN_PASSWORD);
    await page.keyboard.press("Enter");
    await page.getByTestId("signed-in-user").waitFor();

    await tabTo("New project");
    await page.keyboard.press("Enter");
    // The form's first field takes focus.
    await expect.poll(async () => (await focused()).name).toBe("Name");
    await page.keyboard.type("keyboard");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/projects\/keyboard\/repositories$/);

    await tabTo("Settings");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/projects\/keyboard\/settings$/);
    await tabTo("Delete project");
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Delete project keyboard?" });
    await dialog.waitFor();
    expect((await focused()).inDialog).toBe(true);
    // Tab and Shift+Tab stay inside the dialog.
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press("Tab");
      expect((await focused()).inDialog).toBe(true);
    }
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press("Shift+Tab");
      expect((await focused()).inDialog).toBe(true);
    }
    // Escape closes it, nothing is deleted, and focus is back on the opener.
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.count()).toBe(0);
    expect((await focused()).name).toBe("Delete project");
    const still = await fetch(`${berth.url}/api/v1/projects/keyboard`, {
      headers: {
        authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`,
      },
    });
    expect(still.status).toBe(200);

    await page.keyboard.press("Enter");
    await dialog.waitFor();
    for (let i = 0; i < 4 && (await focused()).name !== "Delete project"; i++) {
      await page.keyboard.press("Tab");
    }
    expect(await focused()).toMatchObject({ name: "Delete project", inDialog: true });
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/projects$/);
    const gone = await fetch(`${berth.url}/api/v1/projects/keyboard`, {
      headers: {
        authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`,
      },
    });
    expect(gone.status).toBe(404);
  });

  it("offers a skip link to the content as the first Tab stop", async () => {
    await page.goto(`${berth.url}/projects`);
    await page.getByTestId("signed-in-user").waitFor();
    await page.keyboard.press("Tab");
    expect((await focused()).name).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate<string>("document.activeElement?.id")).toBe("content");
  });

  it("names every control and has the landmarks on every main page", async () => {
    await fetch(`${berth.url}/api/v1/projects`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ name: "named" }),
    });
    const pages = [
      "/projects",
      ...[
        "repositories",
        "vulnerabilities",
        "members",
        "robots",
        "audit",
        "policies",
        "settings",
      ].map((tab) => `/projects/named/${tab}`),
      "/admin/users",
      "/admin/robots",
      "/admin/jobs",
      "/admin/replication",
      "/admin/trash",
      "/admin/quotas",
      "/admin/registries",
      "/admin/audit",
      "/admin/system",
    ];
    for (const path of pages) {
      await page.goto(`${berth.url}${path}`);
      await page.getByTestId("signed-in-user").waitFor();
      await page.waitForLoadState("networkidle");
      await expect.poll(() => page.getByText(/^Loading/).count(), { message: path }).toBe(0);
      const { controls, unnamed, landmarks } = await audit();
      expect(controls, path).toBeGreaterThan(5);
      expect(unnamed, path).toEqual([]);
      expect(landmarks, path).toEqual(["banner", "navigation Main", "main"]);
    }
  });
});

describe("administration of users in chromium", () => {
  it("disables a user from the Users page (their sign-in is refused), and enables them again", async () => {
    const admin = {
      authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`,
      "content-type": "application/json",
    };
    const walt = {
      authorization: `Basic ${Buffer.from("walt:walt-password-1").toString("base64")}`,
    };
    const created = await fetch(`${berth.url}/api/v1/users`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ username: "walt", password: "walt-password-1" }),
    });
    expect(created.status).toBe(201);
    expect((await fetch(`${berth.url}/api/v1/users/walt`, { headers: walt })).status).toBe(200);
    await page.goto(`${berth.url}/admin/users`);
    const row = page.locator('tr[data-user="walt"]');
    await row.getByRole("button", { name: "Disable walt" }).click();
    await expect.poll(() => row.textContent()).toContain("disabled");
    expect((await fetch(`${berth.url}/api/v1/users/walt`, { headers: walt })).status).toBe(401);
    await row.getByRole("button", { name: "Enable walt" }).click();
    await expect.poll(() => row.textContent()).toContain("active");
    expect((await fetch(`${berth.url}/api/v1/users/walt`, { headers: walt })).status).toBe(200);
  });
});
