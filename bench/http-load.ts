// A load generator for HEAD requests, run as its own process by wrk.ts. wrk (and autocannon)
// cannot measure HEAD against a registry: their HTTP parsers take the Content-Length of a
// HEAD response as a body still to come and wait for it forever, so every connection stalls
// after one response. This one speaks just enough HTTP/1.1: keep-alive connections, one
// request in flight on each, a response ends at its blank line (RFC 9112 §6.3: a HEAD
// response has no body whatever its headers say).
//
//   node --import tsx bench/head-load.ts URL CONNECTIONS SECONDS [HEADER…]  →  one JSON line
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

const HEADER_END = Buffer.from("\r\n\r\n");

function runConnection(
  url: URL,
  headers: string[],
  deadline: number,
  latencies: number[],
  counts: { non2xx: number; socketErrors: number },
): Promise<void> {
  const request = Buffer.from(
    `HEAD ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
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
      for (let end = pending.indexOf(HEADER_END); end !== -1; end = pending.indexOf(HEADER_END)) {
        const status = Number(pending.subarray(9, 12).toString("latin1"));
        if (!(status >= 200 && status < 400)) counts.non2xx++;
        latencies.push(performance.now() - sentAt);
        pending = pending.subarray(end + HEADER_END.length);
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
  const [target, connectionsArg, secondsArg, ...headers] = process.argv.slice(2);
  const connections = Number(connectionsArg);
  const seconds = Number(secondsArg);
  if (!target || !(connections > 0) || !(seconds > 0)) {
    console.error("usage: head-load URL CONNECTIONS SECONDS");
    process.exit(2);
  }
  const url = new URL(target);
  const latencies: number[] = [];
  const counts = { non2xx: 0, socketErrors: 0 };
  const start = performance.now();
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, () =>
      runConnection(url, headers, deadline, latencies, counts),
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
