// The pom.xml cataloger for source trees (`scan fs:`): the dependencies a Maven project
// declares with a version, as far as the file itself says. `${name}` is resolved from the
// file's `<properties>`, `${project.version}`/`${project.groupId}` (falling back to the
// `<parent>`'s) and a version missing from a dependency is taken from the same file's
// `<dependencyManagement>`. Nothing is fetched: a version that only a parent POM, an imported
// BOM or the network could supply is left out, as are `test`-scoped dependencies (dev-only, as
// Trivy excludes them) and version ranges. The project itself is not a dependency. Pure.
import { XMLParser } from "fast-xml-parser";
import { type LibraryDraft, library } from "./draft.js";
import { isRecord } from "./json.js";
import { purl } from "./purl.js";

export function wantsPom(path: string): boolean {
  return /(?:^|\/)pom\.xml$/.test(path);
}

const xml = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === "dependency",
});

type Node = Record<string, unknown>;

export function parsePom(text: string, location: string): LibraryDraft[] {
  const project = readProject(text);
  const props = properties(project);
  const resolve = (value: unknown) => resolveValue(value, props);
  const managed = new Map<string, string>();
  for (const dep of dependencies(child(project, "dependencyManagement"))) {
    const key = `${resolve(dep.groupId)}:${resolve(dep.artifactId)}`;
    const version = resolve(dep.version);
    if (version) managed.set(key, version);
  }
  const out: LibraryDraft[] = [];
  const seen = new Set<string>();
  for (const dep of dependencies(project)) {
    if (textOf(dep.scope) === "test") continue;
    const group = resolve(dep.groupId);
    const artifact = resolve(dep.artifactId);
    if (!group || !artifact) continue;
    const version = resolve(dep.version) ?? managed.get(`${group}:${artifact}`);
    if (!version || /^[[(]/.test(version) || seen.has(`${group}:${artifact}@${version}`)) continue;
    seen.add(`${group}:${artifact}@${version}`);
    out.push(mavenDraft(group, artifact, version, location));
  }
  return out;
}

function readProject(source: string): Node {
  let doc: unknown;
  try {
    doc = xml.parse(source, true);
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new Error(`not a valid pom.xml (XML): ${first}`);
  }
  const project = isRecord(doc) ? doc.project : undefined;
  if (!isRecord(project)) throw new Error("not a pom.xml: no <project> element");
  return project;
}

function child(node: Node, name: string): Node {
  const value = node[name];
  return isRecord(value) ? value : {};
}

function dependencies(node: Node): Node[] {
  const list = child(node, "dependencies").dependency;
  return Array.isArray(list) ? list.filter(isRecord) : [];
}

function textOf(value: unknown): string | undefined {
  if (typeof value === "string") return value.trim() || undefined;
  if (typeof value === "number") return String(value);
  return undefined;
}

function properties(project: Node): Map<string, string> {
  const props = new Map<string, string>();
  for (const [key, value] of Object.entries(child(project, "properties"))) {
    const v = textOf(value);
    if (v !== undefined) props.set(key, v);
  }
  const parent = child(project, "parent");
  const version = textOf(project.version) ?? textOf(parent.version);
  const group = textOf(project.groupId) ?? textOf(parent.groupId);
  const artifact = textOf(project.artifactId);
  for (const [key, value] of [
    ["project.version", version],
    ["pom.version", version],
    ["version", version],
    ["project.groupId", group],
    ["pom.groupId", group],
    ["project.artifactId", artifact],
    ["project.parent.version", textOf(parent.version)],
    ["project.parent.groupId", textOf(parent.groupId)],
  ] as const) {
    if (value !== undefined && !props.has(key)) props.set(key, value);
  }
  return props;
}

/** `${a}` references resolved from `props`, up to a few levels; undefined if any is unknown. */
function resolveValue(value: unknown, props: ReadonlyMap<string, string>): string | undefined {
  let out = textOf(value);
  for (let depth = 0; out?.includes("${") && depth < 8; depth++) {
    out = out.replace(/\$\{([^}]+)\}/g, (whole, name: string) => props.get(name.trim()) ?? whole);
    if (!/\$\{([^}]+)\}/.test(out)) break;
    if ([...out.matchAll(/\$\{([^}]+)\}/g)].every((m) => !props.has((m[1] as string).trim())))
      return undefined;
  }
  return out?.includes("${") ? undefined : out;
}

function mavenDraft(group: string, artifact: string, version: string, location: string) {
  return library(
    {
      name: `${group}:${artifact}`,
      version,
      ecosystem: "Maven",
      type: "library",
      purl: purl({ type: "maven", namespace: group, name: artifact, version }),
    },
    location,
  );
}
