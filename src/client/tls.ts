// How to reach one registry: scheme (https, or plain http for loopback hosts as docker does,
// or when the user says so) and TLS trust (system CAs plus certs.d directories docker and
// podman use, a --ca-file, client certificates, or --insecure). Reads certificate files only.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { rootCertificates } from "node:tls";

export interface TlsOptions {
  /** Skip certificate verification and fall back to plain HTTP (docker's insecure-registries). */
  insecure?: boolean;
  /** Registries (host[:port]) to treat as insecure; `insecure` applies to all. */
  insecureRegistries?: string[];
  /** Speak plain HTTP to every registry. */
  plainHttp?: boolean;
  /** Extra CA bundle file(s) to trust. */
  caFiles?: string[];
  /** Extra CA certificates (PEM text) to trust, as caFiles but already read. */
  caCertificates?: string[];
  /** Speak exactly this scheme (a configured endpoint URL): no loopback or insecure fallback. */
  scheme?: "http" | "https";
  /** A certs.d-style root: `<dir>/<host[:port]>/*.crt` (CAs), `*.cert` + `*.key` (client). */
  certDir?: string;
}

export interface Endpoint {
  /** `https://host:port` or `http://host:port`. */
  readonly baseUrl: string;
  /** When https fails to connect and this is set, retry over http (insecure registries). */
  readonly fallbackUrl?: string;
  /** When plain http meets a TLS server (loopback registries), switch to this https URL. */
  readonly upgradeUrl?: string;
  readonly connect: {
    rejectUnauthorized: boolean;
    ca?: string[];
    cert?: string;
    key?: string;
  };
}

const DEFAULT_CERT_DIRS = ["/etc/containers/certs.d", "/etc/docker/certs.d"];

/** True for `localhost`, 127.0.0.0/8 and `[::1]` (with or without a port). */
export function isLoopbackRegistry(registry: string): boolean {
  const host = hostOf(registry);
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function hostOf(registry: string): string {
  if (registry.startsWith("[")) return registry.slice(1, registry.indexOf("]"));
  const colon = registry.lastIndexOf(":");
  return colon === -1 ? registry : registry.slice(0, colon);
}

/** The docker.io API host. */
export function apiHost(registry: string): string {
  return registry === "docker.io" ? "registry-1.docker.io" : registry;
}

export function endpointFor(registry: string, options: TlsOptions): Endpoint {
  const host = apiHost(registry);
  const insecure = options.insecure || options.insecureRegistries?.includes(registry);
  const connect: Endpoint["connect"] = { rejectUnauthorized: !insecure };
  const certs = certificatesFor(registry, options);
  if (certs.ca.length > 0) connect.ca = [...rootCertificates, ...certs.ca];
  if (certs.cert && certs.key) {
    connect.cert = certs.cert;
    connect.key = certs.key;
  }
  if (options.scheme) return { baseUrl: `${options.scheme}://${host}`, connect };
  if (options.plainHttp) return { baseUrl: `http://${host}`, connect };
  if (isLoopbackRegistry(registry)) {
    // As docker does for localhost: plain HTTP without a flag, TLS when the server wants it.
    return { baseUrl: `http://${host}`, upgradeUrl: `https://${host}`, connect };
  }
  return {
    baseUrl: `https://${host}`,
    fallbackUrl: insecure ? `http://${host}` : undefined,
    connect,
  };
}

function certificatesFor(registry: string, options: TlsOptions) {
  const ca = [
    ...(options.caFiles ?? []).map((f) => readFileSync(f, "utf8")),
    ...(options.caCertificates ?? []),
  ];
  let cert: string | undefined;
  let key: string | undefined;
  const roots = options.certDir ? [options.certDir] : DEFAULT_CERT_DIRS;
  for (const root of roots) {
    const dir = join(root, registry);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (name.endsWith(".crt")) ca.push(readFileSync(join(dir, name), "utf8"));
      if (name.endsWith(".cert")) cert = readFileSync(join(dir, name), "utf8");
      if (name.endsWith(".key")) key = readFileSync(join(dir, name), "utf8");
    }
  }
  return { ca, cert, key };
}
