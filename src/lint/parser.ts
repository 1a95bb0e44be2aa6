// The one entry point to dockerfile-ast. dockerfile-ast re-tokenises an instruction's
// arguments on every getArguments()/getFlags()/getArgumentsRange() call, and its own
// constructors call them several times per instruction while parsing (JSONInstruction's
// constructor alone four times), which made parsing most of the linter's CPU time. The
// tokenisation is memoised per instruction by wrapping Instruction.prototype.getRawArguments
// (declared private in dockerfile-ast's typings).
// Why this is safe, and its limits (audited against dockerfile-ast 0.7.1's lib/instruction.js):
// getRawArguments reads only the document, range, instruction range and escape character,
// all set in Instruction's constructor and never changed (the library has no edit API), and
// its Argument results are immutable; no subclass overrides it. So the memo never changes
// what dockerfile-ast returns, only how often it computes it; callers still get a fresh array,
// as some of them shift() it. The wrap is process-wide (analyze's Dockerfile mapping benefits
// too), so it is applied only to the dockerfile-ast versions audited: any other installed
// version runs unpatched (correct, just slower). test/lint/parser.test.ts checks the memoised
// results against fresh computations over the whole fixture corpus.
// A per-instance memo (installed after parse) was measured too: it misses the calls made
// while parsing and slowed the linter down, so it was not kept. So were a WeakMap instead of
// the per-instance property (slower) and one cache per document shared by the two instances
// the parser builds for each instruction (no gain: the lookups cost what they saved). Reading
// arguments and flags from the text in model.ts instead of asking dockerfile-ast (a port of
// getRawArguments/getFlags working on offsets) was tried as well: no measurable gain, as the
// parse tokenises those instructions anyway, so it was not kept.
import { createRequire } from "node:module";
import { type Dockerfile, DockerfileParser, Instruction } from "dockerfile-ast";

/** dockerfile-ast versions whose getRawArguments was audited as pure (see above). */
export const AUDITED_DOCKERFILE_AST_VERSIONS: readonly string[] = ["0.7.1"];

const CACHE = Symbol.for("berth.lint.rawArguments");
/** The unwrapped method, kept on the prototype so a second load of this module finds it. */
const ORIGINAL = Symbol.for("berth.lint.rawArguments.original");

interface RawArgumentsOwner {
  getRawArguments(this: RawArgumentsOwner): unknown[];
  [CACHE]?: unknown[];
  [ORIGINAL]?: (this: RawArgumentsOwner) => unknown[];
}

const proto = Instruction.prototype as unknown as RawArgumentsOwner;

function installedVersion(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url)("dockerfile-ast/package.json") as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/** The unwrapped tokeniser, for tests that compare the memo against it. */
export function computeRawArguments(instruction: object): unknown[] {
  const original = proto[ORIGINAL] ?? proto.getRawArguments;
  return original.call(instruction as RawArgumentsOwner);
}

/** Whether the memo is active in this process (false for an unaudited dockerfile-ast). */
export const rawArgumentsMemoised: boolean = (() => {
  if (Object.hasOwn(proto, CACHE)) return true;
  const version = installedVersion();
  if (version === undefined || !AUDITED_DOCKERFILE_AST_VERSIONS.includes(version)) return false;
  const compute = proto.getRawArguments;
  proto.getRawArguments = function memoisedRawArguments(this: RawArgumentsOwner): unknown[] {
    let args = this[CACHE];
    if (args === undefined) {
      args = compute.call(this);
      this[CACHE] = args;
    }
    return args.slice();
  };
  // Marks the prototype as patched (the value on instances is their own cache).
  Object.defineProperty(proto, CACHE, { value: undefined, writable: true });
  Object.defineProperty(proto, ORIGINAL, { value: compute });
  return true;
})();

export function parseDockerfile(text: string): Dockerfile {
  return DockerfileParser.parse(text);
}
