// A bandwidth limit shared by every blob stream of one execution (a token bucket refilled at
// the rule's rate, with one second of burst), and the ImageSource wrapper that passes blob
// streams through it, counts their bytes and destroys them when the execution is stopped.
// The limit paces reads from the source, so the destination sees the same rate.
// Never: buffer more than one chunk per stream while waiting for tokens.
import { type Readable, Transform, type TransformCallback } from "node:stream";
import type { Descriptor } from "../oci/index.js";
import type { ImageSource, ManifestBytes } from "../transport/types.js";

export class Bandwidth {
  private tokens: number;
  private last = performance.now();

  /** `bytesPerSecond` 0 means unlimited. */
  constructor(private readonly bytesPerSecond: number) {
    this.tokens = bytesPerSecond;
  }

  get limited(): boolean {
    return this.bytesPerSecond > 0;
  }

  /** Milliseconds to wait before `bytes` may pass (taking them from the bucket). */
  take(bytes: number): number {
    if (!this.limited) return 0;
    const now = performance.now();
    this.tokens = Math.min(
      this.bytesPerSecond,
      this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond,
    );
    this.last = now;
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.bytesPerSecond) * 1000;
  }
}

class Paced extends Transform {
  constructor(
    private readonly bandwidth: Bandwidth,
    private readonly count: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.count(chunk.length);
    const wait = this.bandwidth.take(chunk.length);
    if (wait <= 0) done(null, chunk);
    else setTimeout(() => done(null, chunk), wait);
  }
}

/** The source with its blob streams paced, counted and stoppable. */
export function throttledSource(
  source: ImageSource,
  bandwidth: Bandwidth,
  signal: AbortSignal,
  count: (bytes: number) => void,
): ImageSource {
  return {
    description: source.description,
    getManifest: (digest?: string): Promise<ManifestBytes> => source.getManifest(digest),
    async getBlob(descriptor: Descriptor): Promise<Readable> {
      signal.throwIfAborted();
      const raw = await source.getBlob(descriptor);
      const paced = new Paced(bandwidth, count);
      // The reader (a pipeline) sees errors through its own listeners; this one only keeps an
      // error raised while nobody reads yet (a stop) from crashing the process.
      paced.on("error", () => {});
      const abort = () => {
        const reason = new Error("replication stopped");
        raw.destroy(reason);
        paced.destroy(reason);
      };
      signal.addEventListener("abort", abort, { once: true });
      paced.once("close", () => signal.removeEventListener("abort", abort));
      raw.once("error", (err) => paced.destroy(err));
      return raw.pipe(paced);
    },
    close: () => source.close(),
  };
}
