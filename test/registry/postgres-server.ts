// A throwaway PostgreSQL server for tests: initdb into a temp directory and `postgres` on
// 127.0.0.1 with a free port, trust authentication, fsync off. Runs as the `postgres` system
// user when the tests run as root (PostgreSQL refuses root). Stopped by PID. Fails loudly when
// PostgreSQL is not installed (Debian package `postgresql`, see scripts/install-test-deps.sh).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export interface PostgresServer {
  /** Connection URL of a fresh database created for the caller. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

function findBinary(name: string): string {
  const candidates = ["/usr/local/bin", "/usr/bin"];
  if (existsSync("/usr/lib/postgresql")) {
    for (const v of readdirSync("/usr/lib/postgresql").sort().reverse()) {
      candidates.push(`/usr/lib/postgresql/${v}/bin`);
    }
  }
  for (const dir of candidates) if (existsSync(join(dir, name))) return join(dir, name);
  throw new Error(`PostgreSQL's ${name} is not installed (apt-get install postgresql)`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  return { uid, gid };
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = await mkdtemp(join(tmpdir(), "berth-pg-"));
  const user = postgresUser();
  if (user) await chown(dir, user.uid, user.gid);
  const data = join(dir, "data");
  execFileSync(
    findBinary("initdb"),
    ["-D", data, "-A", "trust", "-U", "berth", "--no-sync", "-E", "UTF8"],
    {
      ...user,
      stdio: "ignore",
    },
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    findBinary("postgres"),
    [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
    ],
    { ...user, stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const adminUrl = `postgres://berth@127.0.0.1:${port}/postgres`;
  await waitUntilReady(adminUrl, child);
  return {
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`create database "${name}"`);
      } finally {
        await client.end();
      }
      return `postgres://berth@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (child.exitCode === null && child.pid) process.kill(child.pid, "SIGINT");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error("postgres exited during start-up");
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query("select 1");
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw new Error("postgres did not become ready in 30 s");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
