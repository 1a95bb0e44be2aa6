// HTTPS for `berth serve` (settings tls.cert / tls.key): one node:http2 secure server that
// speaks HTTP/2 and, through ALPN fallback, HTTP/1.1 (`allowHTTP1`), with TLS 1.2 as the
// lowest version offered. The same request handler serves both protocols: HTTP/2 requests
// arrive as node's compatibility objects, which behave as IncomingMessage/ServerResponse for
// everything Berth's routers use (connection-specific headers such as `Connection: close`
// are dropped on HTTP/2, where they have no meaning).
//
// reload() re-reads both PEM files and swaps the secure context (setSecureContext): new
// handshakes present the new certificate, open connections keep theirs, nothing is dropped.
// A bad file leaves the old certificate in place and the error is reported to the caller.
//
// Never: log key material, accept a certificate/key pair that does not match (the TLS
// library refuses it when the context is built), or fall back to plain HTTP.
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createSecureServer, type Http2SecureServer, type Http2Session } from "node:http2";
import type { Socket } from "node:net";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import { ConfigError } from "./config/config.js";

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
}

export const MIN_TLS_VERSION = "TLSv1.2";

export interface SecureHttpServer {
  readonly server: Http2SecureServer;
  /** Re-reads the PEM files and uses them for every new handshake. */
  reload(): Promise<void>;
  /** Ends every open connection at once (drain timeout reached). */
  closeAllConnections(): void;
  /** Asks HTTP/2 sessions to finish their streams and close (GOAWAY). */
  closeSessions(): void;
}

/** Reads and checks the certificate and key; ConfigError naming the setting when unusable. */
export async function loadTlsMaterial(files: TlsFiles): Promise<SecureContextOptions> {
  const read = async (path: string, key: "tls.cert" | "tls.key") => {
    try {
      return await readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
      throw new ConfigError(`invalid setting ${key}: cannot read ${path} (${code})`);
    }
  };
  const material = {
    cert: await read(files.cert, "tls.cert"),
    key: await read(files.key, "tls.key"),
  };
  try {
    createSecureContext({ ...material, minVersion: MIN_TLS_VERSION });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(
      `invalid setting tls.cert/tls.key: ${files.cert} and ${files.key} are not a usable PEM certificate and key (${reason})`,
    );
  }
  return material;
}

export async function createSecureHttpServer(
  files: TlsFiles,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<SecureHttpServer> {
  const material = await loadTlsMaterial(files);
  const server = createSecureServer(
    {
      ...material,
      allowHTTP1: true,
      minVersion: MIN_TLS_VERSION,
      // Large blob streams: a generous per-stream window keeps HTTP/2 uploads fast.
      settings: { initialWindowSize: 4 * 1024 * 1024 },
    },
    handler as unknown as Parameters<typeof createSecureServer>[1],
  );
  const sockets = new Set<Socket>();
  const sessions = new Set<Http2Session>();
  server.on("secureConnection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("session", (session: Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  return {
    server,
    async reload() {
      const next = await loadTlsMaterial(files);
      server.setSecureContext({ ...next, minVersion: MIN_TLS_VERSION });
    },
    closeAllConnections() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
    closeSessions() {
      for (const session of sessions) session.close();
    },
  };
}
