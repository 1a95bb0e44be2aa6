// Registry endpoints against real registries: the CNCF reference registry (docker-registry)
// with htpasswd Basic auth, and one serving TLS with a certificate of a CA made here with
// openssl. Through the real `berth admin endpoint` CLI against a real Berth: add with a
// connection test (right, wrong and missing credentials), TLS verified / own CA / insecure,
// list and show never answer a password, the password is not in any file of the data
// directory (sealed at rest), bad input is refused with nothing stored, rename and update
// keep the password, delete. The management API refuses non-administrators. In-process: the
// exported RegistryEndpoints.get() + registryClientFor() that replication and the proxy cache
// use, reading tags a skopeo push put on the authenticated registry.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryEndpoints, registryClientFor } from "../../src/endpoints/index.js";
import { openDatabase } from "../../src/meta/index.js";
import { SecretBox } from "../../src/webhooks/signing.js";
import { berth } from "../cli/berth-cli.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { skopeoCopy } from "../support/container-tools.js";
import { runOk } from "../support/process-control.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const ADMIN_PASSWORD = "endpoints-admin-pass-1";
const PEER_USER = "peer";
const PEER_PASSWORD = "peer-Secret-7f3a9c";

let work: string;
let server: BerthProcess;
let authed: ReferenceRegistry;
let secure: ReferenceRegistry;
let caFile: string;

const env = {
  BERTH_SERVER: "",
  BERTH_USERNAME: "admin",
  BERTH_PASSWORD: ADMIN_PASSWORD,
};
const admin = (args: string[], input?: string) =>
  berth(["admin", "--server", server.url, ...args], { env, input });
const adminJson = async <T>(args: string[]): Promise<T> => {
  const r = await admin(["--format", "json", ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};
/** `endpoint test NAME --format json`: exit 0 when reachable, 3 when not. */
const connectionTest = async (name: string): Promise<{ ok: boolean; message: string }> => {
  const r = await admin(["--format", "json", "endpoint", "test", name]);
  const result = JSON.parse(r.stdout) as { ok: boolean; message: string };
  expect(r.code, r.stderr).toBe(result.ok ? 0 : 3);
  return result;
};

async function api(path: string, init: RequestInit = {}, user = "admin", pass = ADMIN_PASSWORD) {
  return fetch(`${server.url}/api/v1${path}`, {
    ...init,
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`,
      "content-type": "application/json",
      ...init.headers,
    },
  });
}

async function makeCertificate(dir: string) {
  const ca = { key: join(dir, "ca.key"), cert: join(dir, "ca.crt") };
  await runOk("openssl", [
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2"],
    ...["-subj", "/CN=Berth endpoints test CA", "-keyout", ca.key, "-out", ca.cert],
  ]);
  const key = join(dir, "server.key");
  const csr = join(dir, "server.csr");
  const cert = join(dir, "server.crt");
  const ext = join(dir, "server.ext");
  await writeFile(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  await runOk("openssl", [
    ...["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=server"],
    ...["-keyout", key, "-out", csr],
  ]);
  await runOk("openssl", [
    ...["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial"],
    ...["-days", "2", "-sha256", "-extfile", ext, "-out", cert],
  ]);
  return { ca: ca.cert, cert, key };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-endpoints-"));
  const certs = await makeCertificate(work);
  caFile = certs.ca;
  [authed, secure, server] = await Promise.all([
    startReferenceRegistry({ htpasswd: { username: PEER_USER, password: PEER_PASSWORD } }),
    startReferenceRegistry({ tls: { certFile: certs.cert, keyFile: certs.key } }),
    startBerth({
      env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, BERTH_LOG_LEVEL: "warn" },
    }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([server?.stop(), authed?.stop(), secure?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

describe("berth admin endpoint", () => {
  it("adds an endpoint with htpasswd credentials and tests the connection", async () => {
    const r = await admin([
      ...["endpoint", "add", "peer", "--url", authed.url, "--creds"],
      ...[`${PEER_USER}:${PEER_PASSWORD}`, "--description", "reference registry", "--test"],
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("endpoint peer added");
    expect(r.stdout).toContain("endpoint peer is reachable");
    const test = await connectionTest("peer");
    expect(test.ok).toBe(true);
  });

  it("reports wrong and missing credentials with exit 3", async () => {
    const [wrong, anon] = await Promise.all([
      admin(
        ["endpoint", "add", "wrong", "--url", authed.url, "--username"].concat([
          PEER_USER,
          "--password-stdin",
          "--test",
        ]),
        "not-the-password\n",
      ),
      admin(["endpoint", "add", "anon", "--url", authed.url, "--test"]),
    ]);
    expect(wrong.code).toBe(3);
    expect(wrong.stdout).toContain(`refused the credentials of ${PEER_USER}`);
    expect(anon.code).toBe(3);
    expect(anon.stdout).toContain("requires credentials");
    // Fixing the password makes the test pass; the fix keeps the username.
    const fixed = await admin([
      "endpoint",
      "update",
      "wrong",
      "--creds",
      `${PEER_USER}:${PEER_PASSWORD}`,
    ]);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect((await admin(["endpoint", "test", "wrong"])).code).toBe(0);
  });

  it("verifies TLS: refused without the CA, accepted with --ca-file or --insecure", async () => {
    expect((await admin(["endpoint", "add", "tls", "--url", secure.url])).code).toBe(0);
    const untrusted = await connectionTest("tls");
    expect(untrusted.ok).toBe(false);
    expect(untrusted.message).toMatch(/certificate/i);
    const withCa = await admin(["endpoint", "update", "tls", "--ca-file", caFile]);
    expect(withCa.code, withCa.stderr).toBe(0);
    expect((await connectionTest("tls")).ok).toBe(true);
    const dropCa = await admin(["endpoint", "update", "tls", "--no-ca"]);
    expect(dropCa.code, dropCa.stderr).toBe(0);
    expect((await connectionTest("tls")).ok).toBe(false);
    expect((await admin(["endpoint", "update", "tls", "--insecure"])).code).toBe(0);
    expect((await connectionTest("tls")).ok).toBe(true);
    // An https URL is never downgraded to plain HTTP, even when insecure.
    const plain = await admin([
      "endpoint",
      "add",
      "downgrade",
      "--url",
      `https://${authed.host}`,
      "--insecure",
      "--test",
    ]);
    expect(plain.code).toBe(3);
  });

  it("never answers the password and keeps it sealed at rest", async () => {
    const list = await adminJson<Record<string, unknown>[]>(["endpoint", "ls"]);
    const peer = list.find((e) => e.name === "peer");
    expect(peer).toMatchObject({
      url: authed.url,
      username: PEER_USER,
      hasPassword: true,
      type: "distribution",
      description: "reference registry",
    });
    for (const e of list) expect(JSON.stringify(e)).not.toContain(PEER_PASSWORD);
    const shown = await admin(["endpoint", "show", "peer"]);
    expect(shown.stdout).toContain(authed.url);
    expect(shown.stdout).not.toContain(PEER_PASSWORD);
    const audit = await (await api("/audit?page_size=100")).text();
    expect(audit).toContain("registry.create");
    expect(audit).not.toContain(PEER_PASSWORD);
    for (const file of await filesUnder(server.dataDir)) {
      const bytes = await readFile(file);
      expect(bytes.includes(Buffer.from(PEER_PASSWORD)), file).toBe(false);
    }
  });

  it("refuses bad input with a clear message and stores nothing", async () => {
    const before = await adminJson<unknown[]>(["endpoint", "ls"]);
    const cases: [string[], RegExp][] = [
      [["x1", "--url", "ftp://example.com"], /https:\/\/ or http:\/\//],
      [["x2", "--url", "https://example.com/some/path"], /without a path/],
      [["x3", "--url", "https://user:pw@example.com"], /not in the URL/],
      [["x4", "--url", "not a url"], /is not a URL/],
      [["Bad_Name", "--url", "https://example.com"], /endpoint name/],
      [["x5", "--url", "https://example.com", "--type", "quay"], /unknown endpoint type/],
      [["x6", "--url", "https://example.com", "--creds", "nocolon"], /USER:PASSWORD/],
      [["x7", "--url", "https://example.com", "--ca-file", "/etc/hostname"], /PEM X.509/],
    ];
    // Independent refusals: run at once (each is a CLI process), checked one by one.
    const [dup, ...results] = await Promise.all([
      admin(["endpoint", "add", "peer", "--url", "https://example.com"]),
      ...cases.map(([args]) => admin(["endpoint", "add", ...args])),
    ]);
    cases.forEach(([args, message], i) => {
      const r = results[i]!;
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\bat \w+ \(/);
    });
    expect(dup.code).toBe(3);
    expect(dup.stderr).toContain("already exists");
    expect(await adminJson<unknown[]>(["endpoint", "ls"])).toEqual(before);
  });

  it("renames and updates without losing the password, then deletes", async () => {
    const r = await admin([
      "endpoint",
      "update",
      "peer",
      "--rename",
      "peer2",
      "--description",
      "renamed",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const shown = await adminJson<{ name: string; hasPassword: boolean; description: string }>([
      "endpoint",
      "show",
      "peer2",
    ]);
    expect(shown).toMatchObject({ name: "peer2", hasPassword: true, description: "renamed" });
    expect((await connectionTest("peer2")).ok).toBe(true);
    const noCreds = await admin(["endpoint", "update", "peer2", "--no-creds"]);
    expect(noCreds.code, noCreds.stderr).toBe(0);
    expect(
      await adminJson<{ hasPassword: boolean; username: null }>(["endpoint", "show", "peer2"]),
    ).toMatchObject({ hasPassword: false, username: null });
    expect((await admin(["endpoint", "rm", "peer2"])).code).toBe(0);
    const gone = await admin(["endpoint", "show", "peer2"]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain("not found");
    expect((await admin(["endpoint", "rm", "peer2"])).code).toBe(3);
  });

  it("is for system administrators only", async () => {
    const made = await api("/users", {
      method: "POST",
      body: JSON.stringify({ username: "dev", password: "dev-password-123" }),
    });
    expect(made.status).toBe(201);
    const list = await api("/registries", {}, "dev", "dev-password-123");
    expect(list.status).toBe(403);
    const create = await api(
      "/registries",
      { method: "POST", body: JSON.stringify({ name: "sneaky", url: "https://example.com" }) },
      "dev",
      "dev-password-123",
    );
    expect(create.status).toBe(403);
    expect((await fetch(`${server.url}/api/v1/registries`)).status).toBe(401);
    const bad = await api("/registries", {
      method: "POST",
      body: JSON.stringify({ name: "x" }),
    });
    expect(bad.status).toBe(400);
  });
});

describe("RegistryEndpoints.get + registryClientFor (the interface replication uses)", () => {
  it("connects with the unsealed credentials and reads what skopeo pushed", async () => {
    const image = await syntheticImageLayout(join(work, "image"), "v1", {
      label: "endpoints",
      layers: [{ seed: "endpoints-layer", size: 4096 }],
    });
    await skopeoCopy(image.reference, `docker://${authed.host}/team/app:v1`, [
      "--dest-tls-verify=false",
      "--dest-creds",
      `${PEER_USER}:${PEER_PASSWORD}`,
    ]);
    const dataDir = join(work, "inproc");
    const meta = await openDatabase({ driver: "sqlite", path: join(work, "inproc.db") });
    try {
      const endpoints = new RegistryEndpoints(meta.db, await SecretBox.open(dataDir, ""));
      const made = await endpoints.create(
        { name: "ref", url: authed.url, username: PEER_USER, password: PEER_PASSWORD },
        "test",
      );
      expect(made.hasPassword).toBe(true);
      expect(JSON.stringify(made)).not.toContain(PEER_PASSWORD);
      const endpoint = await endpoints.get(made.id);
      expect(endpoint?.password).toBe(PEER_PASSWORD);
      if (!endpoint) throw new Error("endpoint not found");
      const client = registryClientFor(endpoint);
      try {
        expect(await client.listTags("team/app")).toEqual(["v1"]);
        const head = await client.headManifest("team/app", "v1");
        expect(head?.digest).toBe(image.manifest.digest);
      } finally {
        await client.close();
      }
      endpoints.addUsage(async (id) => (id === made.id ? ['replication rule "r1"'] : []));
      await expect(endpoints.remove("ref")).rejects.toThrow(/in use by replication rule "r1"/);
    } finally {
      await meta.close();
    }
  });
});
