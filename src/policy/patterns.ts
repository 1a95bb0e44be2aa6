// Doublestar patterns as policies use them (immutability and retention selectors): picomatch
// globs where `*` stays inside one path segment and `**` crosses segments, `{a,b}` picks
// alternatives, and dots are ordinary characters (tags such as `v1.2` and `.sig` suffixes).
// Compiled matchers are cached: a rule is matched against thousands of tags in one run.
// Also the repository path a pattern sees: the repository name without its project.
import picomatch from "picomatch";

const cache = new Map<string, (text: string) => boolean>();

export function matcher(pattern: string): (text: string) => boolean {
  let m = cache.get(pattern);
  if (!m) {
    m = picomatch(pattern, { dot: true });
    if (cache.size > 10_000) cache.clear();
    cache.set(pattern, m);
  }
  return m;
}

/** A clear sentence when `pattern` cannot be a rule's pattern, else undefined. */
export function patternProblem(pattern: unknown, what: string): string | undefined {
  if (typeof pattern !== "string" || pattern.trim() === "")
    return `${what} must be a non-empty pattern`;
  if (pattern.length > 256) return `${what} is longer than 256 characters`;
  try {
    picomatch.makeRe(pattern);
  } catch {
    return `${what} "${pattern}" is not a valid pattern`;
  }
  return undefined;
}

/** `team/app/web` → `app/web`; `library/ubuntu` and `ubuntu` → `ubuntu`. */
export function pathInProject(repository: string): string {
  const slash = repository.indexOf("/");
  return slash < 0 ? repository : repository.slice(slash + 1);
}
