// Drives Debian's real chromium for the web UI's tests, screenshots and bench: headless,
// a fresh profile per launch (--user-data-dir in a temp dir, deleted on close), no network
// side channels (background networking, component updates, sync off). Fails with a clear
// message when chromium is missing, never skips. Also makes sure the UI is built into
// dist/web (vite, under a cross-process lock, only when web/ is newer than the build).
// It must never use the user's own browser profile.
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium } from "playwright-core";
import { newestMtime } from "./build.js";
import { withFileLock } from "./file-lock.js";
import { findExecutable } from "./tools.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const WEB_SOURCE = join(REPO_ROOT, "web");
export const WEB_BUILD = join(REPO_ROOT, "dist", "web");

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-dev-shm-usage",
];

export interface Chromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export function chromiumPath(): string {
  const found = findExecutable("chromium");
  if (!found) {
    throw new Error(
      "chromium is not installed: the web UI tests need Debian's chromium (run scripts/install-test-deps.sh as root)",
    );
  }
  return found;
}

export async function launchChromium(
  options: { colorScheme?: "light" | "dark"; viewport?: { width: number; height: number } } = {},
): Promise<Chromium> {
  const executablePath = chromiumPath();
  const profile = await mkdtemp(join(tmpdir(), "berth-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    colorScheme: options.colorScheme ?? "light",
    viewport: options.viewport ?? { width: 1366, height: 860 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Builds web/ into dist/web unless the build is newer than every source file. */
export async function ensureWebBuild(): Promise<void> {
  const lockRoot = join(REPO_ROOT, "test", ".work");
  await mkdir(lockRoot, { recursive: true });
  await withFileLock(join(lockRoot, "web-build.lock"), async () => {
    const built = await stat(join(WEB_BUILD, "index.html")).catch(() => undefined);
    const sources = Math.max(
      await newestMtime(join(WEB_SOURCE, "src")),
      (await stat(join(WEB_SOURCE, "index.html"))).mtimeMs,
    );
    if (built && built.mtimeMs > sources) return;
    // Always the production build: under vitest NODE_ENV is "test", and vite would then
    // bundle React's development build (twice the size, several times slower).
    const { build } = await import("vite");
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = "production";
    try {
      await build({
        configFile: join(WEB_SOURCE, "vite.config.ts"),
        mode: "production",
        logLevel: "warn",
      });
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }
  });
}
