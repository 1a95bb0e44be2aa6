// The Bundler cataloger for source trees (`scan fs:`), as Trivy reads it: the gems of
// `Gemfile.lock`'s `GEM` and `GIT` sections (`specs:` entries indented four spaces,
// `name (version)`; a platform suffix such as `-x86_64-linux` is not part of the version).
// `PATH` gems are the project's own. Pure.
import { type LibraryDraft, library } from "./draft.js";
import { purl } from "./purl.js";

export function wantsGemfileLock(path: string): boolean {
  return /(?:^|\/)Gemfile\.lock$/.test(path);
}

const SECTIONS_WITH_GEMS = new Set(["GEM", "GIT"]);

export function parseGemfileLock(text: string, location: string): LibraryDraft[] {
  const out: LibraryDraft[] = [];
  const seen = new Set<string>();
  let section: string | undefined;
  let sawSection = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^[A-Z][A-Z ]*$/.test(line)) {
      section = line;
      sawSection = true;
      continue;
    }
    if (!section || !SECTIONS_WITH_GEMS.has(section)) continue;
    const m = /^ {4}([^\s(]+) \(([^)]+)\)$/.exec(line);
    if (!m) continue;
    const name = m[1] as string;
    const version = (m[2] as string).split("-")[0] as string;
    if (seen.has(`${name}@${version}`)) continue;
    seen.add(`${name}@${version}`);
    out.push(
      library(
        {
          name,
          version,
          ecosystem: "RubyGems",
          type: "library",
          purl: purl({ type: "gem", name, version }),
        },
        location,
      ),
    );
  }
  if (!sawSection) throw new Error("not a Gemfile.lock: no GEM, GIT, PATH or DEPENDENCIES section");
  return out;
}
