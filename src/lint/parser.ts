// The one entry point to dockerfile-ast. dockerfile-ast re-tokenises an instruction's
// arguments on every getArguments()/getFlags()/getArgumentsRange() call, and its own
// constructors call them several times per instruction, which made parsing most of the
// linter's CPU time. Instructions are immutable once parsed, so the tokenisation is memoised
// per instruction here (callers still get a fresh array, as some of them shift() it).
// Must never change what dockerfile-ast returns, only how often it computes it.
import { type Dockerfile, DockerfileParser, Instruction } from "dockerfile-ast";

const CACHE = Symbol.for("berth.lint.rawArguments");

interface RawArgumentsOwner {
  getRawArguments(this: RawArgumentsOwner): unknown[];
  [CACHE]?: unknown[];
}

const proto = Instruction.prototype as unknown as RawArgumentsOwner;

if (!Object.hasOwn(proto, CACHE)) {
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
}

export function parseDockerfile(text: string): Dockerfile {
  return DockerfileParser.parse(text);
}
