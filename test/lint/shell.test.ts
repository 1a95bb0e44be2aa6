// The RUN shell tokeniser: commands, connectors, pipes, quotes, comments, redirections,
// heredocs, wrappers and `sh -c` scripts.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${…} here is Dockerfile/shell syntax under test
import { describe, expect, it } from "vitest";
import { commandName, parseShell } from "../../src/lint/shell.js";

const argv = (script: string) => parseShell(script).map((c) => c.words.map((w) => w.text));

describe("parseShell", () => {
  it("splits on && || ; | & and newlines, keeping quoted operators inside words", () => {
    expect(argv(`a && b || c; d | e & f\ng "x && y" 'p | q'`)).toEqual([
      ["a"],
      ["b"],
      ["c"],
      ["d"],
      ["e"],
      ["f"],
      ["g", "x && y", "p | q"],
    ]);
    const cs = parseShell("a | b | c && d");
    expect(cs.map((c) => c.connector)).toEqual(["start", "|", "|", "&&"]);
    expect(new Set(cs.slice(0, 3).map((c) => c.pipeline)).size).toBe(1);
    expect(cs[3].pipeline).not.toBe(cs[0].pipeline);
  });

  it("drops comments but not a # inside a word or quotes", () => {
    expect(argv("echo a#b '# no' # apt-get update\nls")).toEqual([["echo", "a#b", "# no"], ["ls"]]);
  });

  it("removes escapes, backslash-newline continuations and redirections", () => {
    expect(argv("echo a\\ b \\\n c >/dev/null 2>&1 < in.txt &> log")).toEqual([
      ["echo", "a b", "c"],
    ]);
    expect(argv("cat x>y")).toEqual([["cat", "x"]]);
  });

  it("keeps $(…), ${…} and backticks whole, and double-quote escapes", () => {
    expect(argv('echo $(a && b) ${X:-y z} `c | d` "q\\"r"')).toEqual([
      ["echo", "$(a && b)", "${X:-y z}", "`c | d`", 'q"r'],
    ]);
  });

  it("strips assignments, reserved words and wrappers", () => {
    const [c] = parseShell(
      "DEBIAN_FRONTEND=noninteractive sudo -u app env A=1 apt-get install -y x",
    );
    expect(c.assignments).toEqual(["DEBIAN_FRONTEND=noninteractive", "A=1"]);
    expect(c.wrappers).toEqual(["sudo", "env"]);
    expect(commandName(c)).toBe("apt-get");
    expect(argv("if true; then cd /x; fi")).toEqual([["true"], ["cd", "/x"]]);
    expect(argv("for f in a b; do rm $f; done")).toEqual([["rm", "$f"]]);
  });

  it("tracks subshell depth", () => {
    const cs = parseShell("(cd /x && make) && cd /y");
    expect(cs.map((c) => [c.words[0].text, c.subshell])).toEqual([
      ["cd", 1],
      ["make", 1],
      ["cd", 0],
    ]);
  });

  it("skips heredoc bodies of ordinary commands and parses shell heredocs", () => {
    expect(argv("cat <<EOF > /f\napt-get update\nEOF\necho done")).toEqual([
      ["cat"],
      ["echo", "done"],
    ]);
    expect(argv("cat <<-'END'\n\tsudo x\n\tEND\nls")).toEqual([["cat"], ["ls"]]);
    const nested = parseShell("<<EOF\nset -e\napk add curl\nEOF");
    expect(nested.map((c) => c.words.map((w) => w.text))).toEqual([
      ["set", "-e"],
      ["apk", "add", "curl"],
    ]);
    expect(nested.every((c) => c.nested)).toBe(true);
  });

  it("parses the script of sh -c and bash -ec", () => {
    const cs = parseShell(`sh -c "pip install x; cd /y" && bash -ec 'a | b'`);
    expect(cs.map((c) => [c.words[0].text, c.nested])).toEqual([
      ["sh", false],
      ["pip", true],
      ["cd", true],
      ["bash", false],
      ["a", true],
      ["b", true],
    ]);
  });

  it("reports offsets of commands in the script", () => {
    const script = "echo hi && apt-get update";
    const [, c] = parseShell(script);
    expect(script.slice(c.start, c.end)).toBe("apt-get update");
  });
});
