// Berth serving TLS itself (tls.cert / tls.key), against a CA made here with openssl:
// real skopeo and podman push and pull with verification on (--dest-cert-dir/--src-cert-dir,
// --cert-dir, --tls-verify=true) through the token flow, whose realm must be https; curl
// speaks HTTP/2 to both the /v2/ router and the management API (and HTTP/1.1); TLS 1.1 is
// refused; SIGHUP swaps the certificate for the next handshake without dropping an open
// connection.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes, sha256 } from "../registry/harness.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import {
  type ContainerStorage,
  inspectRaw,
  podman,
  privateContainerStorage,
  skopeo,
} from "../support/container-tools.js";
import { runOk } from "../support/process-control.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const ADMIN_PASSWORD = "tls-admin-password-1";

/** A CA, and server certificates for 127.0.0.1 it signed (`name` tells them apart). */
async function makeCa(dir: string) {
  const ca = { key: join(dir, "ca.key"), cert: join(dir, "ca.crt") };
  await runOk("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-sha256",
    "-days",
    "2",
    "-subj",
    "/CN=Berth test CA",
    "-keyout",
    ca.key,
    "-out",
    ca.cert,
  ]);
  const issue = async (name: string) => {
    const key = join(dir, `${name}.key`);
    const csr = join(dir, `${name}.csr`);
    const cert = join(dir, `${name}.crt`);
    const ext = join(dir, `${name}.ext`);
    await writeFile(
      ext,
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    );
    await runOk("openssl", [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${name}`,
      "-keyout",
      key,
      "-out",
      csr,
    ]);
    await runOk("openssl", [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-CAcreateserial",
      "-days",
      "2",
      "-sha256",
      "-extfile",
      ext,
      "-out",
      cert,
    ]);
    return { key, cert };
  };
  return { ca, issue };
}

/** The certificate the server presents on a fresh handshake (its subject CN), via TLS. */
function presentedCertificate(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.end();
      resolve(String(cn));
    });
    socket.once("error", reject);
  });
}

/** One HTTP/1.1 request on an already-open TLS socket; resolves with the status line. */
function requestOn(socket: TLSSocket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    const onData = (chunk: Buffer) => {
      data += chunk.toString("latin1");
      if (data.includes("\r\n\r\n")) {
        socket.off("data", onData);
        resolve(data.split("\r\n")[0]!);
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
  });
}

describe("TLS in the server", { timeout: 300_000 }, () => {
  let work: string;
  let berth: BerthProcess;
  let caPem: string;
  let pki: Awaited<ReturnType<typeof makeCa>>;
  let live: { cert: string; key: string };
  let certDir: string;
  const storages: ContainerStorage[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-tls-"));
    pki = await makeCa(work);
    caPem = await readFile(pki.ca.cert, "utf8");
    const first = await pki.issue("first");
    // The files Berth reads; SIGHUP re-reads them after they are replaced.
    live = { cert: join(work, "live.crt"), key: join(work, "live.key") };
    await copyFile(first.cert, live.cert);
    await copyFile(first.key, live.key);
    berth = await startBerth({
      tls: { ...live, ca: pki.ca.cert },
      env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD },
    });
    // certs.d layout the containers/image library reads: <dir>/ca.crt
    certDir = join(work, "certs.d", berth.host);
    await mkdir(certDir, { recursive: true });
    await copyFile(pki.ca.cert, join(certDir, "ca.crt"));
  });

  afterAll(async () => {
    await berth?.stop();
    for (const s of storages) await s.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("serves HTTP/2 and HTTP/1.1 to the registry router and the API, with an https realm", async () => {
    for (const [flag, version] of [
      ["--http2", "2"],
      ["--http1.1", "1.1"],
    ] as const) {
      const v2 = await runOk("curl", [
        "-sS",
        flag,
        "--cacert",
        pki.ca.cert,
        "-D",
        "-",
        "-o",
        "/dev/null",
        "-w",
        "%{http_version}",
        `${berth.url}/v2/`,
      ]);
      expect(v2.stdout).toMatch(/ 401/);
      expect(v2.stdout.toLowerCase()).toContain(
        `www-authenticate: bearer realm="https://${berth.host}/service/token"`,
      );
      expect(v2.stdout.trim().endsWith(version)).toBe(true);
      const projects = await runOk("curl", [
        "-sS",
        flag,
        "--cacert",
        pki.ca.cert,
        "-u",
        `admin:${ADMIN_PASSWORD}`,
        "-w",
        "\n%{http_code} %{http_version}",
        `${berth.url}/api/v1/projects`,
      ]);
      const [body, status] = projects.stdout.split("\n");
      expect(status).toBe(`200 ${version}`);
      expect(
        (JSON.parse(body!) as { items: { name: string }[] }).items.map((p) => p.name),
      ).toContain("library");
    }
  });

  it("streams a blob up and down the /v2/ data path over HTTP/2", async () => {
    const blob = randomBytes(3 * 1024 * 1024, 5);
    const file = join(work, "blob.bin");
    await writeFile(file, blob);
    const digest = sha256(blob);
    const base = ["-sS", "--http2", "--cacert", pki.ca.cert, "-u", `admin:${ADMIN_PASSWORD}`];
    const pushed = await runOk("curl", [
      ...base,
      "-X",
      "POST",
      "-H",
      "Content-Type: application/octet-stream",
      "--data-binary",
      `@${file}`,
      "-o",
      "/dev/null",
      "-w",
      "%{http_code} %{http_version}",
      `${berth.url}/v2/library/h2/blobs/uploads/?digest=${digest}`,
    ]);
    expect(pushed.stdout).toBe("201 2");
    const pulledFile = join(work, "blob.back");
    const pulled = await runOk("curl", [
      ...base,
      "-o",
      pulledFile,
      "-w",
      "%{http_code} %{http_version}",
      `${berth.url}/v2/library/h2/blobs/${digest}`,
    ]);
    expect(pulled.stdout).toBe("200 2");
    expect(sha256(await readFile(pulledFile))).toBe(digest);
  });

  it("answers an oversized manifest over HTTP/2 with 413 (no HTTP/1.1-only headers)", async () => {
    const file = join(work, "huge-manifest.json");
    await writeFile(file, Buffer.alloc(5 * 1024 * 1024, 0x20));
    const refused = await runOk("curl", [
      "-sS",
      "--http2",
      "--cacert",
      pki.ca.cert,
      "-u",
      `admin:${ADMIN_PASSWORD}`,
      "-X",
      "PUT",
      "-H",
      "Content-Type: application/vnd.oci.image.manifest.v1+json",
      "--data-binary",
      `@${file}`,
      "-w",
      "\n%{http_code} %{http_version}",
      `${berth.url}/v2/library/h2/manifests/huge`,
    ]);
    const lines = refused.stdout.split("\n");
    expect(lines.at(-1)).toBe("413 2");
    expect(refused.stdout).toContain("SIZE_INVALID");
    expect(berth.output()).not.toContain("UnsupportedWarning");
  });

  it("refuses TLS 1.1 and below", async () => {
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({
        host: "127.0.0.1",
        port: berth.port,
        ca: caPem,
        minVersion: "TLSv1",
        maxVersion: "TLSv1.1",
      });
      socket.once("secureConnect", () => {
        socket.end();
        resolve("connected");
      });
      socket.once("error", (err) => resolve(`refused: ${err.message}`));
    });
    expect(outcome).toMatch(/^refused/);
  });

  it("skopeo pushes and pulls with --dest-cert-dir/--src-cert-dir and verification on", async () => {
    const image = await syntheticImageLayout(join(work, "layout"), "1.0", {
      layers: [{ seed: "tls-a", size: 120_000 }],
    });
    const target = `docker://${berth.host}/library/tls-app:1.0`;
    await skopeo([
      "copy",
      "--quiet",
      "--dest-tls-verify=true",
      "--dest-cert-dir",
      certDir,
      "--dest-creds",
      `admin:${ADMIN_PASSWORD}`,
      image.reference,
      target,
    ]);
    const pulled = join(work, "pulled");
    await skopeo([
      "copy",
      "--quiet",
      "--src-tls-verify=true",
      "--src-cert-dir",
      certDir,
      "--src-creds",
      `admin:${ADMIN_PASSWORD}`,
      target,
      `oci:${pulled}:1.0`,
    ]);
    const back = await inspectRaw(`oci:${pulled}:1.0`);
    expect(back.digest).toBe(image.manifest.digest);
    // Without the CA, verification fails: TLS really is verified.
    await expect(
      skopeo([
        "inspect",
        "--raw",
        "--tls-verify=true",
        "--creds",
        `admin:${ADMIN_PASSWORD}`,
        target,
      ]),
    ).rejects.toThrow(/certificate|x509/i);
  });

  it("podman pulls and pushes with --cert-dir and --tls-verify=true", async () => {
    const storage = await privateContainerStorage();
    storages.push(storage);
    const creds = ["--creds", `admin:${ADMIN_PASSWORD}`];
    const tls = ["--tls-verify=true", "--cert-dir", certDir];
    await podman(storage, [
      "pull",
      "--quiet",
      ...tls,
      ...creds,
      `${berth.host}/library/tls-app:1.0`,
    ]);
    await podman(storage, [
      "push",
      "--quiet",
      ...tls,
      ...creds,
      `${berth.host}/library/tls-app:1.0`,
      `${berth.host}/library/tls-copy:2.0`,
    ]);
    const listed = await skopeo([
      "list-tags",
      "--tls-verify=true",
      "--cert-dir",
      certDir,
      "--creds",
      `admin:${ADMIN_PASSWORD}`,
      `docker://${berth.host}/library/tls-copy`,
    ]);
    expect((JSON.parse(listed.stdout) as { Tags: string[] }).Tags).toEqual(["2.0"]);
  });

  it("SIGHUP reloads the certificate for the next handshake and keeps open connections", async () => {
    expect(await presentedCertificate(berth.port, caPem)).toBe("first");
    const open = connect({
      host: "127.0.0.1",
      port: berth.port,
      ca: caPem,
      ALPNProtocols: ["http/1.1"],
    });
    await new Promise<void>((resolve, reject) => {
      open.once("secureConnect", () => resolve());
      open.once("error", reject);
    });
    expect(await requestOn(open, "/healthz")).toBe("HTTP/1.1 200 OK");

    const second = await pki.issue("second");
    await copyFile(second.cert, live.cert);
    await copyFile(second.key, live.key);
    process.kill(berth.pid, "SIGHUP");
    const deadline = Date.now() + 60_000;
    let presented = "first";
    while (presented !== "second" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      presented = await presentedCertificate(berth.port, caPem);
    }
    expect(presented).toBe("second");
    expect(berth.exitStatus()).toBeUndefined();
    // The connection opened before the reload still answers.
    expect(await requestOn(open, "/healthz")).toBe("HTTP/1.1 200 OK");
    open.end();
    expect(berth.output()).toContain("TLS certificate reloaded");
  });
});
