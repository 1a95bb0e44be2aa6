// A fault injector for resilience tests: a tiny HTTP proxy on 127.0.0.1 in front of a real
// registry that forwards everything unchanged, counts requests, and on demand answers 429
// (with Retry-After: 0) to the first N requests, answers 503 to the next N, drops the
// connection (no answer at all) of the next N, cuts a blob download after some bytes, or
// holds a blob download mid-way until the test lets it go. It is not a registry and not a
// mock of one: every answer that is not an injected fault comes from the real upstream.
import { once } from "node:events";
import {
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  range?: string;
  status?: number;
}

export interface FaultProxyOptions {
  /** Answer 429 to this many requests (the first ones) before forwarding. */
  tooManyRequests?: number;
  /** Then answer 503 Service Unavailable to this many requests before forwarding. */
  serverErrors?: number;
  /** Then close the connection without any answer (a reset) for this many requests. */
  resetConnections?: number;
  /** Inject 429/503/resets only into requests whose path matches (default: every request). */
  faultPaths?: RegExp;
  /** Destroy the first GET of a blob whose path contains this digest after `bytes` bytes. */
  cutBlob?: { digest: string; bytes: number };
  /** Stop forwarding the first GET of this blob after `bytes` bytes and call `onHeld`. */
  holdBlob?: { digest: string; bytes: number; onHeld: () => void };
}

export class FaultProxy {
  readonly requests: RecordedRequest[] = [];
  injected429 = 0;
  injected503 = 0;
  injectedResets = 0;
  private cut = false;
  private heldOnce = false;
  private readonly held: ServerResponse[] = [];

  private constructor(
    private readonly server: Server,
    public upstream: string,
    private readonly options: FaultProxyOptions,
  ) {}

  static async start(upstream: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, upstream, options);
    server.on("request", (req, res) => proxy.handle(req, res));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return proxy;
  }

  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** GET requests for a blob (by digest), e.g. to prove a finished layer was not re-sent. */
  blobGets(digest: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === "GET" && r.path.includes(`/blobs/${digest}`));
  }

  /** Drops every held download (as a dying server would). */
  dropHeld(): void {
    for (const res of this.held.splice(0)) res.destroy();
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, "close").catch(() => {});
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      range: req.headers.range,
    };
    this.requests.push(record);
    if (this.options.faultPaths && !this.options.faultPaths.test(record.path)) {
      this.forward(req, res, record);
      return;
    }
    if (this.injected429 < (this.options.tooManyRequests ?? 0)) {
      this.injected429++;
      record.status = 429;
      req.resume();
      res.writeHead(429, { "retry-after": "0", "content-type": "application/json" });
      res.end(
        '{"errors":[{"code":"TOOMANYREQUESTS","message":"injected by the test fault proxy"}]}',
      );
      return;
    }
    if (this.injected503 < (this.options.serverErrors ?? 0)) {
      this.injected503++;
      record.status = 503;
      req.resume();
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("injected by the test fault proxy");
      return;
    }
    if (this.injectedResets < (this.options.resetConnections ?? 0)) {
      this.injectedResets++;
      req.socket.destroy();
      return;
    }
    this.forward(req, res, record);
  }

  private forward(req: IncomingMessage, res: ServerResponse, record: RecordedRequest): void {
    const upstream = request(
      {
        host: this.upstream.split(":")[0],
        port: Number(this.upstream.split(":")[1]),
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        record.status = up.statusCode;
        res.writeHead(up.statusCode ?? 502, up.headers);
        this.forwardBody(record, up, res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) {
        record.status = 502;
        res.writeHead(502, { "content-type": "text/plain" });
        res.end("upstream unavailable");
      } else {
        res.destroy();
      }
    });
    req.pipe(upstream);
  }

  private forwardBody(record: RecordedRequest, up: IncomingMessage, res: ServerResponse): void {
    const isBlobGet = record.method === "GET" && record.path.includes("/blobs/sha256:");
    const cut = this.options.cutBlob;
    const hold = this.options.holdBlob;
    const cutting =
      isBlobGet && cut && !this.cut && record.path.includes(cut.digest) && !record.range;
    const holding =
      isBlobGet && hold && !this.heldOnce && record.path.includes(hold.digest) && !record.range;
    if (!cutting && !holding) {
      up.pipe(res);
      return;
    }
    if (cutting) this.cut = true;
    if (holding) this.heldOnce = true;
    const limit = cutting ? (cut?.bytes ?? 0) : (hold?.bytes ?? 0);
    let sent = 0;
    up.on("data", (chunk: Buffer) => {
      if (sent >= limit) return;
      const part = chunk.subarray(0, limit - sent);
      sent += part.length;
      res.write(part);
      if (sent >= limit) {
        up.pause();
        if (cutting) {
          res.destroy();
          up.destroy();
        } else {
          this.held.push(res);
          hold?.onHeld();
          up.once("close", () => res.destroy());
          res.once("close", () => up.destroy());
        }
      }
    });
    up.on("end", () => res.end());
    up.on("error", () => res.destroy());
  }
}
