// docs/configuration.md's settings table is generated from the settings' declarations
// (src/config/reference.ts); this fails when the two differ, so the reference cannot drift.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultConfig, parseDuration, SETTINGS } from "../../src/config/config.js";
import {
  fieldPathOf,
  formatDefault,
  settingsTable,
  withGeneratedSettings,
} from "../../src/config/reference.js";

const DOC = join(import.meta.dirname, "..", "..", "docs", "configuration.md");

describe("docs/configuration.md", () => {
  it("holds exactly the table generated from SETTINGS (run `npm run docs:config` to fix)", () => {
    const current = readFileSync(DOC, "utf8");
    expect(withGeneratedSettings(current)).toBe(current);
  });

  it("lists every setting, database.url and database.poolSize included", () => {
    const current = readFileSync(DOC, "utf8");
    for (const s of SETTINGS) {
      expect(current).toContain(`| \`${s.key}\` | \`${s.env}\` |`);
    }
    expect(current).toContain("`database.url`");
    expect(current).toContain("`database.poolSize`");
  });
});

describe("the settings' declarations", () => {
  it("every setting has a one-sentence description", () => {
    for (const s of SETTINGS) {
      expect(s.description.length, s.key).toBeGreaterThan(15);
      expect(s.description, s.key).toMatch(/^[`A-Z].*\.$/s);
    }
  });

  it("every setting's default is read from defaultConfig() at the field it sets", () => {
    const config = defaultConfig();
    for (const s of SETTINGS) {
      const path = fieldPathOf(s);
      expect(path, s.key).toBeDefined();
      let value: unknown = config;
      for (const part of path ?? []) value = (value as Record<string, unknown>)[part];
      expect(value, s.key).not.toBeUndefined();
    }
    const purge = SETTINGS.find((s) => s.key === "uploads.purgeAfter");
    expect(purge && formatDefault(purge)).toBe("`24h`");
    const size = SETTINGS.find((s) => s.key === "manifests.maxBytes");
    expect(size && formatDefault(size)).toBe("`4MiB`");
  });

  it("a newly declared setting appears in the generated table with its default", () => {
    const extra = {
      key: "gc.interval",
      env: "BERTH_GC_INTERVAL",
      parse: parseDuration,
      apply: (c: ReturnType<typeof defaultConfig>, v: unknown) => {
        c.drainTimeoutMs = v as number;
      },
      description: "How often garbage collection runs.",
    };
    const table = settingsTable([...SETTINGS, extra]);
    expect(table).toContain(
      "| `gc.interval` | `BERTH_GC_INTERVAL` | `30s` | How often garbage collection runs. |",
    );
    expect(() => withGeneratedSettings("no markers here")).toThrow(/markers/);
  });
});
