// The configuration reference (the settings table of docs/configuration.md), generated from
// the settings' own declarations: key, environment variable and description from SETTINGS,
// the default read from defaultConfig() at the field each setting's `apply` writes. So a new
// setting appears in the docs by being declared, and the docs cannot drift (a test compares).
// Pure: `npm run docs:config` (scripts/docs-config.ts) does the file I/O.
import {
  type BerthConfig,
  defaultConfig,
  parseByteSize,
  parseDuration,
  SETTINGS,
} from "./config.js";

export const BEGIN_MARKER =
  "<!-- BEGIN GENERATED SETTINGS: from src/config/config.ts by `npm run docs:config`; do not edit -->";
export const END_MARKER = "<!-- END GENERATED SETTINGS -->";

type Setting = (typeof SETTINGS)[number];

/** The path of the config field a setting's `apply` writes (found by recording the write). */
export function fieldPathOf(setting: Setting): string[] | undefined {
  let written: string[] | undefined;
  const record = (target: object, path: string[]): object =>
    new Proxy(target, {
      get(obj, prop) {
        const value = Reflect.get(obj, prop);
        if (typeof prop === "string" && typeof value === "object" && value !== null) {
          return record(value, [...path, prop]);
        }
        return value;
      },
      set(_obj, prop) {
        if (typeof prop === "string") written ??= [...path, prop];
        return true;
      },
    });
  try {
    setting.apply(record(defaultConfig(), []) as BerthConfig, undefined);
  } catch {
    // an apply that needs a real value: no default to show
  }
  return written;
}

function defaultOf(setting: Setting): unknown {
  const path = fieldPathOf(setting);
  if (!path) return undefined;
  let value: unknown = defaultConfig();
  for (const part of path) value = (value as Record<string, unknown> | undefined)?.[part];
  return value;
}

/** `value` in the largest unit that divides it (days only from a week up: `24h`, not `1d`). */
function largestUnit(value: number, units: Array<[string, number]>): string {
  for (const [name, size] of units) {
    const enough = name === "d" ? value >= 7 * size : value >= size;
    if (enough && value % size === 0) return `${value / size}${name}`;
  }
  return String(value);
}

/** A default as it would be written in the config file. */
export function formatDefault(setting: Setting): string {
  const value = defaultOf(setting);
  if (value === undefined || value === "" || value === null) return "—";
  if (typeof value === "number" && setting.parse === parseDuration) {
    return `\`${largestUnit(value, [
      ["d", 86_400_000],
      ["h", 3_600_000],
      ["m", 60_000],
      ["s", 1000],
      ["ms", 1],
    ])}\``;
  }
  if (typeof value === "number" && setting.parse === parseByteSize) {
    return `\`${largestUnit(value, [
      ["GiB", 1024 ** 3],
      ["MiB", 1024 ** 2],
      ["KiB", 1024],
    ])}\``;
  }
  if (Array.isArray(value)) return value.length === 0 ? "—" : `\`${value.join(",")}\``;
  return `\`${String(value)}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The generated table (between the markers). */
export function settingsTable(settings: readonly Setting[] = SETTINGS): string {
  const rows = settings.map(
    (s) => `| \`${s.key}\` | \`${s.env}\` | ${cell(formatDefault(s))} | ${cell(s.description)} |`,
  );
  return ["| Key (file) | Environment | Default | Meaning |", "|---|---|---|---|", ...rows].join(
    "\n",
  );
}

/** The document with the text between the markers replaced by the generated table. */
export function withGeneratedSettings(markdown: string, table = settingsTable()): string {
  const begin = markdown.indexOf(BEGIN_MARKER);
  const end = markdown.indexOf(END_MARKER);
  if (begin === -1 || end === -1 || end < begin) {
    throw new Error(`the document lacks the markers ${BEGIN_MARKER} … ${END_MARKER}`);
  }
  return `${markdown.slice(0, begin + BEGIN_MARKER.length)}\n${table}\n${markdown.slice(end)}`;
}
