// Pure pieces of Dockerfile semantics the builder applies: splitting COPY/ADD arguments
// (shell words or the JSON form), flag parsing, the image-config edits of ENV/LABEL/WORKDIR/
// USER/EXPOSE/VOLUME/ENTRYPOINT/CMD/HEALTHCHECK/STOPSIGNAL/ONBUILD, and the history text
// (`created_by`) BuildKit writes for each, so `berth analyze --dockerfile` maps them back.
// No I/O.
import type { ImageConfig } from "../oci/index.js";

export class DockerfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DockerfileError";
  }
}

export type RuntimeConfig = NonNullable<ImageConfig["config"]> & {
  Shell?: string[];
  OnBuild?: string[];
};

/** Shell-like words: quotes group, backslash escapes (outside single quotes). */
export function splitWords(text: string, escapeChar = "\\"): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === escapeChar && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === escapeChar && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quote) throw new DockerfileError(`unterminated quote in "${text}"`);
  if (inWord) words.push(current);
  return words;
}

/** The JSON array form of an instruction's arguments, or null when it is not one. */
export function jsonForm(text: string): string[] | null {
  const t = text.trim();
  if (!t.startsWith("[")) return null;
  try {
    const parsed: unknown = JSON.parse(t);
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === "string")) return parsed;
  } catch {
    return null;
  }
  return null;
}

/** Arguments after the instruction's `--flag` words. */
export function withoutFlags(text: string): string {
  return text.replace(/^(\s*--[a-zA-Z-]+(=("[^"]*"|'[^']*'|\S*))?\s+)+/, "").trim();
}

export function envMap(config: RuntimeConfig): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of config.Env ?? []) {
    const eq = entry.indexOf("=");
    if (eq === -1) map.set(entry, "");
    else map.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return map;
}

export function setEnv(config: RuntimeConfig, pairs: readonly [string, string][]): void {
  const map = envMap(config);
  for (const [k, v] of pairs) map.set(k, v);
  config.Env = [...map].map(([k, v]) => `${k}=${v}`);
}

/** WORKDIR semantics: relative paths extend the current one. */
export function resolveWorkdir(current: string | undefined, path: string): string {
  const joined = path.startsWith("/") ? path : `${current || "/"}/${path}`;
  const parts: string[] = [];
  for (const p of joined.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  return `/${parts.join("/")}`;
}

/** `80`, `80/tcp`, `53/udp`, `8000-8002` as ExposedPorts keys. */
export function exposedPorts(words: readonly string[]): string[] {
  const keys: string[] = [];
  for (const word of words) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
    if (!m) throw new DockerfileError(`EXPOSE: "${word}" is not a port (PORT[/PROTO])`);
    const from = Number(m[1]);
    const to = m[2] ? Number(m[2]) : from;
    const proto = (m[3] ?? "tcp").toLowerCase();
    if (from < 1 || to > 65535 || to < from)
      throw new DockerfileError(`EXPOSE: bad port range "${word}"`);
    for (let p = from; p <= to; p++) keys.push(`${p}/${proto}`);
  }
  return keys;
}

/** The argv of a shell-or-exec form CMD/ENTRYPOINT/RUN. */
export function commandArgv(argsText: string, shell: readonly string[]): string[] {
  return jsonForm(argsText) ?? [...shell, argsText];
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go-style durations (`30s`, `1m30s`) in nanoseconds. */
export function parseDuration(flag: string, text: string): number {
  let rest = text;
  let total = 0;
  while (rest !== "") {
    const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/.exec(rest);
    if (!m)
      throw new DockerfileError(`HEALTHCHECK --${flag}: "${text}" is not a duration (e.g. 30s)`);
    total += Number(m[1]) * (UNIT_NS[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  if (text === "") throw new DockerfileError(`HEALTHCHECK --${flag} needs a duration`);
  return Math.round(total);
}

export type Healthcheck = NonNullable<RuntimeConfig["Healthcheck"]> & { StartPeriod?: number };

/** HEALTHCHECK [--interval=…] CMD … | NONE, as Docker stores it. */
export function parseHealthcheck(
  flags: readonly { name: string; value: string | null }[],
  argsText: string,
): Healthcheck {
  const rest = withoutFlags(argsText);
  if (/^none$/i.test(rest)) return { Test: ["NONE"] };
  const m = /^cmd\s+([\s\S]*)$/i.exec(rest);
  if (!m) throw new DockerfileError("HEALTHCHECK needs CMD <command> or NONE");
  const cmd = (m[1] as string).trim();
  const exec = jsonForm(cmd);
  const check: Healthcheck = { Test: exec ? ["CMD", ...exec] : ["CMD-SHELL", cmd] };
  for (const f of flags) {
    const value = f.value ?? "";
    if (f.name === "interval") check.Interval = parseDuration(f.name, value);
    else if (f.name === "timeout") check.Timeout = parseDuration(f.name, value);
    else if (f.name === "start-period") check.StartPeriod = parseDuration(f.name, value);
    else if (f.name === "retries") {
      if (!/^\d+$/.test(value))
        throw new DockerfileError(`HEALTHCHECK --retries: "${value}" is not a number`);
      check.Retries = Number(value);
    } else if (f.name !== "start-interval") {
      throw new DockerfileError(`HEALTHCHECK: unknown flag --${f.name}`);
    }
  }
  return check;
}

/** `created_by` for a step, as BuildKit writes it. */
export function createdBy(keyword: string, text: string, layer: boolean): string {
  const line = `${keyword} ${text}`.trim();
  return layer ? `${line} # buildkit` : line;
}

/** `|N K=V … ` prefix BuildKit puts before a RUN's argv when build args are in effect. */
export function runHistoryText(argv: readonly string[], args: readonly [string, string][]): string {
  const prefix =
    args.length > 0 ? `|${args.length} ${args.map(([k, v]) => `${k}=${v}`).join(" ")} ` : "";
  return `${prefix}${argv.join(" ")}`;
}

/** Parses `--flag` values of COPY/ADD into what the builder needs; unknown flags are errors. */
export interface CopyFlags {
  from?: string;
  chown?: string;
  chmod?: number;
  link: boolean;
  /** ADD --checksum=sha256:… of an http(s) source. */
  checksum?: string;
}

export function copyFlags(
  keyword: string,
  flags: readonly { name: string; value: string | null }[],
): CopyFlags {
  const out: CopyFlags = { link: false };
  for (const f of flags) {
    if (f.name === "from" && keyword === "COPY") out.from = f.value ?? "";
    else if (f.name === "chown") out.chown = f.value ?? "";
    else if (f.name === "chmod") {
      if (!/^[0-7]{3,4}$/.test(f.value ?? "")) {
        throw new DockerfileError(`${keyword} --chmod: "${f.value}" is not an octal mode`);
      }
      out.chmod = Number.parseInt(f.value as string, 8);
    } else if (f.name === "link") out.link = f.value !== "false";
    else if (f.name === "checksum" && keyword === "ADD") out.checksum = f.value ?? "";
    else if (f.name !== "keep-git-dir" && f.name !== "parents") {
      throw new DockerfileError(`${keyword}: unknown flag --${f.name}`);
    }
  }
  return out;
}
