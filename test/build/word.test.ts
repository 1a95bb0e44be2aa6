// ENV/ARG/LABEL values as Docker reads them: the raw text the lint model keeps (quotes and
// escapes as written) processed by BuildKit's word rules (single quotes literal, `\$` a
// literal dollar, escapes inside double quotes only before `"`, `$` and the escape char,
// the `${…}` modifiers). Pure cases pin BuildKit's lexer; one FROM-scratch build is compared
// with `buildah bud` of the same Dockerfile (Env and Labels), which needs no image and ~0.1 s.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/build/builder.js";
import { BuildStore } from "../../src/build/store.js";
import { processWord } from "../../src/build/word.js";
import { buildModel } from "../../src/lint/model.js";
import { buildah, privateContainerStorage } from "../support/container-tools.js";

/** A literal `$` (keeps `${…}` out of template-literal syntax). */
const D = "$";
const scope = new Map<string, string | undefined>([
  ["A", "1"],
  ["EMPTY", ""],
  ["DECLARED", undefined],
  ["PATHLIKE", "/usr/local/bin/node"],
]);

describe("processWord (BuildKit's shell lexer)", () => {
  it("treats quotes and escapes as Docker does", () => {
    expect(processWord("\\$A", scope)).toBe("$A");
    expect(processWord("'$A x'", scope)).toBe("$A x");
    expect(processWord('"$A \\$A \\\\ \\q"', scope)).toBe("1 $A \\ \\q");
    expect(processWord("a\\ b", scope)).toBe("a b");
    expect(processWord("'a\\b'", scope)).toBe("a\\b");
    expect(processWord(`"it's"`, scope)).toBe("it's");
    expect(processWord(`'say "hi"'`, scope)).toBe('say "hi"');
    expect(processWord("pre'$A'\"$A\"$A", scope)).toBe("pre$A11");
    expect(processWord("`$A", scope, "`")).toBe("$A");
    expect(processWord("\\$A", scope, "`")).toBe("\\1");
  });

  it("expands variables with every modifier, unset ones to nothing", () => {
    expect(processWord(`${D}{A}x${D}1${D}NOPE`, scope)).toBe("1x");
    expect(processWord(`${D}{NOPE:-"q w"}`, scope)).toBe("q w");
    expect(processWord(`${D}{EMPTY:-d} ${D}{EMPTY-d} ${D}{DECLARED-d}`, scope)).toBe("d  d");
    expect(processWord(`${D}{A:+set}/${D}{EMPTY:+set}/${D}{EMPTY+set}`, scope)).toBe("set//set");
    expect(processWord("$ a$", scope)).toBe("$ a$");
    // BuildKit reads `$$` as the special parameter `$`, unset in a build (buildah keeps `$$`).
    expect(processWord("$$", scope)).toBe("");
    expect(processWord(`${D}{PATHLIKE##*/} ${D}{PATHLIKE%/*}`, scope)).toBe("node /usr/local/bin");
    expect(processWord(`${D}{PATHLIKE#*/} ${D}{PATHLIKE%%/bin*}`, scope)).toBe(
      "usr/local/bin/node /usr/local",
    );
    expect(processWord(`${D}{PATHLIKE/local/opt} ${D}{PATHLIKE//o/0}`, scope)).toBe(
      "/usr/opt/bin/node /usr/l0cal/bin/n0de",
    );
  });

  it("fails clearly on what BuildKit refuses", () => {
    expect(() => processWord("'open", scope)).toThrow("matching single-quote");
    expect(() => processWord('"open', scope)).toThrow("matching double-quote");
    expect(() => processWord(`${D}{A:-x`, scope)).toThrow("matching }");
    expect(() => processWord(`${D}{}`, scope)).toThrow("bad substitution");
    expect(() => processWord(`${D}{A*x}`, scope)).toThrow("unsupported modifier (*)");
    expect(() => processWord(`${D}{NOPE:?must be set}`, scope)).toThrow("NOPE: must be set");
    expect(() => processWord(`${D}{EMPTY:?}`, scope)).toThrow("EMPTY: is not allowed to be empty");
  });

  it("gets the raw text from the lint model (the shared parse)", () => {
    const model = buildModel(`FROM scratch\nENV X=\\$A Y='$A' OLD\nLABEL "k k"='v $A'\n`);
    const raw = model.stages[0]!.instructions.flatMap((i) =>
      i.properties.map((p) => [p.rawName, p.rawValue]),
    );
    expect(raw).toEqual([
      ["X", "\\$A"],
      ["Y", "'$A'"],
      ["OLD", null],
      ['"k k"', "'v $A'"],
    ]);
  });
});

const DOCKERFILE = `FROM scratch
ARG G='g $X'
ENV A=1
ENV X=\\$A Y='$A x' Z="$A \\$A \\\\ \\q" W=a\\ b V="a\\"b" U='a\\b' E= P=${D}{A:-d}${D}{NOPE:-"q w"} S=${D}{A:+set} R=${D}{A}x$1 Q="it's" O='say "hi"'
ENV OLD hello $A 'q'  "r s"
ENV G2=$G
LABEL "k k"='v $A' k2=$A "k$A"=x multi="a \\
  b"
`;

describe("ENV, ARG and LABEL against buildah bud", () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-word-"));
    await writeFile(join(work, "Dockerfile"), DOCKERFILE);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("gives the Env and Labels buildah gives", async () => {
    const store = await BuildStore.open(join(work, "store"));
    const ours = await build({
      dockerfileText: DOCKERFILE,
      context: work,
      store,
      buildArgs: {},
      platforms: [{ os: "linux", architecture: "amd64" }],
      epoch: 1_700_000_000,
    });
    const config = ours.images[0]!.config.config ?? {};
    const storage = await privateContainerStorage();
    let theirs: { Env?: string[]; Labels?: Record<string, string> };
    try {
      await buildah(storage, ["bud", "--isolation", "chroot", "-q", "-t", "localhost/word", work]);
      const inspected = await buildah(storage, ["inspect", "--type", "image", "localhost/word"]);
      theirs = (JSON.parse(inspected.stdout) as { OCIv1: { config: typeof theirs } }).OCIv1.config;
    } finally {
      await storage.remove();
    }
    const noPath = (env: string[] | undefined) => (env ?? []).filter((e) => !e.startsWith("PATH="));
    expect(noPath(config.Env)).toEqual(noPath(theirs.Env));
    expect(noPath(config.Env)).toContain("OLD=hello 1 q  r s");
    const labels = { ...theirs.Labels };
    delete labels["io.buildah.version"];
    // Berth adds org.opencontainers.image.created (issue 18); buildah adds its version.
    const ourLabels = { ...config.Labels };
    delete ourLabels["org.opencontainers.image.created"];
    expect(ourLabels).toEqual(labels);
    expect(config.Labels?.["k k"]).toBe("v $A");
  });
});
