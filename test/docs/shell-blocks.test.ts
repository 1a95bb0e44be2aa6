// The marking convention of documentation blocks (test/docs/shell-blocks.ts).
import { describe, expect, it } from "vitest";
import { docBlocks, serverStart } from "./shell-blocks.js";

describe("docBlocks", () => {
  it("classifies blocks by their info string", () => {
    const md = [
      "```sh",
      "echo run",
      "```",
      "```sh docker-only",
      "docker ps",
      "```",
      "```sh skip: needs the server stopped",
      "berth admin --data ./data user list",
      "```",
      "```text",
      "$ output",
      "```",
      "```",
      "plain",
      "```",
    ].join("\n");
    const blocks = docBlocks(md);
    expect(blocks.map((b) => b.kind)).toEqual(["run", "docker-only", "skip", "other", "other"]);
    expect(blocks[0]).toMatchObject({ line: 1, body: "echo run" });
    expect(blocks[2]?.reason).toBe("needs the server stopped");
  });

  it("refuses an unknown marking instead of silently not running the block", () => {
    expect(() => docBlocks("```sh maybe\necho\n```")).toThrow(/unknown shell block marking/);
  });
});

describe("serverStart", () => {
  it("recognises npm start with optional assignments", () => {
    expect(serverStart("npm start")).toEqual({});
    expect(serverStart("BERTH_AUTH=none npm start")).toEqual({ BERTH_AUTH: "none" });
    expect(serverStart("npm start && echo")).toBeUndefined();
    expect(serverStart("npm install")).toBeUndefined();
  });
});
