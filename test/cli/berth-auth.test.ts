// Credentials against Berth itself with its token authentication on (Bearer challenge, token
// endpoint, JWT): after `podman login`, `berth ls` works with no flags; `berth login` with a
// wrong password is one sentence and exit 3, with the right one it succeeds. HOME and
// XDG_RUNTIME_DIR point into a temp dir, never at the machine's own credential files.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { run } from "../support/process-control.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";
import { berth, berthOk } from "./berth-cli.js";

const ADMIN_PASSWORD = "berth-admin-pass-1";
let server: BerthProcess;
let work: string;
let env: NodeJS.ProcessEnv;

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
  await berthOk(
    ["copy", "--creds", `admin:${ADMIN_PASSWORD}`, image.reference, `${server.host}/team/app:1.0`],
    { env },
  );
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
