// The linter memoises dockerfile-ast's private argument tokeniser (src/lint/parser.ts). These
// checks keep that honest: the memo is on only for audited dockerfile-ast versions, and for
// every instruction of every fixture Dockerfile the memoised arguments, flags and ranges equal
// a fresh, unmemoised computation, however often and in whatever order they are asked for.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Instruction } from "dockerfile-ast";
import { describe, expect, it } from "vitest";
import {
  AUDITED_DOCKERFILE_AST_VERSIONS,
  computeRawArguments,
  parseDockerfile,
  rawArgumentsMemoised,
} from "../../src/lint/parser.js";

const DIR = join(import.meta.dirname, "..", "fixtures", "dockerfiles");
const corpus = readdirSync(DIR)
  .filter((f) => f.endsWith(".Dockerfile"))
  .map((f) => ({ name: f, text: readFileSync(join(DIR, f), "utf8") }));

interface ArgumentLike {
  getValue(): string;
  getRange(): unknown;
}

function plain(args: unknown[]): { value: string; range: unknown }[] {
  return (args as ArgumentLike[]).map((a) => ({ value: a.getValue(), range: a.getRange() }));
}

function flagsOf(i: Instruction): { name: string; value: string | null }[] {
  const f = i as Instruction & {
    getFlags?: () => { getName(): string; getValue(): string | null }[];
  };
  return typeof f.getFlags === "function"
    ? f.getFlags().map((x) => ({ name: x.getName(), value: x.getValue() }))
    : [];
}

describe("dockerfile-ast argument memo", () => {
  it("is active exactly for the audited dockerfile-ast versions", () => {
    const { version } = createRequire(import.meta.url)("dockerfile-ast/package.json") as {
      version: string;
    };
    expect(rawArgumentsMemoised).toBe(AUDITED_DOCKERFILE_AST_VERSIONS.includes(version));
  });

  it("returns what a fresh tokenisation returns, for every fixture instruction", () => {
    expect(corpus.length).toBeGreaterThan(30);
    let checked = 0;
    for (const { name, text } of corpus) {
      const memoised = parseDockerfile(text).getInstructions();
      const fresh = parseDockerfile(text).getInstructions();
      expect(memoised.length, name).toBe(fresh.length);
      memoised.forEach((inst, i) => {
        const other = fresh[i] as Instruction;
        const viaMemo = inst as unknown as { getRawArguments(): unknown[] };
        // Ask several times, mutate what comes back: the memo must not change.
        viaMemo.getRawArguments().shift();
        inst.getArguments().shift();
        expect(plain(viaMemo.getRawArguments()), `${name}:${i}`).toEqual(
          plain(computeRawArguments(inst)),
        );
        expect(plain(viaMemo.getRawArguments()), `${name}:${i}`).toEqual(
          plain(computeRawArguments(other)),
        );
        expect(
          inst.getArguments().map((a) => a.getValue()),
          `${name}:${i}`,
        ).toEqual(other.getArguments().map((a) => a.getValue()));
        expect(inst.getArgumentsRange(), `${name}:${i}`).toEqual(other.getArgumentsRange());
        expect(flagsOf(inst), `${name}:${i}`).toEqual(flagsOf(other));
        expect(inst.toString(), `${name}:${i}`).toBe(other.toString());
        checked += 1;
      });
    }
    expect(checked).toBeGreaterThan(200);
  });
});
