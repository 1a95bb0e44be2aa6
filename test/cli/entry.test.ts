// The `berth` entry point itself: commands load on demand, help lists every command, and a
// reader that closes the pipe early (`berth … | head`) ends the run quietly, not with a
// stack trace.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BERTH_BIN } from "../support/berth-process.js";
import { berth } from "./berth-cli.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "dockerfiles");

describe("berth entry point", () => {
  it("lists every command in --help", async () => {
    const r = await berth(["--help"]);
    expect(r.code).toBe(0);
    for (const name of ["serve", "copy", "lint", "scan", "analyze", "admin", "index", "mirror"]) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${name}\\b`, "m"));
    }
  });

  it("prints its version", async () => {
    const r = await berth(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("resolves aliases and `help COMMAND`", async () => {
    const cp = await berth(["cp", "--help"]);
    expect(cp.code).toBe(0);
    expect(cp.stdout).toContain("Usage: berth copy");
    const help = await berth(["help", "ls"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: berth ls");
  });

  it("rejects an unknown command with a usage exit code", async () => {
    const r = await berth(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command");
  });

  it("exits quietly when the reader closes the pipe early", async () => {
    const files = readdirSync(FIXTURES)
      .filter((f) => f.endsWith(".Dockerfile"))
      .map((f) => join(FIXTURES, f));
    const child = spawn(process.execPath, [BERTH_BIN, "lint", "--format", "json", ...files], {
      env: { ...process.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy(); // the reader is gone before berth writes anything
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
    expect(code).not.toBeNull();
  });
});
