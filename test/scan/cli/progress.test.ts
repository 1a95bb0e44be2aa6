// `berth scan`/`sbom`/`db` progress: one self-erasing line on a TTY, nothing on a pipe.
import { describe, expect, it } from "vitest";
import { ttyProgress } from "../../../src/cli/scan-progress.js";

function fakeStream(isTTY: boolean, columns = 30) {
  const written: string[] = [];
  const stream = {
    isTTY,
    columns,
    write(chunk: string) {
      written.push(chunk);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe("scan progress", () => {
  it("draws one line on a TTY, clipped to its width, and erases it when done", () => {
    const { stream, written } = fakeStream(true, 30);
    const p = ttyProgress(stream);
    p.update("reading layer 1/3 sha256:0123456789abcdef0123456789");
    p.update("matching 120 packages");
    p.done();
    p.done();
    expect(written).toEqual([
      "\r\x1b[2Kreading layer 1/3 sha256:0123", // 29 = columns - 1
      "\r\x1b[2Kmatching 120 packages",
      "\r\x1b[2K",
    ]);
  });

  it("writes nothing when stderr is not a TTY (pipes, CI logs)", () => {
    const { stream, written } = fakeStream(false);
    const p = ttyProgress(stream);
    p.update("reading layer 1/3");
    p.done();
    expect(written).toEqual([]);
  });
});
