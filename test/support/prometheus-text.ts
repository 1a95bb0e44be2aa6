// A strict parser of the Prometheus text exposition format (0.0.4), for tests that read
// /metrics: every line must be a comment, a HELP/TYPE line, or a sample of a family whose
// TYPE came first; label values must be quoted with only \\, \" and \n escapes; values must
// be floats (or NaN, +Inf, -Inf). Anything else throws with the line number.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES = ["_bucket", "_sum", "_count", "_total", "_created"];

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const rest = line.slice(7);
      const space = rest.indexOf(" ");
      const name = space === -1 ? rest : rest.slice(0, space);
      if (!NAME.test(name)) throw new Error(`bad metric name at ${where}`);
      const family = families.get(name) ?? { name, type: "untyped", help: "", samples: [] };
      if (line.startsWith("# TYPE ")) {
        const type = rest.slice(space + 1);
        if (!TYPES.has(type)) throw new Error(`bad type at ${where}`);
        if (family.samples.length > 0) throw new Error(`TYPE after samples at ${where}`);
        family.type = type;
      } else family.help = space === -1 ? "" : rest.slice(space + 1);
      families.set(name, family);
      return;
    }
    if (line.startsWith("#") || line.trim() === "") return;
    const sample = parseSample(line, where);
    const family = familyOf(families, sample.name);
    if (!family) throw new Error(`sample of an undeclared family at ${where}`);
    family.samples.push(sample);
  });
  return families;
}

function familyOf(families: Map<string, Family>, name: string): Family | undefined {
  if (families.has(name)) return families.get(name);
  for (const suffix of SUFFIXES) {
    if (name.endsWith(suffix)) {
      const f = families.get(name.slice(0, -suffix.length));
      if (f) return f;
    }
  }
  return undefined;
}

function parseSample(line: string, where: string): Sample {
  let i = 0;
  while (i < line.length && /[a-zA-Z0-9_:]/.test(line[i]!)) i++;
  const name = line.slice(0, i);
  if (!NAME.test(name)) throw new Error(`bad sample name at ${where}`);
  const labels: Record<string, string> = {};
  if (line[i] === "{") {
    i++;
    while (line[i] !== "}") {
      const start = i;
      while (i < line.length && /[a-zA-Z0-9_]/.test(line[i]!)) i++;
      const label = line.slice(start, i);
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label) || line[i] !== "=" || line[i + 1] !== '"')
        throw new Error(`bad label at ${where}`);
      i += 2;
      let value = "";
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`unterminated label value at ${where}`);
        i++;
        if (c === '"') break;
        if (c === "\\") {
          const e = line[i++];
          if (e === "n") value += "\n";
          else if (e === "\\" || e === '"') value += e;
          else throw new Error(`bad escape at ${where}`);
        } else value += c;
      }
      if (Object.hasOwn(labels, label)) throw new Error(`repeated label at ${where}`);
      labels[label] = value;
      if (line[i] === ",") i++;
      else if (line[i] !== "}") throw new Error(`bad label list at ${where}`);
    }
    i++;
  }
  if (line[i] !== " ") throw new Error(`no value at ${where}`);
  const parts = line.slice(i + 1).split(" ");
  if (parts.length > 2) throw new Error(`trailing text at ${where}`);
  const text = parts[0]!;
  const value =
    text === "NaN"
      ? Number.NaN
      : text === "+Inf"
        ? Infinity
        : text === "-Inf"
          ? -Infinity
          : Number(text);
  if (text === "" || (Number.isNaN(value) && text !== "NaN"))
    throw new Error(`bad value at ${where}`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1]))
    throw new Error(`bad timestamp at ${where}`);
  return { name, labels, value };
}

/** The value of one sample (0 when absent): `name` exactly, with every given label. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = familyOf(families, name);
  const s = family?.samples.find(
    (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  );
  return s?.value ?? 0;
}
