// Every rule has its documentation page, and docs/lint/README.md lists every rule and every
// hadolint correspondence, so the catalogue and the docs cannot drift apart.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RULES } from "../../src/lint/index.js";

const DOCS = join(import.meta.dirname, "..", "..", "docs", "lint");

describe("lint documentation", () => {
  it("has a page per rule with its severity and hadolint ids", () => {
    for (const rule of RULES) {
      const path = join(DOCS, `${rule.id}.md`);
      expect(existsSync(path), path).toBe(true);
      const page = readFileSync(path, "utf8");
      expect(page.startsWith(`# ${rule.id} — `)).toBe(true);
      expect(page).toContain(`**Default severity:** ${rule.severity}`);
      for (const h of rule.hadolint) expect(page).toContain(h);
    }
  });

  it("README lists every rule and the hadolint correspondence", () => {
    const readme = readFileSync(join(DOCS, "README.md"), "utf8");
    for (const rule of RULES) {
      expect(readme).toContain(
        `| [${rule.id}](${rule.id}.md) | \`${rule.name}\` | ${rule.severity} |`,
      );
      for (const h of rule.hadolint)
        expect(readme).toMatch(new RegExp(`\\| ${h} \\| [^|]+ \\| \\[${rule.id}\\]`));
    }
  });
});
