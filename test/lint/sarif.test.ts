// SARIF output validated against the official SARIF 2.1.0 JSON schema (sarif-2.1.0-rtm.5,
// shipped by @microsoft/jest-sarif; draft-04, hence ajv-draft-04), plus the parts GitHub code
// scanning relies on. Also checks the checkstyle and JSON renderings of the same findings.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import AjvDraft04 from "ajv-draft-04";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";
import { formatCheckstyle } from "../../src/lint/format/checkstyle.js";
import { formatJson } from "../../src/lint/format/json.js";
import type { FileReport } from "../../src/lint/format/report.js";
import { formatSarif } from "../../src/lint/format/sarif.js";
import { lintDockerfile, RULES } from "../../src/lint/index.js";

// Both packages are CommonJS with an ES-style `default` export.
const Ajv = AjvDraft04.default;
const addFormats = addFormatsModule.default;
const require = createRequire(import.meta.url);
const schemaPath = require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");
const schema = JSON.parse(readFileSync(schemaPath, "utf8")) as object;

const DOCKERFILE = `FROM ubuntu:latest
MAINTAINER a <a@example.com>
RUN apt-get update
RUN sudo make && cd /x
CMD node "server.js" & echo <done>
EXPOSE 70000
`;

function reports(): FileReport[] {
  return [
    { path: "./app/Dockerfile", text: DOCKERFILE, findings: lintDockerfile(DOCKERFILE) },
    { path: "clean/Dockerfile", text: "FROM scratch\n", findings: [] },
    {
      path: "/abs/dir/Dockerfile",
      text: "FROM ubuntu\n",
      findings: lintDockerfile("FROM ubuntu\n"),
    },
  ];
}

/** The schema's one non-Unicode-safe pattern needs unicodeRegExp off; formats are checked. */
function compileSchema() {
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

interface SarifLike {
  version: string;
  runs: {
    tool: {
      driver: {
        name: string;
        informationUri?: string;
        rules: {
          id: string;
          helpUri?: string;
          help: { text: string };
          shortDescription: { text: string };
        }[];
      };
    };
    results: {
      ruleId: string;
      ruleIndex: number;
      level: string;
      locations: {
        physicalLocation: {
          artifactLocation: { uri: string };
          region: { startLine: number; startColumn: number };
        };
      }[];
    }[];
  }[];
}

const DOCS_BASE = "https://git.example.org/berth/-/blob/v1/docs/lint";

describe("SARIF output", () => {
  const log = JSON.parse(formatSarif(reports(), "0.1.0", `${DOCS_BASE}/`)) as SarifLike;
  const unlinked = JSON.parse(formatSarif(reports(), "0.1.0")) as SarifLike;

  it("validates against the SARIF 2.1.0 schema, with and without a docs base URL", () => {
    const validate = compileSchema();
    for (const doc of [log, unlinked]) {
      const ok = validate(doc);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    }
  });

  it("invents no URL: without a docs base, rules name their page in the source tree", () => {
    const driver = unlinked.runs[0].tool.driver;
    expect(driver.informationUri).toBeUndefined();
    for (const r of driver.rules) {
      expect(r.helpUri).toBeUndefined();
      expect(r.help.text).toContain(`docs/lint/${r.id}.md`);
    }
    expect(log.runs[0].tool.driver.informationUri).toBe(`${DOCS_BASE}/README.md`);
  });

  it("the schema rejects a broken log (the validator is live)", () => {
    const validate = compileSchema();
    const broken = structuredClone(log) as unknown as { runs: { results: { level: string }[] }[] };
    broken.runs[0].results[0].level = "fatal";
    expect(validate(broken)).toBe(false);
  });

  it("lists every rule with helpUri and shortDescription, and results point into it", () => {
    const run = log.runs[0];
    expect(log.version).toBe("2.1.0");
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(RULES.map((r) => r.id));
    for (const r of run.tool.driver.rules) {
      expect(r.helpUri).toBe(`${DOCS_BASE}/${r.id}.md`);
      expect(r.shortDescription.text.length).toBeGreaterThan(5);
    }
    expect(run.results.length).toBeGreaterThan(5);
    for (const res of run.results) {
      expect(run.tool.driver.rules[res.ruleIndex].id).toBe(res.ruleId);
      const loc = res.locations[0].physicalLocation;
      expect(["app/Dockerfile", "file:///abs/dir/Dockerfile"]).toContain(loc.artifactLocation.uri);
      expect(loc.region.startLine).toBeGreaterThanOrEqual(1);
    }
    const levels = new Set(run.results.map((r) => r.level));
    expect([...levels].every((l) => ["error", "warning", "note"].includes(l))).toBe(true);
  });
});

describe("checkstyle and JSON output", () => {
  it("escapes XML and maps severities", () => {
    const xml = formatCheckstyle(reports());
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<checkstyle version="4.3">/);
    expect(xml).toContain('<file name="./app/Dockerfile">');
    expect(xml).toContain('source="berth-lint.BL3012"');
    expect(xml).toContain("&lt;a@example.com&gt;");
    expect(xml).not.toMatch(/severity="style"/);
    expect(xml.trim().endsWith("</checkstyle>")).toBe(true);
  });

  it("JSON carries findings, docs links and a summary", () => {
    const doc = JSON.parse(formatJson(reports())) as {
      files: { path: string; findings: { ruleId: string; docs: string; line: number }[] }[];
      summary: Record<string, number>;
    };
    expect(doc.files.map((f) => f.path)).toEqual([
      "./app/Dockerfile",
      "clean/Dockerfile",
      "/abs/dir/Dockerfile",
    ]);
    expect(doc.files[0].findings.find((f) => f.ruleId === "BL3011")?.line).toBe(2);
    expect(doc.files[0].findings[0].docs).toMatch(/^docs\/lint\/BL\d{4}\.md$/);
    const linked = JSON.parse(formatJson(reports(), DOCS_BASE)) as typeof doc;
    expect(linked.files[0].findings[0].docs).toMatch(
      new RegExp(`^${DOCS_BASE.replace(/[.]/g, "\\.")}/BL\\d{4}\\.md$`),
    );
    expect(doc.summary.error).toBeGreaterThanOrEqual(1);
  });
});
