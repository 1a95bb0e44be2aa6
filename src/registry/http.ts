// Small helpers for answering on raw node:http responses: one writeHead per response,
// spec error bodies, bounded body reads for manifests, and refusing a body without reading
// it. No framework: this is the data path.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { errorBody, RegistryError } from "./errors.js";

export function reply(
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  body?: string | Buffer,
): void {
  if (body === undefined) {
    // RFC 9110: no Content-Length on 204.
    if (headers["Content-Length"] === undefined && status !== 204) headers["Content-Length"] = 0;
    res.writeHead(status, headers);
    res.end();
    return;
  }
  headers["Content-Length"] = Buffer.byteLength(body);
  res.writeHead(status, headers);
  res.end(body);
}

export function replyJson(
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  value: unknown,
  headOnly = false,
): void {
  replyJsonText(res, status, headers, JSON.stringify(value), headOnly);
}

/** Like replyJson, for a body that is JSON text already. */
export function replyJsonText(
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  body: string,
  headOnly = false,
): void {
  headers["Content-Type"] ??= "application/json";
  if (headOnly) {
    headers["Content-Length"] = Buffer.byteLength(body);
    res.writeHead(status, headers);
    res.end();
    return;
  }
  reply(res, status, headers, body);
}

/** Sends a spec error; HEAD responses get the status and headers only. */
export function replyError(req: IncomingMessage, res: ServerResponse, err: RegistryError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: OutgoingHttpHeaders = { "Content-Type": "application/json", ...err.headers };
  if (err.status === 401 && !headers["WWW-Authenticate"]) {
    headers["WWW-Authenticate"] = 'Basic realm="berth"';
  }
  // HTTP/1.1 only: on HTTP/2 the stream ends alone, the connection's other streams go on.
  if (hasUnreadBody(req) && req.httpVersionMajor < 2) {
    headers.Connection = "close";
    res.once("finish", () => lingerBeforeClose(req));
  }
  const body = errorBody(err);
  if (req.method === "HEAD") {
    headers["Content-Length"] = Buffer.byteLength(body);
    res.writeHead(err.status, headers);
    res.end();
    return;
  }
  reply(res, err.status, headers, body);
}

/** Whether the request declares a body (Content-Length > 0 or chunked encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  if (length !== undefined) return length !== "0";
  return req.headers["transfer-encoding"] !== undefined;
}

/** How long a connection refused mid-body keeps draining the client's bytes before it is cut. */
const LINGER_MS = 2_000;

/**
 * A "lingering close" (as Apache and nginx do it) for a response sent before the request
 * body was read. Node ends such a connection by destroying the socket as soon as the
 * response is flushed; with the client's unread bytes still in the kernel's buffer that
 * close sends a TCP RST, the client's next write fails with EPIPE, and a client that tears
 * down on the write error (Node's own does) never reads the 413 waiting in its buffer.
 * Instead the write side is ended (FIN after the response) and the rest of the body is read
 * and discarded until the client closes or LINGER_MS passes. Runs on the response's
 * "finish", after Node's own handler asked the socket to destroy itself once flushed.
 */
function lingerBeforeClose(req: IncomingMessage): void {
  const socket: Socket = req.socket;
  if (socket.destroyed) return;
  socket.removeListener("finish", socket.destroy);
  if (socket.writable) socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
  socket.once("end", () => socket.destroy());
  req.resume();
}

function hasUnreadBody(req: IncomingMessage): boolean {
  return hasBody(req) && !req.readableEnded && !req.destroyed;
}

/** The declared Content-Length, or undefined when absent; throws on a malformed value. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const value = req.headers["content-length"];
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    throw new RegistryError("BLOB_UPLOAD_INVALID", "Content-Length is not a number");
  }
  return Number(value);
}

/**
 * Reads a whole (small) body, refusing more than `limit` bytes with 413 SIZE_INVALID. On a
 * body over the limit (declared, or found while reading a chunked one) it stops reading but
 * leaves the request undestroyed, so replyError answers with `Connection: close` and the
 * server ends the connection after the 413 instead of keeping an unread body on a
 * keep-alive socket.
 */
export function readLimitedBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () =>
    new RegistryError("SIZE_INVALID", `body exceeds the limit of ${limit} bytes`, {
      status: 413,
      detail: { limit },
    });
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge());
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const stop = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        stop();
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onError = (err: Error) => {
      stop();
      reject(err);
    };
    const onClose = () => {
      stop();
      reject(new Error("the client closed the connection before the body ended"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/** The `Range: 0-N` value for an upload holding `size` bytes (`0-0` when empty, as clients expect). */
export function uploadRange(size: number): string {
  return `0-${size > 0 ? size - 1 : 0}`;
}
