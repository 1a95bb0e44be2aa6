// The real tools Berth's test suite talks to, and the check that they are present.
// When one is missing and we run as root, scripts/install-test-deps.sh installs it from
// Debian's packages; if it is still missing the check throws, naming each missing tool and
// its package. It must never let the suite skip silently because a tool is absent.
import { accessSync, constants } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "./process-control.js";

export interface RequiredTool {
  /** The executable looked up on PATH (plus the sbin directories). */
  command: string;
  /** The Debian package that provides it. */
  debianPackage: string;
  /** What the suite uses it for (shown when it is missing). */
  usedFor: string;
}

export const REQUIRED_TOOLS: readonly RequiredTool[] = [
  { command: "skopeo", debianPackage: "skopeo", usedFor: "interop copy/inspect/delete/list-tags" },
  { command: "podman", debianPackage: "podman", usedFor: "interop push/pull" },
  { command: "buildah", debianPackage: "buildah", usedFor: "interop build + push" },
  { command: "docker-registry", debianPackage: "docker-registry", usedFor: "reference registry" },
  { command: "debootstrap", debianPackage: "debootstrap", usedFor: "the real Debian image" },
  { command: "openssl", debianPackage: "openssl", usedFor: "TLS certificates" },
  { command: "zstd", debianPackage: "zstd", usedFor: "zstd layers" },
  { command: "chromium", debianPackage: "chromium", usedFor: "UI tests" },
  { command: "rpm", debianPackage: "rpm", usedFor: "scan fixtures: real rpm databases" },
  { command: "go", debianPackage: "golang-go", usedFor: "scan fixtures: a real Go binary" },
  { command: "ceph-mon", debianPackage: "ceph-mon", usedFor: "S3 tests: the Ceph monitor" },
  { command: "ceph-osd", debianPackage: "ceph-osd", usedFor: "S3 tests: the memstore OSD" },
  { command: "radosgw", debianPackage: "radosgw", usedFor: "S3 tests: the S3 endpoint" },
  { command: "ceph", debianPackage: "ceph-common", usedFor: "S3 tests: cluster set-up" },
  { command: "nginx", debianPackage: "nginx", usedFor: "scale-out tests: the load balancer" },
  {
    command: "busybox",
    debianPackage: "busybox-static",
    usedFor: "berth build: a tiny static base",
  },
];

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const INSTALL_SCRIPT = join(REPO_ROOT, "scripts", "install-test-deps.sh");

function searchPath(): string[] {
  const entries = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const extra of ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
    if (!entries.includes(extra)) entries.push(extra);
  }
  return entries;
}

/** The absolute path of `command`, or undefined when no executable of that name is found. */
export function findExecutable(command: string): string | undefined {
  for (const dir of searchPath()) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function missingTools(tools: readonly RequiredTool[] = REQUIRED_TOOLS): RequiredTool[] {
  return tools.filter((tool) => findExecutable(tool.command) === undefined);
}

function describe(tools: readonly RequiredTool[]): string {
  return tools
    .map((t) => `${t.command} (Debian package ${t.debianPackage}; ${t.usedFor})`)
    .join(", ");
}

/**
 * Ensures every required tool is installed: installs the missing ones when running as root,
 * then throws naming whatever is still missing.
 */
export async function ensureTools(tools: readonly RequiredTool[] = REQUIRED_TOOLS): Promise<void> {
  let missing = missingTools(tools);
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  let installLog = "";
  if (isRoot) {
    const result = await run("bash", [INSTALL_SCRIPT], { timeoutMs: 20 * 60_000 });
    installLog =
      `\n${INSTALL_SCRIPT} exited with ${result.code}:\n${result.stdout}${result.stderr}`.slice(
        -4_000,
      );
    missing = missingTools(tools);
  }
  if (missing.length > 0) {
    throw new Error(
      `The test suite needs real tools that are missing: ${describe(missing)}. ` +
        `Install them with: sudo ${INSTALL_SCRIPT}${isRoot ? installLog : " (not root, so not attempted)"}`,
    );
  }
}
