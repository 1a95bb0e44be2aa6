// Reading package-manager command lines (apt-get, apk, pip, npm, yum/dnf): which words are
// options, which option takes a value, which are the subcommand and its operands. Pure.
import { commandName, type ShellCommand } from "../shell.js";

export interface CommandLine {
  /** Options as written (`-y`, `--no-cache`, `--omit=dev`). */
  readonly options: readonly string[];
  /** Non-option words after the command name (subcommand first). */
  readonly operands: readonly string[];
}

/** Splits argv (without the command name) into options and operands. */
export function splitArgs(
  words: readonly string[],
  optionsWithValue: ReadonlySet<string>,
): CommandLine {
  const options: string[] = [];
  const operands: string[] = [];
  for (let i = 0; i < words.length; i += 1) {
    const w = words[i];
    if (w === "--") {
      operands.push(...words.slice(i + 1));
      break;
    }
    if (w.startsWith("-") && w.length > 1) {
      options.push(w);
      if (optionsWithValue.has(w) && i + 1 < words.length) i += 1;
    } else operands.push(w);
  }
  return { options, operands };
}

/** True when `-x`, `--long` or a short cluster such as `-qy` sets one of `flags`. */
export function hasFlag(line: CommandLine, short: string | null, long: readonly string[]): boolean {
  return line.options.some((o) => {
    if (o.startsWith("--")) return long.includes(o.split("=", 1)[0]);
    return short !== null && /^-[A-Za-z]+$/.test(o) && o.includes(short);
  });
}

/** The argv words of a command after its name. */
export function argsOf(command: ShellCommand): readonly string[] {
  return command.args;
}

export function isCommand(command: ShellCommand, names: readonly string[]): boolean {
  return names.includes(commandName(command));
}

/** `pip`, `pip3`, `pip3.11`, or `python[3[.x]] -m pip`: the argv after `pip`, else null. */
export function pipArgs(command: ShellCommand): readonly string[] | null {
  const name = commandName(command);
  if (/^pip[0-9.]*$/.test(name)) return argsOf(command);
  if (/^python[0-9.]*$/.test(name)) {
    const args = argsOf(command);
    const m = args.indexOf("-m");
    if (m !== -1 && /^pip[0-9.]*$/.test(args[m + 1] ?? "")) return args.slice(m + 2);
  }
  return null;
}

/** True when some `rm` in `commands` removes a path under one of `prefixes`. */
export function removesPath(
  commands: readonly ShellCommand[],
  prefixes: readonly string[],
): boolean {
  return commands.some(
    (c) =>
      commandName(c) === "rm" &&
      argsOf(c).some((a) =>
        prefixes.some((p) => a === p || a.startsWith(`${p}/`) || a.startsWith(`${p}*`)),
      ),
  );
}
