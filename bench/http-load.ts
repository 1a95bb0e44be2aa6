// The load generator of scenarios 4 and 8, run as its own process by load.ts: keep-alive
// connections with one request in flight on each, for a fixed time; reports requests/s, p99
// latency and errors. It speaks just enough HTTP/1.1 for a registry's answers: a response
// ends after its Content-Length bytes, or at its blank line for HEAD (RFC 9112 §6.3: a HEAD
// response has no body whatever its headers say).
//
// Why not wrk: against Berth and against a bare Node `http.createServer` alike, `wrk -c256`
// reports p99 ≈ 1.2–1.5 s and dozens of 2 s timeouts while the server itself sees every
// connection's next request within 73–112 ms of its last response (measured on the server);
// this generator at the same concurrency measures p99 ≈ 55 ms against that bare server, in
// line with what the server sees. wrk (and autocannon) also cannot do HEAD: their parsers
// wait for the body a HEAD response's Content-Length announces.
//
//   node --import tsx bench/http-load.ts METHOD URL CONNECTIONS SECONDS [HEADER…]  →  one JSON line
//   (each HEADER as "Name: value")
import { connect, type Socket } from "node:net";

interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p99Ms: number;
  non2xx: number;
  socketErrors: number;
}

type Method = "GET" | "HEAD";

const HEADER_END = Buffer.from("\r\n\r\n");
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)\r\n/i;

/** Bytes the response at the start of `pending` occupies, or undefined while incomplete. */
function responseLength(pending: Buffer, method: Method): number | undefined {
  const end = pending.indexOf(HEADER_END);
  if (end === -1) return undefined;
  const headLength = end + HEADER_END.length;
  if (method === "HEAD") return headLength;
  const head = pending.subarray(0, headLength).toString("latin1");
  const length = CONTENT_LENGTH.exec(head);
  if (!length) throw new Error(`response without Content-Length: ${head.split("\r\n")[0]}`);
  const total = headLength + Number(length[1]);
  return pending.length >= total ? total : undefined;
}

function runConnection(
  method: Method,
  url: URL,
  headers: string[],
  deadline: number,
  latencies: number[],
  counts: { non2xx: number; socketErrors: number },
): Promise<void> {
  const request = Buffer.from(
    `${method} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      `User-Agent: berth-bench\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`,
  );
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
    let pending: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    const send = () => {
      if (Date.now() >= deadline) {
        socket.end();
        return;
      }
      sentAt = performance.now();
      socket.write(request);
    };
    socket.on("connect", send);
    socket.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (
        let length = responseLength(pending, method);
        length !== undefined;
        length = responseLength(pending, method)
      ) {
        const status = Number(pending.subarray(9, 12).toString("latin1"));
        if (!(status >= 200 && status < 400)) counts.non2xx++;
        latencies.push(performance.now() - sentAt);
        pending = pending.subarray(length);
        send();
      }
    });
    socket.on("error", () => {
      counts.socketErrors++;
    });
    socket.on("close", () => resolve());
  });
}

async function main(): Promise<void> {
  const [method, target, connectionsArg, secondsArg, ...headers] = process.argv.slice(2);
  const connections = Number(connectionsArg);
  const seconds = Number(secondsArg);
  if ((method !== "GET" && method !== "HEAD") || !target || !(connections > 0) || !(seconds > 0)) {
    console.error("usage: http-load GET|HEAD URL CONNECTIONS SECONDS [HEADER…]");
    process.exit(2);
  }
  const url = new URL(target);
  const latencies: number[] = [];
  const counts = { non2xx: 0, socketErrors: 0 };
  const start = performance.now();
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, () =>
      runConnection(method, url, headers, deadline, latencies, counts),
    ),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const result: LoadResult = {
    requests: latencies.length,
    seconds: elapsed,
    requestsPerSecond: latencies.length / elapsed,
    p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0,
    ...counts,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
