// berth build's progress views (src/cli/build-progress.ts): the TTY view's frames as a pure
// function of the build's state (running steps with elapsed time and output tail, finished
// steps with DONE/CACHED, the FINISHED header), the live view's redraw in place (ANSI cursor
// movement, a shrinking frame cleared), and plain output's lines.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  PlainProgress,
  renderTty,
  TtyProgress,
  type TtyState,
} from "../../src/cli/build-progress.js";

describe("build progress", () => {
  it("renders running and finished steps, RUN output tails, and the header", () => {
    const state: TtyState = {
      started: 0,
      notes: ["pulled base:1"],
      done: false,
      steps: [
        {
          label: "[deps] COPY deps.txt ./",
          started: 0,
          ended: 300,
          cached: true,
          layer: true,
          output: "",
        },
        {
          label: "[deps] WORKDIR /src",
          started: 300,
          ended: 300,
          cached: false,
          layer: false,
          output: "",
        },
        {
          label: "[deps] RUN make",
          started: 400,
          output: "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\n",
        },
      ],
    };
    const frame = renderTty(state, 2400, 60);
    expect(frame[0]).toBe("[+] Building 2.4s (2/3)");
    expect(frame[1]).toBe(" => pulled base:1");
    expect(frame[2]).toMatch(/^ => #1 \[deps\] COPY deps\.txt \.\/ +CACHED$/);
    expect(frame[3]).toBe(" => #2 [deps] WORKDIR /src");
    expect(frame[4]).toMatch(/^ => #3 \[deps\] RUN make +2\.0s$/);
    // The last six lines of the running step's output, under it.
    expect(frame.slice(5)).toEqual([2, 3, 4, 5, 6, 7].map((n) => ` => > line ${n}`));
    for (const line of frame) expect(line.length).toBeLessThanOrEqual(60);

    state.steps[2]!.ended = 3400;
    state.steps[2]!.layer = true;
    state.steps[2]!.cached = false;
    state.done = true;
    const last = renderTty(state, 3500, 60);
    expect(last[0]).toBe("[+] Building 3.5s (3/3) FINISHED");
    expect(last[4]).toMatch(/RUN make +DONE 3\.0s$/);
    expect(last).toHaveLength(5);
  });

  it("redraws in place and clears what a shorter frame leaves", () => {
    const out = Object.assign(new PassThrough(), { columns: 80 }) as unknown as NodeJS.WriteStream;
    let written = "";
    (out as unknown as PassThrough).on("data", (c: Buffer) => {
      written += c.toString();
    });
    const progress = new TtyProgress(out);
    const base = { platform: "linux/amd64", stage: "s", line: 2 };
    progress.handle({ kind: "start", ...base, step: "RUN echo hi" });
    progress.handle({ kind: "output", chunk: Buffer.from("hi\n") });
    written = "";
    progress.handle({
      kind: "step",
      ...base,
      step: "RUN echo hi",
      cached: false,
      ms: 5,
      layer: true,
    });
    // Back to the top of the 3-line frame (header, step, output), redraw 2, clear 1, go back up 1.
    expect(written.startsWith("\x1b[3F")).toBe(true);
    expect(written).toContain("#1 [s] RUN echo hi");
    expect(written.endsWith("\x1b[2K\n\x1b[1F")).toBe(true);
    progress.finish();
  });

  it("prints plain lines per step, with RUN output indented", () => {
    const out = new PassThrough();
    let written = "";
    out.on("data", (c: Buffer) => {
      written += c.toString();
    });
    const progress = new PlainProgress(false, out);
    const base = { platform: "linux/amd64", stage: "s", line: 2 };
    progress.handle({ kind: "start", ...base, step: "RUN echo hi" });
    progress.handle({ kind: "output", chunk: Buffer.from("hi\nthere\n") });
    progress.handle({
      kind: "step",
      ...base,
      step: "RUN echo hi",
      cached: false,
      ms: 1500,
      layer: true,
    });
    expect(written).toBe("  | hi\n  | there\n#1 [s] RUN echo hi DONE 1.5s\n");
  });
});
