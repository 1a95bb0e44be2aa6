// `berth admin` as an operator runs it: against a running server (--server, credentials
// from BERTH_USERNAME/BERTH_PASSWORD) and directly on a data directory (--data). Passwords
// go in on stdin; a robot secret is printed once and works for a token.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, type ApiHarness, api, basic, startApi } from "../api/harness.js";
import { BERTH_BIN, startBerth } from "../support/berth-process.js";
import { run } from "../support/process-control.js";

const env = { ...process.env };

function berth(args: string[], options: { input?: string; extraEnv?: NodeJS.ProcessEnv } = {}) {
  return run(process.execPath, [BERTH_BIN, "admin", ...args], {
    env: { ...env, ...options.extraEnv },
    input: options.input,
    timeoutMs: 60_000,
  });
}

describe("berth admin --server", () => {
  let h: ApiHarness;
  const creds = { BERTH_USERNAME: ADMIN.username, BERTH_PASSWORD: ADMIN.password };
  const remote = (args: string[], input?: string) =>
    berth(["--server", h.url, ...args], { input, extraEnv: creds });

  beforeAll(async () => {
    h = await startApi();
  });
  afterAll(async () => h?.close());

  it("creates users, projects, members and robots over the API", async () => {
    const user = await remote(["user", "create", "erin", "--password-stdin"], "erin-pass-1\n");
    expect(user.stderr).toContain("created user erin");
    expect(user.code).toBe(0);
    const project = await remote(["project", "create", "apps", "--private", "--quota", "10GiB"]);
    expect(project.code).toBe(0);
    const member = await remote(["member", "add", "apps", "erin", "limited-guest"]);
    expect(member.code, member.stderr).toBe(0);
    const members = await remote(["--format", "json", "member", "list", "apps"]);
    expect(JSON.parse(members.stdout)).toEqual([
      expect.objectContaining({ username: "erin", role: "limitedGuest" }),
    ]);
    const projects = await remote(["project", "list"]);
    expect(projects.stdout).toMatch(/apps\s+private\s+10\.0 GiB/);

    const robot = await remote([
      "robot",
      "create",
      "ci",
      "--project",
      "apps",
      "--permission",
      "pull,push",
      "--expires",
      "30d",
    ]);
    expect(robot.code, robot.stderr).toBe(0);
    const secret = robot.stdout.trim();
    expect(secret.length).toBeGreaterThan(30);
    const token = await api(
      h.url,
      "GET",
      "/service/token?scope=repository:apps/x:pull,push,delete",
      {
        headers: basic({ username: "robot$apps+ci", password: secret }),
      },
    );
    expect(token.status).toBe(200);
    const list = await remote(["robot", "list", "--project", "apps"]);
    expect(list.stdout).toContain("robot$apps+ci");
    expect(list.stdout).not.toContain(secret);

    const disabled = await remote(["robot", "disable", "robot$apps+ci"]);
    expect(disabled.code).toBe(0);
    const refused = await api(h.url, "GET", "/service/token", {
      headers: basic({ username: "robot$apps+ci", password: secret }),
    });
    expect(refused.status).toBe(401);
    expect((await remote(["robot", "delete", "robot$apps+ci"])).code).toBe(0);

    expect(
      (await remote(["user", "passwd", "erin", "--password-stdin"], "erin-pass-2\n")).code,
    ).toBe(0);
    const login = await api(h.url, "GET", "/api/v1/users/current", {
      headers: basic({ username: "erin", password: "erin-pass-2" }),
    });
    expect(login.body).toMatchObject({ name: "erin" });
    expect((await remote(["member", "remove", "apps", "erin"])).code).toBe(0);
    expect((await remote(["user", "delete", "erin"])).code).toBe(0);
    expect((await remote(["project", "delete", "apps"])).code).toBe(0);
  }, 400_000);

  it("rotates a robot's secret and pages through the audit log with filters", async () => {
    expect((await remote(["project", "create", "audited"])).code).toBe(0);
    const created = await remote([
      "--format",
      "json",
      "robot",
      "create",
      "bot",
      "--project",
      "audited",
      "--permission",
      "pull",
    ]);
    expect(created.code, created.stderr).toBe(0);
    const first = (JSON.parse(created.stdout) as { secret: string }).secret;
    const refreshed = await remote(["robot", "refresh", "robot$audited+bot"]);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.stderr).toContain("will not be shown again");
    const second = refreshed.stdout.trim();
    expect(second).not.toBe(first);
    const token = (password: string) =>
      api(h.url, "GET", "/service/token?scope=repository:audited/x:pull", {
        headers: basic({ username: "robot$audited+bot", password }),
      });
    expect((await token(first)).status).toBe(401);
    expect((await token(second)).status).toBe(200);
    const refreshedJson = await remote([
      "--format",
      "json",
      "robot",
      "refresh",
      "robot$audited+bot",
    ]);
    expect(JSON.parse(refreshedJson.stdout)).toMatchObject({
      robot: { name: "robot$audited+bot" },
      secret: expect.any(String),
    });

    const audit = async (args: string[]) => {
      const out = await remote(["--format", "json", "audit", ...args]);
      expect(out.code, out.stderr).toBe(0);
      return JSON.parse(out.stdout) as {
        items: { action: string; actor: string; project: string | null }[];
        total: number;
        page: number;
        pageSize: number;
      };
    };
    const project = await audit(["--project", "audited", "--since", "1h"]);
    // Each refresh also revokes the robot's tokens issued before it (docs/security.md).
    expect(project.items.map((e) => e.action)).toEqual([
      "credentials.revoke",
      "robot.refresh",
      "credentials.revoke",
      "robot.refresh",
      "robot.create",
      "project.create",
    ]);
    expect(project.items.every((e) => e.project === "audited")).toBe(true);
    const refreshes = await audit(["--action", "robot.refresh", "--user", ADMIN.username]);
    expect(refreshes.total).toBe(2);
    const paged = await audit(["--project", "audited", "--page-size", "1", "--page", "2"]);
    expect(paged).toMatchObject({ total: 6, page: 2, pageSize: 1 });
    expect(paged.items.map((e) => e.action)).toEqual(["robot.refresh"]);
    expect((await audit(["--project", "audited", "--until", "2000-01-01T00:00:00Z"])).total).toBe(
      0,
    );
    const table = await remote(["audit", "--project", "audited", "--page-size", "2"]);
    expect(table.stdout).toMatch(/TIME\s+ACTOR\s+ACTION/);
    expect(table.stderr).toContain("page 1 of 3 (6 entries); --page 2 for more");
    const both = await remote(["project", "create", "x", "--public", "--private"]);
    expect(both.code).toBe(2);
    expect((await remote(["audit", "--project", "nope"])).code).toBe(3);
    const bad = await remote(["audit", "--since", "yesterday-ish"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("cannot read --since");
  }, 400_000);

  it("signs in with the credentials a podman/docker login stored when the environment has none", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "berth-admin-home-"));
    try {
      const host = new URL(h.url).host;
      const authfile = path.join(home, "auth.json");
      const auth = Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString("base64");
      await writeFile(authfile, JSON.stringify({ auths: { [host]: { auth } } }));
      const clean: NodeJS.ProcessEnv = { ...env, HOME: home, XDG_CONFIG_HOME: home };
      delete clean.BERTH_USERNAME;
      delete clean.BERTH_PASSWORD;
      delete clean.XDG_RUNTIME_DIR;
      delete clean.DOCKER_CONFIG;
      const opts = { env: clean, timeoutMs: 60_000 };
      const args = [BERTH_BIN, "admin", "--server", h.url, "--format", "json", "user", "list"];
      const none = await run(process.execPath, args, opts);
      expect(none.code).toBe(2);
      expect(`${none.stdout}${none.stderr}`).toContain(`no credentials for ${host}`);
      const stored = await run(process.execPath, args, {
        ...opts,
        env: { ...clean, REGISTRY_AUTH_FILE: authfile },
      });
      expect(stored.code, stored.stderr).toBe(0);
      expect(JSON.parse(stored.stdout).map((u: { username: string }) => u.username)).toContain(
        "admin",
      );
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it("fails with one sentence and a non-zero exit", async () => {
    const bad = await remote(["member", "add", "nope", "admin", "owner"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/^berth: /);
    const denied = await berth(["--server", h.url, "user", "list"], {
      extraEnv: { BERTH_USERNAME: "admin", BERTH_PASSWORD: "wrong-password" },
    });
    expect(denied.code).toBe(3);
    expect(denied.stderr).toContain("invalid username or password");
  });
});

describe("berth admin --data", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "berth-admin-data-"));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("manages a stopped server's data directory", async () => {
    const local = (args: string[], input?: string) => berth(["--data", dir, ...args], { input });
    const created = await local(
      ["user", "create", "root2", "--password-stdin", "--admin"],
      "root2-pass-1\n",
    );
    expect(created.code, created.stderr).toBe(0);
    expect((await local(["project", "create", "ops", "--quota", "1GiB"])).code).toBe(0);
    expect((await local(["member", "add", "ops", "root2", "maintainer"])).code).toBe(0);
    const robot = await local([
      "robot",
      "create",
      "deploy",
      "--system",
      "--project",
      "ops",
      "--project",
      "*",
      "--permission",
      "pull",
    ]);
    expect(robot.code, robot.stderr).toBe(0);
    const users = await local(["--format", "json", "user", "list"]);
    expect(JSON.parse(users.stdout).map((u: { username: string }) => u.username)).toEqual([
      "root2",
    ]);
    const robots = await local(["robot", "list"]);
    expect(robots.stdout).toContain("robot$deploy");
    const short = await local(["user", "create", "x", "--password-stdin"], "short\n");
    expect(short.code).toBe(2);

    // The rest of the command set, on the same directory.
    expect(
      (await local(["user", "create", "temp", "--password-stdin"], "temp-pass-1\n")).code,
    ).toBe(0);
    expect(
      (await local(["user", "passwd", "root2", "--password-stdin"], "root2-pass-2\n")).code,
    ).toBe(0);
    expect((await local(["project", "create", "scratch", "--private"])).code).toBe(0);
    expect((await local(["member", "add", "scratch", "temp", "developer"])).code).toBe(0);
    const members = await local(["--format", "json", "member", "list", "scratch"]);
    expect(JSON.parse(members.stdout)).toEqual([
      expect.objectContaining({ username: "temp", role: "developer" }),
    ]);
    expect((await local(["member", "remove", "scratch", "temp"])).code).toBe(0);
    expect(
      JSON.parse((await local(["--format", "json", "member", "list", "scratch"])).stdout),
    ).toEqual([]);
    expect((await local(["user", "delete", "temp"])).code).toBe(0);
    expect((await local(["project", "delete", "scratch"])).code).toBe(0);
    expect((await local(["project", "create", "open", "--public"])).code).toBe(0);
    const projects = await local(["project", "list"]);
    // Private by default, as the API creates them; --public to open one.
    expect(projects.stdout).toMatch(/ops\s+private\s+1\.0 GiB/);
    expect(projects.stdout).toMatch(/open\s+public\s+unlimited/);
    expect(projects.stdout).not.toContain("scratch");
    const project = await local([
      "robot",
      "create",
      "ci",
      "--project",
      "ops",
      "--permission",
      "pull,push",
      "--expires",
      "1d",
    ]);
    expect(project.code, project.stderr).toBe(0);
    const oldCiSecret = project.stdout.trim();
    // robot refresh rotates the secret (printed once), and the audit log records it.
    const refreshed = await local(["--format", "json", "robot", "refresh", "robot$ops+ci"]);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    const ciSecret = (JSON.parse(refreshed.stdout) as { secret: string }).secret;
    expect(ciSecret.length).toBeGreaterThan(30);
    expect(ciSecret).not.toBe(oldCiSecret);
    const audit = JSON.parse(
      (await local(["--format", "json", "audit", "--action", "robot.refresh"])).stdout,
    ) as { items: { action: string; resource: string; actor: string }[]; total: number };
    expect(audit.total).toBe(1);
    expect(audit.items[0]).toMatchObject({ action: "robot.refresh", resource: "robot$ops+ci" });
    expect((await local(["robot", "disable", "robot$deploy"])).code).toBe(0);
    const robotList = await local(["--format", "json", "robot", "list"]);
    const robotsNow = JSON.parse(robotList.stdout) as { name: string; disabled: boolean }[];
    expect(robotsNow.find((r) => r.name === "robot$deploy")?.disabled).toBe(true);
    const deploySecret = robot.stdout.trim();

    // A server started on the directory sees all of it.
    const server = await startBerth({
      dataDir: dir,
      env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: "unused-admin-pass-1" },
    });
    try {
      const as = (username: string, password: string) =>
        api(server.url, "GET", "/service/token?scope=repository:ops/app:pull,push", {
          headers: basic({ username, password }),
        });
      const root = await as("root2", "root2-pass-2");
      expect(root.status).toBe(200);
      expect((await as("root2", "root2-pass-1")).status).toBe(401);
      expect((await as("temp", "temp-pass-1")).status).toBe(401);
      expect((await as("robot$ops+ci", ciSecret)).status).toBe(200);
      expect((await as("robot$ops+ci", oldCiSecret)).status).toBe(401);
      expect((await as("robot$deploy", deploySecret)).status).toBe(401);
    } finally {
      await server.stop();
    }
    expect((await local(["robot", "delete", "robot$ops+ci"])).code).toBe(0);
    const gone = await local(["--format", "json", "robot", "list", "--project", "ops"]);
    expect(JSON.parse(gone.stdout)).toEqual([]);
  }, 400_000);
});
