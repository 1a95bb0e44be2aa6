// The Java cataloger: Maven artifacts inside jar/war/ear archives, including archives nested
// in them (`WEB-INF/lib/*.jar`, `BOOT-INF/lib/*.jar`, `lib/*.jar` in an ear). Each
// `META-INF/maven/<group>/<artifact>/pom.properties` names one artifact (a shaded jar holds
// several); an archive without any falls back to its `META-INF/MANIFEST.MF`
// (Implementation-*/Bundle-* headers) and then to its file name. Nested archives are
// located as `outer.war!/WEB-INF/lib/inner.jar`. Pure: reads zip bytes with fflate.
import { unzipSync } from "fflate";
import { type LibraryDraft, library } from "./draft.js";
import { purl } from "./purl.js";

const ARCHIVE_RE = /\.(?:jar|war|ear|jpi|hpi|par|sar)$/i;
const MAX_DEPTH = 4;
const MAX_NESTED_ARCHIVE = 128 * 1024 * 1024;

export function wantsJavaArchive(path: string): boolean {
  return ARCHIVE_RE.test(path);
}

export function parseJavaArchive(bytes: Uint8Array, location: string): LibraryDraft[] {
  return walkArchive(bytes, location, 0);
}

function walkArchive(bytes: Uint8Array, location: string, depth: number): LibraryDraft[] {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (f) =>
        (/^META-INF\/maven\/.+\/pom\.properties$/.test(f.name) ||
          f.name === "META-INF/MANIFEST.MF" ||
          (ARCHIVE_RE.test(f.name) && depth < MAX_DEPTH)) &&
        f.originalSize <= MAX_NESTED_ARCHIVE,
    });
  } catch {
    return [];
  }
  const out: LibraryDraft[] = [];
  const names = Object.keys(files).sort();
  for (const name of names) {
    if (!name.endsWith("pom.properties")) continue;
    const draft = fromPomProperties(text(files[name]), location);
    if (draft) out.push(draft);
  }
  if (out.length === 0) {
    const manifest = files["META-INF/MANIFEST.MF"];
    const draft = fromManifest(manifest ? text(manifest) : "", location);
    if (draft) out.push(draft);
  }
  for (const name of names) {
    const inner = files[name];
    if (ARCHIVE_RE.test(name) && inner) {
      out.push(...walkArchive(inner, `${location}!/${name}`, depth + 1));
    }
  }
  return out;
}

function fromPomProperties(content: string, location: string): LibraryDraft | undefined {
  const props = new Map<string, string>();
  for (const line of content.split(/\r?\n/)) {
    const m = /^\s*([\w.-]+)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (m && !line.trimStart().startsWith("#")) props.set(m[1] as string, m[2] as string);
  }
  const group = props.get("groupId");
  const artifact = props.get("artifactId");
  const version = props.get("version");
  if (!group || !artifact || !version) return undefined;
  return mavenDraft(group, artifact, version, location);
}

/** Fallback for archives built without Maven metadata. */
function fromManifest(content: string, location: string): LibraryDraft | undefined {
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (const line of content.split(/\r?\n/)) {
    if (line.startsWith(" ") && last) {
      headers.set(last, (headers.get(last) ?? "") + line.slice(1));
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim();
    if (!headers.has(last)) headers.set(last, line.slice(colon + 1).trim());
  }
  const file = fileNameParts(location);
  const version =
    headers.get("Implementation-Version") ?? headers.get("Bundle-Version") ?? file?.version;
  const symbolic = headers.get("Bundle-SymbolicName")?.split(";")[0]?.trim();
  const artifact = file?.name ?? headers.get("Implementation-Title") ?? symbolic;
  if (!artifact || !version) return undefined;
  const group =
    headers.get("Implementation-Vendor-Id") ?? groupFromSymbolicName(symbolic, artifact);
  return mavenDraft(group, artifact, version, location);
}

/** `org.apache.commons.commons-lang3`-style symbolic names often end with the artifact. */
function groupFromSymbolicName(symbolic: string | undefined, artifact: string): string | undefined {
  if (!symbolic) return undefined;
  const suffix = `.${artifact}`;
  return symbolic.endsWith(suffix) ? symbolic.slice(0, -suffix.length) : undefined;
}

/** `lib/commons-io-2.11.0.jar` → `{ name: "commons-io", version: "2.11.0" }`. */
function fileNameParts(location: string): { name: string; version: string } | undefined {
  const base = location.slice(location.lastIndexOf("/") + 1).replace(ARCHIVE_RE, "");
  const m = /^(.+?)-(\d[\w.+-]*)$/.exec(base);
  return m ? { name: m[1] as string, version: m[2] as string } : undefined;
}

function mavenDraft(
  group: string | undefined,
  artifact: string,
  version: string,
  location: string,
): LibraryDraft {
  return library(
    {
      name: group ? `${group}:${artifact}` : artifact,
      version,
      ecosystem: "Maven",
      type: "library",
      purl: purl({ type: "maven", namespace: group, name: artifact, version }),
    },
    location,
  );
}

function text(bytes: Uint8Array | undefined): string {
  return bytes ? Buffer.from(bytes).toString("utf8") : "";
}
