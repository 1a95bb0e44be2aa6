// The heredoc reader of berth build (src/build/heredoc.ts): markers, bodies in order, `<<-`
// tab stripping, quoted names taken literally, a missing terminator as a clear error.
import { describe, expect, it } from "vitest";
import { heredocWord, linesAfterFirst, parseHeredocs } from "../../src/build/heredoc.js";

describe("heredocs", () => {
  it("recognises <<NAME, <<-NAME and quoted names, and nothing else", () => {
    expect(heredocWord("<<EOF")).toEqual({ name: "EOF", expand: true, chomp: false });
    expect(heredocWord("<<-EOT")).toEqual({ name: "EOT", expand: true, chomp: true });
    expect(heredocWord("<<'EOF'")).toEqual({ name: "EOF", expand: false, chomp: false });
    expect(heredocWord('<<-"robots.txt"')).toEqual({
      name: "robots.txt",
      expand: false,
      chomp: true,
    });
    for (const word of ["<EOF", "EOF", "<<", "3<<EOF", "<<'EOF\"", "a<<EOF"])
      expect(heredocWord(word), word).toBeNull();
  });

  it("takes the bodies in order up to each terminator; <<- strips leading tabs", () => {
    const docs = parseHeredocs(
      ["<<one", "<<-two", "/dest/"],
      ["first", "  indented", "one", "\tsecond", "\t\tdeeper", "\ttwo", "after"],
    );
    expect(docs).toEqual([
      { name: "one", expand: true, chomp: false, content: "first\n  indented\n" },
      { name: "two", expand: true, chomp: true, content: "second\ndeeper\n" },
    ]);
    expect(parseHeredocs(["<<EMPTY"], ["EMPTY"])).toEqual([
      { name: "EMPTY", expand: true, chomp: false, content: "" },
    ]);
  });

  it("fails clearly when a body has no terminator", () => {
    expect(() => parseHeredocs(["<<EOF"], ["echo hi", "EOFX"])).toThrow(
      "heredoc <<EOF has no closing EOF line",
    );
  });

  it("finds the bodies after a first line continued with the escape character", () => {
    expect(
      linesAfterFirst(["RUN --mount=type=cache,target=/c \\", "  <<EOF", "x", "EOF"], "\\"),
    ).toEqual(["x", "EOF"]);
    expect(linesAfterFirst(["COPY <<EOF /a", "x", "EOF"], "`")).toEqual(["x", "EOF"]);
  });
});
