// A blob download that survives dropped connections: the body is pumped into one verifying
// stream; when the connection fails mid-way the download re-requests `Range: bytes=N-` and
// carries on (skipping bytes itself if the registry ignores Range), a bounded number of
// times. The caller sees one continuous stream that errors if the digest does not match.
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { Descriptor } from "../oci/index.js";
import { RegistryError } from "./errors.js";
import { describeNetworkError, isRetryableNetworkError } from "./http.js";
import type { RegistryClient } from "./registry-client.js";
import { VerifyingStream } from "./verifying-stream.js";

const MAX_RESUMES = 8;

export async function downloadBlob(
  client: RegistryClient,
  repo: string,
  descriptor: Descriptor,
): Promise<Readable> {
  const first = await requestFrom(client, repo, descriptor, 0);
  const verify = new VerifyingStream({ digest: descriptor.digest, size: descriptor.size });
  void pump(client, repo, descriptor, first, verify);
  return verify;
}

async function requestFrom(
  client: RegistryClient,
  repo: string,
  descriptor: Descriptor,
  offset: number,
): Promise<{ res: Dispatcher.ResponseData; skip: number }> {
  const res = await client.http.send({
    method: "GET",
    path: `/v2/${repo}/blobs/${descriptor.digest}`,
    scopes: [`repository:${repo}:pull`],
    headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
  });
  if (res.statusCode === 200) return { res, skip: offset };
  if (res.statusCode === 206 && offset > 0) {
    const range = /bytes (\d+)-/.exec(String(res.headers["content-range"] ?? ""));
    const start = range ? Number(range[1]) : offset;
    if (start > offset) {
      await res.body.dump();
      throw new RegistryError(
        "protocol",
        `${client.registry} resumed blob ${descriptor.digest} at the wrong offset`,
      );
    }
    return { res, skip: offset - start };
  }
  return client.http.fail(res, `blob ${descriptor.digest} in ${repo}`);
}

async function pump(
  client: RegistryClient,
  repo: string,
  descriptor: Descriptor,
  first: { res: Dispatcher.ResponseData; skip: number },
  out: VerifyingStream,
): Promise<void> {
  let current = first;
  let resumes = 0;
  for (;;) {
    try {
      await copyBody(current.res.body, current.skip, out);
      out.end();
      return;
    } catch (err) {
      if (out.destroyed) return;
      const received = out.bytesReceived;
      const retryable = isRetryableNetworkError(err) || isPrematureClose(err);
      if (!retryable || resumes >= MAX_RESUMES || received >= descriptor.size) {
        out.destroy(
          err instanceof RegistryError
            ? err
            : new RegistryError(
                "unreachable",
                `download of ${descriptor.digest} from ${client.registry} failed: ${describeNetworkError(err)}`,
              ),
        );
        return;
      }
      resumes++;
      client.http.options.onRetry?.({
        registry: client.registry,
        attempt: resumes,
        reason: `resuming at byte ${received}`,
      });
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** resumes)));
      try {
        current = await requestFrom(client, repo, descriptor, received);
      } catch (next) {
        out.destroy(next as Error);
        return;
      }
    }
  }
}

async function copyBody(
  body: Dispatcher.ResponseData["body"],
  skip: number,
  out: VerifyingStream,
): Promise<void> {
  let toSkip = skip;
  try {
    for await (const raw of body) {
      if (out.destroyed) {
        body.destroy();
        return;
      }
      let chunk = raw as Buffer;
      if (toSkip > 0) {
        const n = Math.min(toSkip, chunk.length);
        toSkip -= n;
        chunk = chunk.subarray(n);
        if (chunk.length === 0) continue;
      }
      if (!out.write(chunk)) await drainOrClose(out);
    }
  } finally {
    if (!body.destroyed) body.destroy();
  }
}

function drainOrClose(out: VerifyingStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.on("drain", done);
    out.on("close", done);
  });
}

function isPrematureClose(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string };
  return (
    e?.code === "ERR_STREAM_PREMATURE_CLOSE" ||
    e?.name === "AbortError" ||
    /other side closed|terminated|premature|aborted/i.test(e?.message ?? "")
  );
}
