// The one entry point to dockerfile-ast. dockerfile-ast re-tokenises an instruction's
// arguments on every getArguments()/getFlags()/getArgumentsRange() call, and its own
// constructors call them several times per instruction, which made parsing most of the
// linter's CPU time. Instructions are immutable once parsed, so the tokenisation is memoised
// per instruction here (callers still get a fresh array, as some of them shift() it).
// Must never change what dockerfile-ast returns, only how often it computes it.
import { type Dockerfile, DockerfileParser, Instruction } from "dockerfile-ast";

interface RawArgumentsOwner {
  getRawArguments(this: object): unknown[];
}

const proto = Instruction.prototype as unknown as RawArgumentsOwner;
const MEMOISED = Symbol.for("berth.lint.memoisedRawArguments");
const memo = new WeakMap<object, unknown[]>();

if (!(MEMOISED in proto)) {
  const compute = proto.getRawArguments;
  proto.getRawArguments = function memoisedRawArguments(this: object): unknown[] {
    let args = memo.get(this);
    if (args === undefined) {
      args = compute.call(this);
      memo.set(this, args);
    }
    return args.slice();
  };
  Object.defineProperty(proto, MEMOISED, { value: true });
}

export function parseDockerfile(text: string): Dockerfile {
  return DockerfileParser.parse(text);
}
