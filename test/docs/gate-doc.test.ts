// docs/gate.md is the policy file's reference: every top-level key of the gate (GATE_RULES)
// has its row, and every policy example in it (```yaml blocks, and ```json blocks that are
// policies) parses with the gate's own parser, so the examples work as pasted; the unknown-key
// error the document promises is the parser's.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GATE_RULES, parseGatePolicy } from "../../src/policy/gate.js";

const DOC = readFileSync(join(import.meta.dirname, "..", "..", "docs", "gate.md"), "utf8");

function blocks(info: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`^\`\`\`${info}\\n([\\s\\S]*?)^\`\`\`$`, "gm");
  for (const m of DOC.matchAll(re)) out.push(m[1]!);
  return out;
}

describe("docs/gate.md", () => {
  it("documents every top-level key of the policy file", () => {
    for (const rule of GATE_RULES) expect(DOC, rule).toContain(`| \`${rule}\` |`);
  });

  it("every YAML example is a valid policy; the complete one uses every key", () => {
    const yaml = blocks("yaml");
    expect(yaml.length).toBeGreaterThanOrEqual(3);
    const parsed = yaml.map((text, i) => parseGatePolicy(text, `yaml example ${i + 1}`));
    const complete = parsed[0]!;
    expect(Object.keys(complete).sort()).toEqual([...GATE_RULES].sort());
    expect(complete.maxSize).toBe(200_000_000);
    expect(complete.vulnerabilities?.allowlist).toHaveLength(2);
  });

  it("the JSON policy example parses the same as its YAML twin", () => {
    const json = blocks("json").filter((b) => !b.includes('"repository"'));
    expect(json).toHaveLength(1);
    expect(parseGatePolicy(json[0]!)).toEqual(parseGatePolicy(blocks("yaml")[1]!));
  });

  it("the promised unknown-key error is the parser's", () => {
    expect(() => parseGatePolicy("maxSise: 1MB\n")).toThrow(/unknown key "maxSise"/);
    expect(DOC).toContain('unknown key "maxSise"');
  });
});
