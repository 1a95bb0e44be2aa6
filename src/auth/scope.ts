// Docker token-spec scopes: parsing `type:name:actions` strings (a name may itself contain
// colons only as a registry host:port prefix, so the LAST colon splits the actions), and
// formatting them back for WWW-Authenticate challenges. Pure: no I/O, never throws on input
// from the network — malformed scopes are reported, not thrown.

export interface Scope {
  /** `repository` or `registry` (catalog). Other types are kept so callers can refuse them. */
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

export type ScopeParse = { ok: true; scope: Scope } | { ok: false; reason: string };

const TYPE = /^[a-z0-9]+(\([a-z0-9]+\))?$/;
const ACTION = /^([a-z]+|\*)$/;
/** Distribution's repository name grammar (path components, lowercase). */
const REPOSITORY_NAME = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;

export function isValidRepositoryName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && REPOSITORY_NAME.test(name);
}

/** Parse one scope string such as `repository:team/app:pull,push` or `registry:catalog:*`. */
export function parseScope(text: string): ScopeParse {
  const first = text.indexOf(":");
  const last = text.lastIndexOf(":");
  if (first <= 0 || last === first) return { ok: false, reason: `malformed scope "${text}"` };
  const rawType = text.slice(0, first);
  const name = text.slice(first + 1, last);
  const actionText = text.slice(last + 1);
  if (!TYPE.test(rawType)) return { ok: false, reason: `malformed scope type in "${text}"` };
  const type = rawType.replace(/\(.*\)$/, "");
  if (name.length === 0) return { ok: false, reason: `scope "${text}" has no resource name` };
  if (type === "repository" && !isValidRepositoryName(name)) {
    return { ok: false, reason: `invalid repository name in scope "${text}"` };
  }
  const actions = actionText === "" ? [] : actionText.split(",");
  if (actions.some((a) => !ACTION.test(a))) {
    return { ok: false, reason: `malformed actions in scope "${text}"` };
  }
  return { ok: true, scope: { type, name, actions: [...new Set(actions)] } };
}

/**
 * A `scope` query parameter may repeat, and one value may hold several space-separated
 * scopes (OAuth2 style). Returns every well-formed scope and the reasons for the others.
 */
export function parseScopes(values: readonly string[]): { scopes: Scope[]; errors: string[] } {
  const scopes: Scope[] = [];
  const errors: string[] = [];
  for (const value of values) {
    for (const part of value.split(" ")) {
      if (part === "") continue;
      const parsed = parseScope(part);
      if (parsed.ok) scopes.push(parsed.scope);
      else errors.push(parsed.reason);
    }
  }
  return { scopes: mergeScopes(scopes), errors };
}

/** Merge scopes naming the same resource so each resource appears once. */
export function mergeScopes(scopes: readonly Scope[]): Scope[] {
  const byKey = new Map<string, Scope>();
  for (const s of scopes) {
    const key = `${s.type}:${s.name}`;
    const prev = byKey.get(key);
    const actions = new Set([...(prev?.actions ?? []), ...s.actions]);
    byKey.set(key, { type: s.type, name: s.name, actions: [...actions] });
  }
  return [...byKey.values()];
}

export function formatScope(scope: Scope): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(",")}`;
}
