// `berth serve` as a real process, with stdout and stderr read separately:
// - the log is one format per stream: JSON lines on stdout when it is not a terminal (or
//   log.format=json), pino-pretty lines with log.format=pretty; the startup line is a record
//   of that log, and stderr carries no log lines;
// - a request's access-log line reaches stdout within a couple of seconds (no 4 KiB hold-back)
//   without any shutdown, and after SIGTERM every line is there;
// - with BERTH_LOG_LEVEL=error the generated admin password is still printed on stderr once
//   and kept in DATA/admin-password (mode 0600), never in the log; the file goes away once
//   the password was changed.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveLogFormat } from "../../src/logging/logger.js";
import { BERTH_BIN } from "../support/berth-process.js";
import { freePort, stopChild, waitForHttp } from "../support/process-control.js";

interface Serve {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) await stopChild(child, 2_000);
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "berth-log-test-"));
  dirs.push(dir);
  return dir;
}

async function serve(dataDir: string, env: NodeJS.ProcessEnv): Promise<Serve> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [BERTH_BIN, "serve", "--listen", `127.0.0.1:${port}`, "--data", dataDir],
    {
      env: {
        ...process.env,
        BERTH_AUTH: "none",
        BERTH_LOG_LEVEL: "info",
        BERTH_LOG_FORMAT: "",
        BERTH_ADMIN_PASSWORD: "",
        NO_COLOR: "1",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(child);
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, { child, describe: () => out + err });
  return { child, url, stdout: () => out, stderr: () => err, exited };
}

async function eventually(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("the operator's log", () => {
  it("auto is pretty on a terminal and JSON otherwise", () => {
    expect(resolveLogFormat("auto", true)).toBe("pretty");
    expect(resolveLogFormat("auto", false)).toBe("json");
    expect(resolveLogFormat("json", true)).toBe("json");
    expect(resolveLogFormat("pretty", false)).toBe("pretty");
  });

  it("JSON (stdout is a pipe): every line a record, each request's line within seconds, all after SIGTERM", async () => {
    const s = await serve(join(await tempDir(), "data"), {});
    // The startup line is a log record, not plain text.
    await eventually("the startup record", () => s.stdout().includes("listening on"));
    const res = await fetch(`${s.url}/v2/?marker=first-request`);
    await res.body?.cancel();
    // No shutdown, no other traffic: the line must arrive on its own (the buffer is flushed
    // at least every second).
    await eventually("the access-log line", () => s.stdout().includes("marker=first-request"));
    for (let i = 0; i < 40; i++) {
      const r = await fetch(`${s.url}/healthz?n=${i}`);
      await r.body?.cancel();
    }
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    const records = jsonLines(s.stdout());
    const startup = records.find((r) => String(r.msg).startsWith("berth registry listening on"));
    expect(startup?.url).toBe(s.url);
    expect(startup?.level).toBe(30);
    const urls = records.filter((r) => r.msg === "request").map((r) => r.url);
    for (let i = 0; i < 40; i++) expect(urls).toContain(`/healthz?n=${i}`);
    expect(records.some((r) => r.msg === "SIGTERM received, draining requests")).toBe(true);
    expect(records.at(-1)?.msg).toBe("berth registry stopped");
    // Nothing about the server's own life is written to stderr as plain text.
    expect(s.stderr()).toBe("");
  });

  it("log.format=pretty: human lines (no JSON), startup line included, requests arrive promptly", async () => {
    const s = await serve(join(await tempDir(), "data"), { BERTH_LOG_FORMAT: "pretty" });
    await eventually("the startup line", () => s.stdout().includes("berth registry listening on"));
    const res = await fetch(`${s.url}/healthz?marker=pretty`);
    await res.body?.cancel();
    await eventually("the pretty access-log line", () => s.stdout().includes("marker=pretty"));
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    const lines = s
      .stdout()
      .split("\n")
      .filter((l) => /^\[/.test(l));
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(() => JSON.parse(line)).toThrow();
    expect(lines.find((l) => l.includes("listening on"))).toMatch(/INFO/);
    expect(s.stderr()).toBe("");
  });
});

describe("the generated admin password", () => {
  it("is printed on stderr and kept in DATA/admin-password (0600) at log level error; the file goes once changed", async () => {
    const dataDir = join(await tempDir(), "data");
    const env = { BERTH_AUTH: "token", BERTH_LOG_LEVEL: "error" };
    const first = await serve(dataDir, env);
    await eventually("the password on stderr", () =>
      /generated password: \S+/.test(first.stderr()),
    );
    const password = /generated password: (\S+)/.exec(first.stderr())?.[1] ?? "";
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(first.stderr()).toContain(join(dataDir, "admin-password"));
    const file = join(dataDir, "admin-password");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, "utf8")).trim()).toBe(password);
    const basic = `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;
    const v2 = await fetch(`${first.url}/v2/`, { headers: { authorization: basic } });
    expect(v2.status).toBe(200);
    // The log never carries it (at any level: check with info too, below).
    expect(first.stdout()).not.toContain(password);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    // Second start, log level info: not generated again, still kept (unchanged), still not logged.
    const second = await serve(dataDir, { ...env, BERTH_LOG_LEVEL: "info" });
    expect(second.stderr()).not.toContain("generated password");
    expect((await readFile(file, "utf8")).trim()).toBe(password);
    const change = await fetch(`${second.url}/api/v1/users/admin/password`, {
      method: "PUT",
      headers: { authorization: basic, "content-type": "application/json" },
      body: JSON.stringify({ password: "a-new-admin-password", currentPassword: password }),
    });
    expect(change.status).toBeLessThan(300);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(second.stdout()).not.toContain(password);

    // Third start: the kept password no longer opens the account, so the file is removed.
    const third = await serve(dataDir, env);
    // Bootstrap runs before the server answers /healthz, so the file is already gone.
    expect(existsSync(file)).toBe(false);
    third.child.kill("SIGTERM");
    expect(await third.exited).toBe(0);
  });
});
