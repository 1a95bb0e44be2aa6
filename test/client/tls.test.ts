// TLS options against a real registry serving HTTPS on 127.0.0.1 (distribution 2.8 with a
// certificate from a CA made here with openssl): a loopback registry that wants TLS is
// upgraded to from plain HTTP; an untrusted certificate fails with one sentence naming the
// fix; --ca-file, a certs.d directory (--cert-dir) and --insecure each make it work.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "../../src/client/registry-client.js";
import { berthOk } from "../cli/berth-cli.js";
import { type ManagedServer, startManagedServer } from "../support/managed-server.js";
import { freePort, runOk } from "../support/process-control.js";
import { DOCKER_REGISTRY_BIN, referenceRegistryConfig } from "../support/reference-registry.js";

let work: string;
let server: ManagedServer;
let host: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-tls-"));
  const at = (f: string) => join(work, f);
  await runOk("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    at("ca.key"),
    "-out",
    at("ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=berth-test-ca",
  ]);
  await runOk("openssl", [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    at("server.key"),
    "-out",
    at("server.csr"),
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await writeFile(at("ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await runOk("openssl", [
    "x509",
    "-req",
    "-in",
    at("server.csr"),
    "-CA",
    at("ca.crt"),
    "-CAkey",
    at("ca.key"),
    "-CAcreateserial",
    "-out",
    at("server.crt"),
    "-days",
    "2",
    "-extfile",
    at("ext"),
  ]);
  host = `127.0.0.1:${await freePort()}`;
  const config = `${referenceRegistryConfig(host, at("data"))}  tls:\n    certificate: ${at("server.crt")}\n    key: ${at("server.key")}\n`;
  await writeFile(at("config.yml"), config);
  server = await startManagedServer({
    name: "docker-registry (TLS)",
    command: DOCKER_REGISTRY_BIN,
    args: ["serve", at("config.yml")],
    healthUrl: `http://${host}/v2/`,
  });
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("TLS", () => {
  it("refuses an untrusted certificate with a sentence that names the fix", async () => {
    const client = new RegistryClient(host, { certDir: join(work, "no-certs") });
    await expect(client.catalog()).rejects.toThrow(
      /certificate.*--ca-file or --cert-dir, or use --insecure/,
    );
    await client.close();
  });

  it("trusts a CA file, a certs.d directory, or --insecure", async () => {
    const withCa = new RegistryClient(host, { caFiles: [join(work, "ca.crt")] });
    expect(await withCa.catalog()).toEqual([]);
    await withCa.close();

    const certsD = join(work, "certs.d");
    await mkdir(join(certsD, host), { recursive: true });
    await copyFile(join(work, "ca.crt"), join(certsD, host, "ca.crt"));
    const withDir = new RegistryClient(host, { certDir: certsD });
    expect(await withDir.catalog()).toEqual([]);
    await withDir.close();

    const insecure = new RegistryClient(host, { insecure: true, certDir: join(work, "no-certs") });
    expect(await insecure.catalog()).toEqual([]);
    await insecure.close();
  });

  it("berth catalog --ca-file works end to end", async () => {
    const out = await berthOk([
      "catalog",
      host,
      "--ca-file",
      join(work, "ca.crt"),
      "--format",
      "json",
    ]);
    expect(JSON.parse(out.stdout)).toEqual({ registry: host, repositories: [] });
  });
});
