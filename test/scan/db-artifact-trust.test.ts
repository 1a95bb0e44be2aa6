// The database artifact's signature and its registry's TLS, end to end with real processes:
// a Berth server serving HTTPS with a certificate of a CA made here with openssl; `berth db
// push --key` signs the artifact with a cosign key (`berth key generate`); `berth db pull
// --key`, `berth scan --db-key` and a second server with `scan.dbRepositoryKey` accept it, and
// refuse an unsigned artifact or one signed by another key, leaving the local database as it
// was. `--ca-file` / `scan.dbRepositoryCaFile` make the CA trusted; without it the fetch fails
// on verification, `--insecure` skips verification.
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth, berthOk } from "../cli/berth-cli.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { runOk } from "../support/process-control.js";
import { importFixtureDb, RECORDS_DIR } from "../support/scanning.js";

const PASSWORD = "db-trust-admin-1";
const CREDS = `admin:${PASSWORD}`;
const KEY_ENV = { COSIGN_PASSWORD: "db-key-pass" };

let work: string;
let server: BerthProcess;
let mirror: BerthProcess | undefined;
let caCert: string;
let signed: string;
let unsigned: string;

async function makeCertificate(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const ca = { key: join(dir, "ca.key"), cert: join(dir, "ca.crt") };
  await runOk("openssl", [
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2"],
    ...["-subj", "/CN=Berth db test CA", "-keyout", ca.key, "-out", ca.cert],
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

const tls = () => ["--ca-file", caCert, "--creds", CREDS];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-db-trust-"));
  const certs = await makeCertificate(work);
  caCert = certs.ca;
  server = await startBerth({
    tls: { cert: certs.cert, key: certs.key, ca: certs.ca },
    env: {
      BERTH_AUTH: "token",
      BERTH_ADMIN_PASSWORD: PASSWORD,
      BERTH_AUTO_CREATE_PROJECTS: "true",
      BERTH_LOG_LEVEL: "warn",
    },
  });
  await importFixtureDb(join(work, "origin"));
  for (const name of ["cosign", "other"])
    await berthOk(["key", "generate", "--output-key-prefix", join(work, name)], { env: KEY_ENV });
  signed = `${server.host}/sec/osv-db:signed`;
  unsigned = `${server.host}/sec/osv-db:unsigned`;
}, 180_000);

afterAll(async () => {
  await mirror?.stop();
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("signing the database artifact", () => {
  it("berth db push --key signs it (cosign tag scheme); without --key it is unsigned", async () => {
    const origin = join(work, "origin");
    const r = await berthOk(
      ["db", "push", ...tls(), "--db-dir", origin, "--key", join(work, "cosign.key"), signed],
      { env: KEY_ENV },
    );
    expect(r.stdout).toMatch(
      /pushed the vulnerability database .*; signed \(sha256-[0-9a-f]{64}\.sig\)/,
    );
    const plain = await berthOk(["db", "push", ...tls(), "--db-dir", origin, unsigned]);
    expect(plain.stdout).not.toContain("; signed");
  }, 120_000);

  it("berth db pull --key accepts the signed database and refuses unsigned or foreign-signed ones", async () => {
    const dir = join(work, "pulled");
    const ok = await berth([
      ...["db", "pull", ...tls(), "--db-dir", dir, "--key", join(work, "cosign.pub"), signed],
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("vulnerability database updated");

    const fresh = join(work, "refused");
    const noSig = await berth([
      ...["db", "pull", ...tls(), "--db-dir", fresh, "--key", join(work, "cosign.pub"), unsigned],
    ]);
    expect(noSig.code).toBe(3);
    expect(noSig.stderr).toMatch(
      /is not signed, and a signature by the configured key is required/,
    );
    expect(noSig.stderr).toContain("the local database is unchanged");
    expect(existsSync(join(fresh, "osv.sqlite"))).toBe(false);

    const foreign = await berth([
      ...["db", "pull", ...tls(), "--db-dir", fresh, "--key", join(work, "other.pub"), signed],
    ]);
    expect(foreign.code).toBe(3);
    expect(foreign.stderr).toMatch(/has no signature by the configured key/);
    expect(existsSync(join(fresh, "osv.sqlite"))).toBe(false);

    // Without a key nothing is required (as before), and --key on a current copy still checks.
    const again = await berth([
      ...["db", "pull", ...tls(), "--db-dir", dir, "--key", join(work, "other.pub"), signed],
    ]);
    expect(again.code).toBe(3);
  }, 120_000);

  it("berth scan --db-repository --db-key refuses an unsigned database", async () => {
    const dir = join(work, "scan-db");
    const r = await berth([
      ...["scan", ...tls(), "--db-dir", dir, "--db-repository", unsigned],
      ...["--db-key", join(work, "cosign.pub"), "fs:" + RECORDS_DIR],
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("is not signed");
    expect(existsSync(join(dir, "osv.sqlite"))).toBe(false);
  }, 120_000);
});

describe("TLS options for the database's registry", () => {
  it("without the CA the fetch fails on verification; --insecure skips it", async () => {
    const dir = join(work, "tls");
    const untrusted = await berth(["db", "pull", "--creds", CREDS, "--db-dir", dir, signed]);
    expect(untrusted.code).toBe(3);
    expect(untrusted.stderr).toMatch(/certificate|self.signed|verify/i);
    const insecure = await berth([
      ...["db", "pull", "--insecure", "--creds", CREDS, "--db-dir", dir, signed],
    ]);
    expect(insecure.code, insecure.stderr).toBe(0);
  }, 120_000);
});

describe("the server's scan.dbRepositoryKey and scan.dbRepositoryCaFile", () => {
  async function mirrorOf(reference: string, keyFile: string): Promise<BerthProcess> {
    const authFile = join(work, "mirror-auth.json");
    await writeFile(
      authFile,
      JSON.stringify({ auths: { [server.host]: { auth: Buffer.from(CREDS).toString("base64") } } }),
      { mode: 0o600 },
    );
    return startBerth({
      env: {
        BERTH_AUTH: "none",
        BERTH_LOG_LEVEL: "info",
        BERTH_DB_DIR: join(work, `mirror-${reference.split(":").pop()}`),
        BERTH_SCAN_DB_REPOSITORY: reference,
        BERTH_SCAN_DB_REPOSITORY_AUTH_FILE: authFile,
        BERTH_SCAN_DB_REPOSITORY_KEY: keyFile,
        BERTH_SCAN_DB_REPOSITORY_CA_FILE: caCert,
      },
    });
  }

  async function logged(process: BerthProcess, pattern: RegExp): Promise<void> {
    for (let i = 0; i < 600 && !pattern.test(process.output()); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(process.output()).toMatch(pattern);
  }

  it("installs the signed database over TLS with the configured CA", async () => {
    mirror = await mirrorOf(signed, join(work, "cosign.pub"));
    await logged(mirror, /vulnerability database updated from .*sec\/osv-db:signed/);
    expect(existsSync(join(work, "mirror-signed", "osv.sqlite"))).toBe(true);
    await mirror.stop();
    mirror = undefined;
  }, 120_000);

  it("refuses an unsigned database and keeps none", async () => {
    mirror = await mirrorOf(unsigned, join(work, "cosign.pub"));
    await logged(mirror, /vulnerability database update failed/);
    expect(mirror.output()).toContain("is not signed");
    const dir = join(work, "mirror-unsigned");
    expect(existsSync(dir) ? readdirSync(dir) : []).not.toContain("osv.sqlite");
    await mirror.stop();
    mirror = undefined;
  }, 120_000);
});
