// Reading a committed blob file (whole or an inclusive byte range) for a GET. Two ways out:
// - as a Readable (for any consumer: admission checks, tests), fresh buffers per chunk;
// - sendTo(sink): the blob data path. Node has no sendfile() for sockets, so the closest to
//   zero-copy it allows is: read() straight into a few buffers allocated once per response
//   and reused (no allocation, no page faults, no GC of MiB-sized buffers per chunk), each
//   written to the sink without copying, the next read overlapping the write in flight. A
//   buffer is refilled only after the sink's write callback says its bytes left for the
//   kernel, and no read starts while the sink asks to drain: backpressure is the sink's.
// Never reads past the range, never holds more than SEND_BUFFERS × SEND_CHUNK per response,
// and always closes the file (end, error, or a client that went away).
import type { FileHandle } from "node:fs/promises";
import { Readable, type Writable } from "node:stream";

/** Bytes per read (and per write to the socket). */
export const SEND_CHUNK = 1024 * 1024;
/** Buffers in rotation per response: one being filled while the other is being written. */
const SEND_BUFFERS = 2;

export class BlobFileStream extends Readable {
  private position: number;
  private readonly end: number;
  private fileClosed = false;

  /** `end` is inclusive; the stream owns `handle` and closes it. */
  constructor(
    private readonly handle: FileHandle,
    start: number,
    end: number,
    highWaterMark: number,
  ) {
    super({ highWaterMark });
    this.position = start;
    this.end = end;
  }

  override _read(size: number): void {
    const length = Math.min(Math.max(size, SEND_CHUNK), this.end - this.position + 1);
    if (length <= 0) {
      this.push(null);
      return;
    }
    const buffer = Buffer.allocUnsafe(length);
    this.handle.read(buffer, 0, length, this.position).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) {
          this.destroy(new Error("blob file ended before its recorded size"));
          return;
        }
        this.position += bytesRead;
        this.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
      },
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.closeFile().then(
      () => done(err),
      (closeErr: Error) => done(err ?? closeErr),
    );
  }

  /**
   * Writes the whole range to `sink` (which the caller then ends) with reused buffers, as
   * described above. Rejects if the sink errors or closes first, or the file cannot be read.
   */
  async sendTo(sink: Writable): Promise<void> {
    const total = this.end - this.position + 1;
    const size = Math.min(SEND_CHUNK, Math.max(total, 1));
    const buffers = Array.from({ length: SEND_BUFFERS }, () => Buffer.allocUnsafeSlow(size));
    const inFlight: (Promise<void> | undefined)[] = new Array(SEND_BUFFERS).fill(undefined);
    const gone = sinkGone(sink);
    try {
      for (let i = 0; this.position <= this.end; i = (i + 1) % SEND_BUFFERS) {
        await Promise.race([inFlight[i], gone.promise]);
        const buffer = buffers[i]!;
        const length = Math.min(size, this.end - this.position + 1);
        const { bytesRead } = await this.handle.read(buffer, 0, length, this.position);
        if (bytesRead === 0) throw new Error("blob file ended before its recorded size");
        gone.check();
        this.position += bytesRead;
        inFlight[i] = written(sink, buffer.subarray(0, bytesRead));
        if (sink.writableNeedDrain) await Promise.race([drained(sink), gone.promise]);
      }
      await Promise.race([Promise.all(inFlight), gone.promise]);
    } finally {
      gone.dispose();
      await this.closeFile();
      this.destroy();
    }
  }

  private async closeFile(): Promise<void> {
    if (this.fileClosed) return;
    this.fileClosed = true;
    await this.handle.close();
  }
}

/** Resolves when the sink's write callback reports the chunk handed on; rejects on error. */
function written(sink: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    sink.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

function drained(sink: Writable): Promise<void> {
  return new Promise((resolve) => sink.once("drain", resolve));
}

/** A promise that rejects once the sink closes or errors (the client went away). */
function sinkGone(sink: Writable) {
  let failure: Error | undefined;
  let fail: (err: Error) => void = () => {};
  const promise = new Promise<never>((_, reject) => {
    fail = reject;
  });
  promise.catch(() => {});
  const onClose = () => {
    failure ??= Object.assign(new Error("the client closed the connection"), {
      code: "ERR_STREAM_PREMATURE_CLOSE",
    });
    fail(failure);
  };
  const onError = (err: Error) => {
    failure ??= err;
    fail(err);
  };
  sink.on("close", onClose);
  sink.on("error", onError);
  if (sink.destroyed) onClose();
  return {
    promise,
    check() {
      if (failure) throw failure;
    },
    dispose() {
      sink.off("close", onClose);
      sink.off("error", onError);
    },
  };
}
