// Blob transfers for scenarios 1–3, driven by curl in its own process. The load generator
// must cost as little CPU as possible on a 2-core machine, or it — not the server — sets the
// pace: curl streams a file with a few syscalls per MiB, where a Node client in the runner's
// process would take a core of its own. Each function checks the HTTP status and throws
// otherwise; none ever holds a blob in memory.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { BenchHttpError } from "./registry-http.js";

const run = promisify(execFile);

interface CurlResult {
  status: number;
  location: string;
  bytes: number;
}

/** One curl request (with `auth` as its Authorization header); status, Location, bytes. */
async function curl(args: string[], auth?: string): Promise<CurlResult> {
  const { stdout } = await run(
    "curl",
    [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code} %{size_download} %header{location}",
      "--noproxy",
      "*",
      ...(auth ? ["-H", `Authorization: ${auth}`] : []),
      ...args,
    ],
    { maxBuffer: 1 << 20 },
  );
  const [status, bytes, location] = stdout.trim().split(" ");
  return { status: Number(status), bytes: Number(bytes), location: location ?? "" };
}

async function startUpload(base: string, repo: string, auth?: string): Promise<string> {
  const res = await curl(["-X", "POST", `${base}/v2/${repo}/blobs/uploads/`], auth);
  if (res.status !== 202) throw new BenchHttpError(`POST upload: HTTP ${res.status}`);
  return absolute(base, res.location);
}

/** POST, then PUT with the whole file as the body. */
export async function pushMonolithic(
  base: string,
  repo: string,
  file: string,
  digest: string,
  auth?: string,
): Promise<void> {
  const location = await startUpload(base, repo, auth);
  const res = await curl(
    [
      "-X",
      "PUT",
      "-H",
      "Content-Type: application/octet-stream",
      "-T",
      file,
      withDigest(location, digest),
    ],
    auth,
  );
  if (res.status !== 201) throw new BenchHttpError(`PUT blob: HTTP ${res.status}`);
}

/** POST, then one PATCH with Content-Range per chunk file (in order), then PUT ?digest=. */
export async function pushChunked(
  base: string,
  repo: string,
  chunks: { file: string; size: number }[],
  digest: string,
  auth?: string,
): Promise<void> {
  let location = await startUpload(base, repo, auth);
  let offset = 0;
  for (const chunk of chunks) {
    const res = await curl(
      [
        "-X",
        "PATCH",
        "-H",
        "Content-Type: application/octet-stream",
        "-H",
        `Content-Range: ${offset}-${offset + chunk.size - 1}`,
        "-T",
        chunk.file,
        location,
      ],
      auth,
    );
    if (res.status !== 202) throw new BenchHttpError(`PATCH chunk: HTTP ${res.status}`);
    location = absolute(base, res.location);
    offset += chunk.size;
  }
  const res = await curl(
    ["-X", "PUT", "-H", "Content-Length: 0", withDigest(location, digest)],
    auth,
  );
  if (res.status !== 201) throw new BenchHttpError(`PUT close: HTTP ${res.status}`);
}

/** GETs a blob (optionally a byte range), discarding the bytes; returns how many arrived. */
export async function pullBlob(
  base: string,
  repo: string,
  digest: string,
  range?: { start: number; end: number },
  auth?: string,
): Promise<number> {
  const args = range ? ["-H", `Range: bytes=${range.start}-${range.end}`] : [];
  const res = await curl([...args, `${base}/v2/${repo}/blobs/${digest}`], auth);
  const expected = range ? 206 : 200;
  if (res.status !== expected) {
    throw new BenchHttpError(`GET blob: HTTP ${res.status}, expected ${expected}`);
  }
  return res.bytes;
}

function absolute(base: string, location: string): string {
  return location.startsWith("http") ? location : `${base}${location}`;
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes("?") ? "&" : "?"}digest=${encodeURIComponent(digest)}`;
}
