// A plain HTTP forwarder on 127.0.0.1 that records every request it passes to a registry
// (method, path with query, status): lets a test count what a client sent to the reference
// registry (mount attempts, blob uploads) without parsing its logs. Headers, Host included,
// go through unchanged, so the registry's Location headers point back at the forwarder.
// Never: alter a request or response body, or listen anywhere but 127.0.0.1.
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly status: number;
}

export interface CountingProxy {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly host: string;
  readonly seen: SeenRequest[];
  stop(): Promise<void>;
}

export async function startCountingProxy(target: { host: string }): Promise<CountingProxy> {
  const [targetHost, targetPort] = target.host.split(":");
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const upstream = httpRequest(
      {
        host: targetHost,
        port: Number(targetPort),
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        seen.push({ method: req.method ?? "", url: req.url ?? "", status: answer.statusCode ?? 0 });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", status: 502 });
      res.writeHead(502).end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
