// Pure part of the documentation test (test/docs/readme.test.ts): finds the fenced blocks of
// a Markdown document and classifies them by their info string.
//
// The fencing convention, for README.md and every docs/**/*.md (also described in README.md
// "Documentation blocks"); each document's command blocks are run in order, as pasted:
//   ```sh / ```bash            a command block: run, in order, as pasted
//   ```sh docker-only          needs a Docker engine: not run here, reported as skipped
//   ```sh skip: <reason>       a command that cannot run inside the test (reason shown)
//   ```text / ```yaml / ```    anything else: output or file content, never run
// In a command block, `npm install` and `npm start` lines get special handling by the test
// (the install already exists; the server is started in the background on a free port).

export type BlockKind = "run" | "docker-only" | "skip" | "other";

export interface DocBlock {
  /** 1-based line of the opening fence. */
  line: number;
  kind: BlockKind;
  info: string;
  /** Why it is not run (docker-only / skip). */
  reason?: string;
  body: string;
}

export function docBlocks(markdown: string): DocBlock[] {
  const lines = markdown.split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    const info = open[2]!.trim();
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith(fence)) body.push(lines[j++]!);
    blocks.push({ line: i + 1, info, body: body.join("\n"), ...classify(info) });
    i = j;
  }
  return blocks;
}

function classify(info: string): { kind: BlockKind; reason?: string } {
  const [lang, ...rest] = info.split(/\s+/);
  if (lang !== "sh" && lang !== "bash") return { kind: "other" };
  const extra = rest.join(" ");
  if (extra === "") return { kind: "run" };
  if (extra === "docker-only") {
    return { kind: "docker-only", reason: "needs a Docker engine; docker is only a client here" };
  }
  const skip = /^skip:\s*(.+)$/.exec(extra);
  if (skip) return { kind: "skip", reason: skip[1]! };
  throw new Error(`unknown shell block marking "${info}" (use docker-only or skip: <reason>)`);
}

/** A line that starts the server: `npm start`, optionally after `VAR=value` assignments. */
export function serverStart(line: string): Record<string, string> | undefined {
  const m = /^((?:[A-Z_][A-Z0-9_]*=\S*\s+)*)npm start\s*$/.exec(line.trim());
  if (!m) return undefined;
  const env: Record<string, string> = {};
  for (const assignment of m[1]!.trim().split(/\s+/).filter(Boolean)) {
    const eq = assignment.indexOf("=");
    env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  return env;
}
