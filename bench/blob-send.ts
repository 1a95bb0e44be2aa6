// How a blob GET's bytes reach the socket, A/B in one process on the same file: the old path
// (fs.createReadStream, 1 MiB chunks, fresh buffers, stream.pipeline into the response)
// against BlobFileStream.sendTo (reused buffers written straight to the response). curl in
// its own process downloads the file from each in alternation; reported per round: wall MB/s
// and this process's CPU seconds per GiB (process.cpuUsage; on a loaded machine the CPU cost
// moves much less than the wall time).
//   node --import tsx bench/blob-send.ts [FILE=bench/.work/blob-1g] [ROUNDS=3]  →  JSON lines
import { execFile } from "node:child_process";
import { open, stat } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { BlobFileStream } from "../src/storage/fs/blob-file-stream.js";
import { STREAM_HIGH_WATER_MARK } from "../src/storage/index.js";

const run = promisify(execFile);
const [file = "bench/.work/blob-1g", rounds = "3"] = process.argv.slice(2);
const size = (await stat(file)).size;

async function serve(mode: string, res: ServerResponse): Promise<void> {
  const handle = await open(file, "r");
  res.writeHead(200, { "Content-Length": size, "Content-Type": "application/octet-stream" });
  if (mode === "pipeline") {
    const stream = handle.createReadStream({ highWaterMark: STREAM_HIGH_WATER_MARK });
    await pipeline(stream, res);
    return;
  }
  await new BlobFileStream(handle, 0, size - 1, STREAM_HIGH_WATER_MARK).sendTo(res);
  res.end();
}

const server = createServer({ highWaterMark: 1024 * 1024 }, (req, res) => {
  serve(req.url?.slice(1) ?? "", res).catch(() => res.destroy());
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const port = (server.address() as AddressInfo).port;

for (let round = 1; round <= Number(rounds); round++) {
  for (const mode of ["pipeline", "sendTo"]) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await run("curl", ["-sS", "-o", "/dev/null", `http://127.0.0.1:${port}/${mode}`]);
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuPerGiB = ((used.user + used.system) / 1e6) * (2 ** 30 / size);
    process.stdout.write(
      `${JSON.stringify({ round, mode, MBps: size / 1e6 / seconds, cpuSecondsPerGiB: cpuPerGiB, rssMB: process.memoryUsage().rss / 1e6 })}\n`,
    );
  }
}
server.close();
