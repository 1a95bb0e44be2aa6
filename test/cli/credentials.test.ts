// Credentials as users already have them: after `podman login` against a registry with
// authentication (CNCF distribution 2.8 with htpasswd), `berth ls` works with no flags;
// `berth login` verifies first (a wrong password is one sentence and exit 3), stores where
// docker reads, and `berth logout` removes it from that file only (`--all`: podman's and
// docker's files too); REGISTRY_AUTH_FILE (written by `podman login
// --authfile`) is read, and a wrong stored password is named in one sentence; the
// `docker-credential-*` helpers named by credHelpers (per registry) and credsStore are used. HOME and XDG_RUNTIME_DIR point into a temp dir: the machine's own
// credential files are never read or written.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ManagedServer, startManagedServer } from "../support/managed-server.js";
import { freePort, run } from "../support/process-control.js";
import { DOCKER_REGISTRY_BIN, referenceRegistryConfig } from "../support/reference-registry.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";
import { berth, berthOk } from "./berth-cli.js";

let server: ManagedServer;
let work: string;
let host: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-cli-creds-"));
  const home = join(work, "home");
  const runtime = join(work, "runtime");
  await mkdir(home, { recursive: true });
  await mkdir(runtime, { recursive: true, mode: 0o700 });
  env = {
    HOME: home,
    XDG_RUNTIME_DIR: runtime,
    REGISTRY_AUTH_FILE: "",
    DOCKER_CONFIG: "",
    XDG_CONFIG_HOME: join(home, ".config"),
  };
  await writeFile(join(work, "htpasswd"), `alice:${bcrypt.hashSync("s3cret-pass", 10)}\n`);
  const port = await freePort();
  host = `127.0.0.1:${port}`;
  const config = [
    referenceRegistryConfig(host, join(work, "data")),
    "auth:",
    "  htpasswd:",
    "    realm: berth-test",
    `    path: ${join(work, "htpasswd")}`,
    "",
  ].join("\n");
  await writeFile(join(work, "config.yml"), config);
  server = await startManagedServer({
    name: "docker-registry (htpasswd)",
    command: DOCKER_REGISTRY_BIN,
    args: ["serve", join(work, "config.yml")],
    healthUrl: `http://${host}/v2/`,
  });
  const image = await syntheticImageLayout(join(work, "layout"), "1.0", {
    layers: [{ seed: "creds", size: 10_000 }],
  });
  await berthOk(["copy", "--creds", "alice:s3cret-pass", image.reference, `${host}/team/app:1.0`], {
    env: cleanEnv(),
  });
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The test's environment without empty overrides (empty means "unset" for these tests). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, ...env, ...extra };
  for (const key of ["REGISTRY_AUTH_FILE", "DOCKER_CONFIG"]) if (!out[key]) delete out[key];
  return out;
}

function podmanLogin(args: string[], input?: string) {
  return run("podman", ["login", "--tls-verify=false", ...args], {
    env: cleanEnv(),
    input,
    timeoutMs: 60_000,
  });
}

describe("credentials", () => {
  it("refuses to list without credentials, with one sentence pointing at berth login", async () => {
    const result = await berth(["ls", `${host}/team/app`], { env: cleanEnv() });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/requires authentication.*; run "berth login /);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("uses the credentials podman login stored, with no flags", async () => {
    const login = await podmanLogin(["-u", "alice", "--password-stdin", host], "s3cret-pass\n");
    expect(login.code, login.stderr).toBe(0);
    const authFile = JSON.parse(
      await readFile(join(env.XDG_RUNTIME_DIR as string, "containers", "auth.json"), "utf8"),
    ) as {
      auths: Record<string, unknown>;
    };
    expect(Object.keys(authFile.auths)).toContain(host);
    const result = await berthOk(["ls", `${host}/team/app`], { env: cleanEnv() });
    expect(result.stdout).toBe("1.0\n");
    await run("podman", ["logout", host], { env: cleanEnv() });
  });

  it("berth login verifies the password first and stores it where docker reads it", async () => {
    const wrong = await berth(["login", host, "-u", "alice", "--password-stdin"], {
      env: cleanEnv(),
      input: "nope\n",
    });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr.trim()).toBe(
      `berth: Login to ${host} failed: wrong username or password for alice.`,
    );

    const ok = await berthOk(["login", host, "-u", "alice", "--password-stdin"], {
      env: cleanEnv(),
      input: "s3cret-pass\n",
    });
    expect(ok.stdout).toContain("Login Succeeded");
    const dockerConfig = join(env.HOME as string, ".docker", "config.json");
    const doc = JSON.parse(await readFile(dockerConfig, "utf8")) as {
      auths: Record<string, { auth: string }>;
    };
    expect(Buffer.from(doc.auths[host]?.auth ?? "", "base64").toString()).toBe("alice:s3cret-pass");
    expect((await berthOk(["ls", `${host}/team/app`], { env: cleanEnv() })).stdout).toBe("1.0\n");

    const out = await berthOk(["logout", host], { env: cleanEnv() });
    expect(out.stdout).toContain("Removed credentials");
    expect((await berth(["ls", `${host}/team/app`], { env: cleanEnv() })).code).toBe(3);
  });

  it("berth logout removes only its own login; --all removes podman's and docker's too", async () => {
    const podmanFile = join(env.XDG_RUNTIME_DIR as string, "containers", "auth.json");
    const dockerConfig = join(env.HOME as string, ".docker", "config.json");
    const hosts = async (file: string) =>
      Object.keys(
        (JSON.parse(await readFile(file, "utf8")) as { auths?: Record<string, unknown> }).auths ??
          {},
      );
    expect(
      (await podmanLogin(["-u", "alice", "--password-stdin", host], "s3cret-pass\n")).code,
    ).toBe(0);
    await berthOk(["login", host, "-u", "alice", "--password-stdin"], {
      env: cleanEnv(),
      input: "s3cret-pass\n",
    });
    expect(await hosts(podmanFile)).toContain(host);
    expect(await hosts(dockerConfig)).toContain(host);

    const own = await berthOk(["logout", host], { env: cleanEnv() });
    expect(own.stdout).toBe(`Removed credentials for ${host} from ${dockerConfig}\n`);
    expect(await hosts(dockerConfig)).not.toContain(host);
    expect(await hosts(podmanFile)).toContain(host);
    expect((await berthOk(["ls", `${host}/team/app`], { env: cleanEnv() })).stdout).toBe("1.0\n");

    const again = await berthOk(["logout", host], { env: cleanEnv() });
    expect(again.stdout).toBe(`Not logged in to ${host}\n`);
    expect(again.stderr).toContain(podmanFile);
    expect(again.stderr).toContain(`berth logout --all ${host}`);

    await berthOk(["login", host, "-u", "alice", "--password-stdin"], {
      env: cleanEnv(),
      input: "s3cret-pass\n",
    });
    const all = await berthOk(["logout", "--all", host], { env: cleanEnv() });
    expect(all.stdout).toContain(podmanFile);
    expect(all.stdout).toContain(dockerConfig);
    expect(await hosts(podmanFile)).not.toContain(host);
    expect(await hosts(dockerConfig)).not.toContain(host);
    expect((await berth(["ls", `${host}/team/app`], { env: cleanEnv() })).code).toBe(3);
    const podmanSees = await run("podman", ["login", "--get-login", host], { env: cleanEnv() });
    expect(podmanSees.code).not.toBe(0);

    // With REGISTRY_AUTH_FILE, that file is berth login's: logout removes the login there only.
    const authFile = join(work, "logout-auth-file.json");
    const withFile = cleanEnv({ REGISTRY_AUTH_FILE: authFile });
    await berthOk(["login", host, "-u", "alice", "--password-stdin"], {
      env: withFile,
      input: "s3cret-pass\n",
    });
    expect(
      (await podmanLogin(["-u", "alice", "--password-stdin", host], "s3cret-pass\n")).code,
    ).toBe(0);
    expect(await hosts(authFile)).toContain(host);
    const fromFile = await berthOk(["logout", host], { env: withFile });
    expect(fromFile.stdout).toBe(`Removed credentials for ${host} from ${authFile}\n`);
    expect(await hosts(podmanFile)).toContain(host);
    await run("podman", ["logout", host], { env: cleanEnv() });
  }, 300_000);

  it("reads REGISTRY_AUTH_FILE, and names a wrong stored password in one sentence", async () => {
    const authFile = join(work, "registry-auth-file.json");
    const login = await run(
      "podman",
      [
        "login",
        "--tls-verify=false",
        "--authfile",
        authFile,
        "-u",
        "alice",
        "--password-stdin",
        host,
      ],
      { env: cleanEnv(), input: "s3cret-pass\n", timeoutMs: 60_000 },
    );
    expect(login.code, login.stderr).toBe(0);
    const listed = await berthOk(["ls", `${host}/team/app`], {
      env: cleanEnv({ REGISTRY_AUTH_FILE: authFile }),
    });
    expect(listed.stdout).toBe("1.0\n");

    const stale = join(work, "stale-auth.json");
    await writeFile(
      stale,
      JSON.stringify({ auths: { [host]: { auth: Buffer.from("alice:old").toString("base64") } } }),
    );
    const refused = await berth(["ls", `${host}/team/app`], {
      env: cleanEnv({ REGISTRY_AUTH_FILE: stale }),
    });
    expect(refused.code).toBe(3);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toMatch(/refused the credentials of alice/);
  });

  /** A docker-credential-NAME helper in work/DIR that knows alice's password for `host`. */
  async function credentialHelper(dir: string, name: string): Promise<string> {
    const bin = join(work, dir);
    await mkdir(bin, { recursive: true });
    const helper = join(bin, `docker-credential-${name}`);
    await writeFile(
      helper,
      `#!/bin/sh\nread server\nif [ "$1" = get ] && [ "$server" = "${host}" ]; then\n  echo '{"ServerURL":"${host}","Username":"alice","Secret":"s3cret-pass"}'\nelse\n  echo "credentials not found in native keychain"; exit 1\nfi\n`,
    );
    await chmod(helper, 0o755);
    return bin;
  }

  it("asks the docker-credential helper credHelpers names for this registry", async () => {
    const bin = await credentialHelper("bin-helpers", "perhost");
    const dockerDir = join(work, "docker-credhelpers");
    await mkdir(dockerDir, { recursive: true });
    await writeFile(
      join(dockerDir, "config.json"),
      JSON.stringify({ credHelpers: { [host]: "perhost", "other.example.com": "absent" } }),
    );
    const result = await berthOk(["ls", `${host}/team/app`], {
      env: cleanEnv({ DOCKER_CONFIG: dockerDir, PATH: `${bin}:${process.env.PATH}` }),
    });
    expect(result.stdout).toBe("1.0\n");
  });

  it("asks a docker-credential helper named by credsStore", async () => {
    const bin = await credentialHelper("bin", "berthtest");
    const dockerDir = join(work, "docker-helper");
    await mkdir(dockerDir, { recursive: true });
    await writeFile(join(dockerDir, "config.json"), JSON.stringify({ credsStore: "berthtest" }));
    const result = await berthOk(["ls", `${host}/team/app`], {
      env: cleanEnv({ DOCKER_CONFIG: dockerDir, PATH: `${bin}:${process.env.PATH}` }),
    });
    expect(result.stdout).toBe("1.0\n");
  });
});
