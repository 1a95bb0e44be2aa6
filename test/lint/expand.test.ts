// Docker's variable substitution in instruction arguments.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${…} here is Dockerfile/shell syntax under test
import { describe, expect, it } from "vitest";
import { expand } from "../../src/lint/expand.js";

const scope = new Map<string, string | undefined>([
  ["A", "alpha"],
  ["EMPTY", ""],
  ["DECLARED", undefined],
]);

describe("expand", () => {
  it("expands $VAR and ${VAR}", () => {
    expect(expand("x/$A/${A}_y", scope)).toEqual({ value: "x/alpha/alpha_y", unresolved: false });
  });
  it("supports :- - :+ + modifiers", () => {
    expect(expand("${EMPTY:-d}", scope).value).toBe("d");
    expect(expand("${EMPTY-d}", scope).value).toBe("");
    expect(expand("${NOPE:-/x}", scope)).toEqual({ value: "/x", unresolved: false });
    expect(expand("${A:+set}", scope).value).toBe("set");
    expect(expand("${EMPTY:+set}", scope).value).toBe("");
    expect(expand("${A+set}", scope).value).toBe("set");
  });
  it("marks unknown or value-less variables unresolved", () => {
    expect(expand("$NOPE/x", scope).unresolved).toBe(true);
    expect(expand("${DECLARED}", scope).unresolved).toBe(true);
  });
  it("honours the escape character before $", () => {
    expect(expand("\\$A", scope).value).toBe("$A");
    expect(expand("`$A", scope, "`").value).toBe("$A");
  });
});
