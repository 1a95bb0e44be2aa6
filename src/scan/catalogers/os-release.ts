// Identifies the distribution of an image or root filesystem from `/etc/os-release`,
// `/usr/lib/os-release` (freedesktop.org os-release(5)), or, failing those, the older
// per-distribution files `/etc/debian_version`, `/etc/alpine-release`, `/etc/redhat-release`.
// Pure: works on file contents handed to it.

export interface OsInfo {
  /** os-release `ID`, lower case: `debian`, `ubuntu`, `alpine`, `rhel`, `rocky` … */
  readonly id: string;
  readonly versionId?: string;
  readonly prettyName?: string;
}

export const OS_RELEASE_PATHS = [
  "etc/os-release",
  "usr/lib/os-release",
  "etc/debian_version",
  "etc/alpine-release",
  "etc/redhat-release",
] as const;

export function wantsOsFile(path: string): boolean {
  return (OS_RELEASE_PATHS as readonly string[]).includes(path);
}

/** `read(path)` returns the file's text, or undefined when absent. */
export function detectOs(read: (path: string) => string | undefined): OsInfo | undefined {
  for (const path of ["etc/os-release", "usr/lib/os-release"]) {
    const text = read(path);
    const info = text === undefined ? undefined : parseOsRelease(text);
    if (info) return withDebianVersion(info, read);
  }
  return fallback(read);
}

export function parseOsRelease(text: string): OsInfo | undefined {
  const fields = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    fields.set(line.slice(0, eq), unquote(line.slice(eq + 1)));
  }
  const id = fields.get("ID")?.toLowerCase();
  if (!id) return undefined;
  return {
    id,
    versionId: fields.get("VERSION_ID") || undefined,
    prettyName: fields.get("PRETTY_NAME"),
  };
}

/** Debian testing/sid has no VERSION_ID; `/etc/debian_version` names the release then. */
function withDebianVersion(info: OsInfo, read: (path: string) => string | undefined): OsInfo {
  if (info.id !== "debian" || info.versionId) return info;
  const debianVersion = read("etc/debian_version")?.trim();
  return debianVersion ? { ...info, versionId: debianVersion } : info;
}

function fallback(read: (path: string) => string | undefined): OsInfo | undefined {
  const alpine = read("etc/alpine-release")?.trim();
  if (alpine) return { id: "alpine", versionId: alpine, prettyName: `Alpine Linux v${alpine}` };
  const debian = read("etc/debian_version")?.trim();
  if (debian) {
    const major = /^(\d+)/.exec(debian)?.[1];
    return { id: "debian", versionId: major ?? debian, prettyName: `Debian GNU/Linux ${debian}` };
  }
  const redhat = read("etc/redhat-release")?.trim();
  if (redhat) return parseRedhatRelease(redhat);
  return undefined;
}

/** `CentOS Linux release 7.9.2009 (Core)`, `Red Hat Enterprise Linux release 8.9 (Ootpa)`. */
function parseRedhatRelease(text: string): OsInfo {
  const version = /release\s+(\d+(?:\.\d+)*)/i.exec(text)?.[1];
  const lower = text.toLowerCase();
  const id = lower.startsWith("centos")
    ? "centos"
    : lower.startsWith("fedora")
      ? "fedora"
      : lower.startsWith("rocky")
        ? "rocky"
        : lower.startsWith("almalinux")
          ? "almalinux"
          : "rhel";
  return { id, versionId: version, prettyName: text };
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) {
    return v.slice(1, -1).replace(/\\(["'$`\\])/g, "$1");
  }
  return v;
}
