// ADD's remote sources: an http(s) URL is fetched (redirects followed) into a temp file while
// its sha256 is computed, as Docker does: never unpacked, mode 0600 unless --chmod says
// otherwise, its time from Last-Modified, `--checksum=sha256:…` verified. A URL that cannot
// be reached (DNS, refused, timeout, a non-2xx answer) is a RemoteSourceError naming the URL
// and why; nothing is left on disk then. git sources are refused with the alternative.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

export class RemoteSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RemoteSourceError";
  }
}

export function isUrlSource(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

export function isGitSource(source: string): boolean {
  return /^git:\/\//i.test(source) || /^git@/.test(source) || /\.git(#.*)?$/.test(source);
}

/** The file name a URL gives when ADD's destination is a directory. */
export function urlFileName(url: string): string {
  const path = new URL(url).pathname;
  const name = decodeURIComponent(path.slice(path.lastIndexOf("/") + 1));
  if (name === "" || name === "." || name === ".." || name.includes("/")) {
    throw new RemoteSourceError(
      `ADD ${url}: the URL names no file; give a destination file path instead of a directory`,
    );
  }
  return name;
}

export interface Fetched {
  readonly size: number;
  readonly digest: string;
  /** Seconds since the epoch from Last-Modified, when the server sent one. */
  readonly lastModified?: number;
}

class Sha256 extends Transform {
  readonly hash = createHash("sha256");
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }
}

/** Fetches `url` into `file`; checks `checksum` (`sha256:hex`) when given. */
export async function fetchToFile(
  url: string,
  file: string,
  options: { checksum?: string; timeoutMs?: number } = {},
): Promise<Fetched> {
  if (options.checksum !== undefined && !/^sha256:[0-9a-f]{64}$/.test(options.checksum)) {
    throw new RemoteSourceError(
      `ADD --checksum=${options.checksum}: use sha256: and 64 hex digits`,
    );
  }
  let response: Response;
  try {
    response = await fetch(url, {
      redirect: "follow",
      signal: AbortSignal.timeout(options.timeoutMs ?? 600_000),
    });
  } catch (err) {
    throw new RemoteSourceError(`ADD ${url}: cannot fetch it (${reasonOf(err)})`);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    throw new RemoteSourceError(
      `ADD ${url}: the server answered ${response.status} ${response.statusText}`.trim(),
    );
  }
  const hashing = new Sha256();
  try {
    await pipeline(
      Readable.fromWeb(response.body as unknown as WebReadableStream),
      hashing,
      createWriteStream(file, { mode: 0o600 }),
    );
  } catch (err) {
    await rm(file, { force: true });
    throw new RemoteSourceError(`ADD ${url}: download failed (${reasonOf(err)})`);
  }
  const digest = `sha256:${hashing.hash.digest("hex")}`;
  if (options.checksum !== undefined && options.checksum !== digest) {
    await rm(file, { force: true });
    throw new RemoteSourceError(
      `ADD ${url}: checksum mismatch: --checksum says ${options.checksum}, the content is ${digest}`,
    );
  }
  const modified = Date.parse(response.headers.get("last-modified") ?? "");
  return {
    size: hashing.size,
    digest,
    lastModified: Number.isNaN(modified) ? undefined : Math.floor(modified / 1000),
  };
}

function reasonOf(err: unknown): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  if (e.name === "TimeoutError") return "timed out";
  const cause = e.cause;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ""}`;
  return cause?.message ?? e.message;
}
