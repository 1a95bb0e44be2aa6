// The fixture corpus: each test/fixtures/dockerfiles/NAME.Dockerfile is linted (with
// NAME.options.json when present: config YAML, context facts, target, build args) and the
// findings must equal NAME.expected.json exactly (rule id, line, severity).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type LintOptions, lintDockerfile, parseLintConfig, RULES } from "../../src/lint/index.js";

const DIR = join(import.meta.dirname, "..", "fixtures", "dockerfiles");
const names = readdirSync(DIR)
  .filter((f) => f.endsWith(".Dockerfile"))
  .map((f) => f.slice(0, -".Dockerfile".length))
  .sort();

interface Expected {
  rule: string;
  line: number;
  severity: string;
}

interface FixtureOptions {
  config?: string;
  context?: { dockerignorePresent: boolean };
  target?: string;
  buildArgs?: Record<string, string>;
}

function optionsFor(name: string): LintOptions {
  const path = join(DIR, `${name}.options.json`);
  if (!existsSync(path)) return {};
  const o = JSON.parse(readFileSync(path, "utf8")) as FixtureOptions;
  return {
    config: o.config === undefined ? undefined : parseLintConfig(o.config),
    context: o.context,
    target: o.target,
    buildArgs: o.buildArgs,
  };
}

function expectedFor(name: string): Expected[] {
  return JSON.parse(readFileSync(join(DIR, `${name}.expected.json`), "utf8")) as Expected[];
}

const key = (e: Expected) => `${String(e.line).padStart(4, "0")} ${e.rule} ${e.severity}`;

describe("lint fixture corpus", () => {
  it("has fixtures, each with an expected file", () => {
    expect(names.length).toBeGreaterThan(25);
    for (const name of names)
      expect(existsSync(join(DIR, `${name}.expected.json`)), name).toBe(true);
  });

  for (const name of names) {
    it(`${name}.Dockerfile gives exactly the expected findings`, () => {
      const text = readFileSync(join(DIR, `${name}.Dockerfile`), "utf8");
      const actual = lintDockerfile(text, optionsFor(name)).map((f) =>
        key({ rule: f.ruleId, line: f.line, severity: f.severity }),
      );
      expect(actual.sort()).toEqual(expectedFor(name).map(key).sort());
    });
  }

  it("triggers every rule at least once", () => {
    const triggered = new Set(names.flatMap((n) => expectedFor(n).map((e) => e.rule)));
    const missing = RULES.map((r) => r.id).filter((id) => !triggered.has(id));
    expect(missing).toEqual([]);
  });

  it("has a clean fixture with no findings at all", () => {
    expect(expectedFor("clean")).toEqual([]);
  });
});
