// Credentials against Berth itself with its token authentication on (Bearer challenge, token
// endpoint, JWT): after `podman login`, `berth ls` works with no flags; `berth login` with a
// wrong password is one sentence and exit 3, with the right one it succeeds; a token service
// answering 503 or dropping the connection is retried. Wrong `--creds` are an error even on a
// public repository (as skopeo), and a refusal says whether the password was wrong (401) or the
// account may not do the action (403 / DENIED). HOME and
// XDG_RUNTIME_DIR point into a temp dir, never at the machine's own credential files.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaultProxy } from "../client/fault-proxy.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { run } from "../support/process-control.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";
import { berth, berthOk } from "./berth-cli.js";

const ADMIN_PASSWORD = "berth-admin-pass-1";
let server: BerthProcess;
let work: string;
let env: NodeJS.ProcessEnv;
let layout: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-cli-berth-auth-"));
  const home = join(work, "home");
  const runtime = join(work, "runtime");
  await mkdir(home, { recursive: true });
  await mkdir(runtime, { recursive: true, mode: 0o700 });
  env = {
    ...process.env,
    HOME: home,
    XDG_RUNTIME_DIR: runtime,
    XDG_CONFIG_HOME: join(home, ".config"),
  };
  delete env.REGISTRY_AUTH_FILE;
  delete env.DOCKER_CONFIG;
  server = await startBerth({
    env: {
      BERTH_AUTH: "token",
      BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BERTH_AUTO_CREATE_PROJECTS: "true",
      BERTH_LOG_LEVEL: "warn",
    },
  });
  const image = await syntheticImageLayout(join(work, "layout"), "1.0", {
    layers: [{ seed: "berth-auth", size: 10_000 }],
  });
  layout = image.reference;
  await berthOk(
    ["copy", "--creds", `admin:${ADMIN_PASSWORD}`, image.reference, `${server.host}/team/app:1.0`],
    { env },
  );
  await berthOk(
    ["copy", "--creds", `admin:${ADMIN_PASSWORD}`, image.reference, `${server.host}/library/pub:1`],
    { env },
  );
  const admin = { ...env, BERTH_USERNAME: "admin", BERTH_PASSWORD: ADMIN_PASSWORD };
  await berthOk(["admin", "--server", server.url, "user", "create", "alice", "--password-stdin"], {
    env: admin,
    input: "alice-pass-1\n",
  });
  await berthOk(["admin", "--server", server.url, "member", "add", "team", "alice", "guest"], {
    env: admin,
  });
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("credentials against Berth with token auth", () => {
  it("berth ls works with no flags after podman login", async () => {
    const login = await run(
      "podman",
      ["login", "--tls-verify=false", "-u", "admin", "--password-stdin", server.host],
      {
        env,
        input: `${ADMIN_PASSWORD}\n`,
        timeoutMs: 60_000,
      },
    );
    expect(login.code, login.stderr).toBe(0);
    expect((await berthOk(["ls", `${server.host}/team/app`], { env })).stdout).toBe("1.0\n");
    await run("podman", ["logout", server.host], { env });
  });

  it("retries the token service when it answers 503 or drops the connection", async () => {
    // Berth names its token realm after the Host it was reached by, so through the proxy
    // the token requests pass the proxy too; only they get the faults.
    const proxy = await FaultProxy.start(server.host, {
      faultPaths: /^\/service\/token/,
      serverErrors: 2,
      resetConnections: 1,
    });
    try {
      const listed = await berthOk(
        ["ls", "--creds", `admin:${ADMIN_PASSWORD}`, `${proxy.host}/team/app`],
        { env },
      );
      expect(listed.stdout).toBe("1.0\n");
      expect(proxy.injected503).toBe(2);
      expect(proxy.injectedResets).toBe(1);
      const tokenAnswers = proxy.requests.filter((r) => r.path.startsWith("/service/token"));
      expect(tokenAnswers.at(-1)?.status).toBe(200);
    } finally {
      await proxy.stop();
    }
  });

  it("berth login refuses a wrong password in one sentence and accepts the right one", async () => {
    const wrong = await berth(["login", server.host, "-u", "admin", "--password-stdin"], {
      env,
      input: "wrong-password\n",
    });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr.trim()).toBe(
      `berth: Login to ${server.host} failed: wrong username or password for admin.`,
    );
    const ok = await berthOk(["login", server.host, "-u", "admin", "--password-stdin"], {
      env,
      input: `${ADMIN_PASSWORD}\n`,
    });
    expect(ok.stdout).toContain("Login Succeeded");
    expect((await berthOk(["ls", `${server.host}/team/app`], { env })).stdout).toBe("1.0\n");
  });
});

describe("credential errors", () => {
  it("wrong --creds on a public repository are an error (exit 3), not an anonymous pull", async () => {
    const anonymous = await berthOk(["ls", `${server.host}/library/pub`], { env });
    expect(anonymous.stdout).toBe("1\n");
    const wrong = await berth(
      ["ls", "--creds", "admin:wrong-password", `${server.host}/library/pub`],
      {
        env,
      },
    );
    expect(wrong.code).toBe(3);
    expect(wrong.stderr.trim().split("\n")).toHaveLength(1);
    expect(wrong.stderr).toContain("refused the credentials of admin");
    const inspect = await berth(
      ["digest", "--creds", "alice:wrong-password", `${server.host}/library/pub:1`],
      { env },
    );
    expect(inspect.code).toBe(3);
  });

  it("tells wrong credentials (401) from an account that may not do the action (403)", async () => {
    const wrong = await berth(
      ["ls", "--creds", "alice:wrong-password", `${server.host}/team/app`],
      {
        env,
      },
    );
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(
      /the registry refused the credentials of alice|refused the credentials of alice/,
    );
    expect(
      (await berthOk(["ls", "--creds", "alice:alice-pass-1", `${server.host}/team/app`], { env }))
        .stdout,
    ).toBe("1.0\n");
    const push = await berth(
      ["copy", "--creds", "alice:alice-pass-1", layout, `${server.host}/team/app:2.0`],
      { env },
    );
    expect(push.code).toBe(3);
    expect(push.stderr.trim().split("\n")).toHaveLength(1);
    expect(push.stderr).toContain("alice may not push to team/app");
    expect(push.stderr).not.toContain("refused the credentials");
  });
});
