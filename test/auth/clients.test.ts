// Real clients against a real `berth serve` with multi-tenancy: `podman login` then push and
// pull in a private project; anonymous pull from a public project (and no anonymous push);
// `skopeo copy --creds` with a pull-only robot cannot push; an expired robot is refused.
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicHeader } from "../../src/auth/credentials.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import {
  buildah,
  type ContainerStorage,
  podman,
  privateContainerStorage,
  skopeo,
  skopeoCopy,
} from "../support/container-tools.js";
import { run } from "../support/process-control.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const ADMIN_PASSWORD = "admin-password-1";
let berth: BerthProcess;
let work: string;
let storage: ContainerStorage;
let image: string;
let pullRobot = "";
let expiredRobot = "";

async function adminApi(method: string, p: string, body: unknown): Promise<{ secret: string }> {
  const res = await fetch(`${berth.url}${p}`, {
    method,
    headers: {
      authorization: basicHeader("admin", ADMIN_PASSWORD),
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { secret: string };
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

beforeAll(async () => {
  berth = await startBerth({ env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  // Lowercase only: podman names images pulled from oci:DIR after the directory.
  work = path.join(os.tmpdir(), `berth-clients-${randomBytes(6).toString("hex")}`);
  await mkdir(work);
  storage = await privateContainerStorage();
  image = (
    await syntheticImageLayout(path.join(work, "layout"), "v1", {
      layers: [{ seed: "clients", size: 4096 }],
    })
  ).reference;
  await adminApi("POST", "/api/v1/users", { username: "alice", password: "alice-pass-1" });
  await adminApi("POST", "/api/v1/projects", { name: "team" });
  await adminApi("POST", "/api/v1/projects/team/members", { username: "alice", role: "developer" });
  const robot = await adminApi("POST", "/api/v1/projects/team/robots", {
    name: "reader",
    actions: ["pull"],
  });
  pullRobot = robot.secret;
  const expired = await adminApi("POST", "/api/v1/projects/team/robots", {
    name: "old",
    actions: ["pull", "push"],
    expiresAt: new Date(Date.now() - 60_000).toISOString(),
  });
  expiredRobot = expired.secret;
}, 180_000);

afterAll(async () => {
  await berth?.stop();
  await storage?.remove();
  if (work) await rm(work, { recursive: true, force: true });
});

function podmanIn(args: string[], input?: string) {
  return run(
    "podman",
    [...storage.globalFlags, "--cgroup-manager", "cgroupfs", "--events-backend", "file", ...args],
    {
      env: storage.env,
      input,
      timeoutMs: 180_000,
    },
  );
}

describe("podman", () => {
  it("logs in, pushes to and pulls from a private project; without login it cannot pull", async () => {
    const authfile = path.join(work, "auth.json");
    const ref = `${berth.host}/team/app:v1`;
    const login = await podmanIn(
      [
        "login",
        "--tls-verify=false",
        "--authfile",
        authfile,
        "-u",
        "alice",
        "--password-stdin",
        berth.host,
      ],
      "alice-pass-1\n",
    );
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain("Login Succeeded");
    const badLogin = await podmanIn(
      [
        "login",
        "--tls-verify=false",
        "--authfile",
        path.join(work, "bad.json"),
        "-u",
        "alice",
        "--password-stdin",
        berth.host,
      ],
      "wrong-password\n",
    );
    expect(badLogin.code).not.toBe(0);

    await podman(storage, ["pull", "-q", image]);
    const id = (await podman(storage, ["images", "-q"])).stdout.trim().split("\n")[0];
    await podman(storage, ["tag", id, ref]);
    await podman(storage, ["push", "-q", "--tls-verify=false", "--authfile", authfile, ref]);
    await podman(storage, ["rmi", "-f", ref]);
    await podman(storage, ["pull", "-q", "--tls-verify=false", "--authfile", authfile, ref]);

    const noAuth = path.join(work, "none.json");
    await writeFile(noAuth, '{"auths":{}}');
    const anonymous = await podmanIn([
      "pull",
      "-q",
      "--tls-verify=false",
      "--authfile",
      noAuth,
      ref,
    ]);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr.toLowerCase()).toMatch(/unauthorized|authentication required/);
  });
});

describe("skopeo", () => {
  it("pulls anonymously from a public project but cannot push anonymously", async () => {
    await skopeoCopy(image, `docker://${berth.host}/library/base:v1`, [
      "--dest-creds",
      `admin:${ADMIN_PASSWORD}`,
    ]);
    await skopeoCopy(
      `docker://${berth.host}/library/base:v1`,
      `oci:${path.join(work, "anon-pull")}:v1`,
    );
    await expect(skopeoCopy(image, `docker://${berth.host}/library/anon:v1`)).rejects.toThrow(
      /unauthorized|authentication required/i,
    );
  });

  it("with a pull-only robot pulls but cannot push", async () => {
    const creds = `robot$team+reader:${pullRobot}`;
    await skopeoCopy(image, `docker://${berth.host}/team/base:v1`, [
      "--dest-creds",
      `alice:alice-pass-1`,
    ]);
    await skopeoCopy(
      `docker://${berth.host}/team/base:v1`,
      `oci:${path.join(work, "robot-pull")}:v1`,
      ["--src-creds", creds],
    );
    await expect(
      skopeoCopy(image, `docker://${berth.host}/team/robot-push:v1`, ["--dest-creds", creds]),
    ).rejects.toThrow(/denied|unauthorized/i);
    const inspect = await skopeo([
      "inspect",
      "--tls-verify=false",
      "--creds",
      creds,
      `docker://${berth.host}/team/base:v1`,
    ]);
    expect(inspect.stdout).toContain("Digest");
  });

  it("refuses an expired robot", async () => {
    const creds = `robot$team+old:${expiredRobot}`;
    const r = await run(
      "skopeo",
      ["inspect", "--tls-verify=false", "--creds", creds, `docker://${berth.host}/team/base:v1`],
      {
        timeoutMs: 60_000,
      },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr.toLowerCase()).toMatch(/unauthorized|authentication required|invalid username/);
  });
});

describe("skopeo login and buildah login", () => {
  it("store credentials that later pushes and pulls to a private project use", async () => {
    const skopeoAuth = path.join(work, "skopeo-auth.json");
    const login = (tool: string, authfile: string, password: string, env?: NodeJS.ProcessEnv) =>
      run(
        tool,
        [
          ...(tool === "buildah" ? storage.globalFlags : []),
          "login",
          "--tls-verify=false",
          "--authfile",
          authfile,
          "-u",
          "alice",
          "--password-stdin",
          berth.host,
        ],
        { input: `${password}\n`, env, timeoutMs: 60_000 },
      );
    const bad = await login("skopeo", path.join(work, "skopeo-bad.json"), "wrong-password");
    expect(bad.code).not.toBe(0);
    const ok = await login("skopeo", skopeoAuth, "alice-pass-1");
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("Login Succeeded");
    await skopeoCopy(image, `docker://${berth.host}/team/via-skopeo:v1`, [
      "--dest-authfile",
      skopeoAuth,
    ]);
    // Without the stored login the private project stays closed.
    await expect(
      skopeoCopy(`docker://${berth.host}/team/via-skopeo:v1`, `oci:${path.join(work, "x")}:v1`),
    ).rejects.toThrow(/unauthorized|authentication required/i);

    const buildahAuth = path.join(work, "buildah-auth.json");
    const b = await login("buildah", buildahAuth, "alice-pass-1", storage.env);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toContain("Login Succeeded");
    const pulled = await buildah(storage, [
      "pull",
      "-q",
      "--tls-verify=false",
      "--authfile",
      buildahAuth,
      `docker://${berth.host}/team/via-skopeo:v1`,
    ]);
    const id = pulled.stdout.trim().split("\n").pop() ?? "";
    expect(id).toMatch(/^[0-9a-f]{12,}$/);
    await buildah(storage, [
      "push",
      "-q",
      "--tls-verify=false",
      "--authfile",
      buildahAuth,
      id,
      `docker://${berth.host}/team/via-buildah:v1`,
    ]);
    const tags = await skopeo([
      "list-tags",
      "--tls-verify=false",
      "--authfile",
      skopeoAuth,
      `docker://${berth.host}/team/via-buildah`,
    ]);
    expect(JSON.parse(tags.stdout).Tags).toEqual(["v1"]);
  });
});

describe("registry:2 drop-in with htpasswd", () => {
  it("accepts htpasswd users (REGISTRY_AUTH=htpasswd) with full access, projects created on push", async () => {
    const htpasswd = path.join(work, "htpasswd");
    await writeFile(htpasswd, `ci:${bcrypt.hashSync("ci-password-1", 10)}\n`);
    const dropIn = await startBerth({
      env: {
        BERTH_AUTH: "token",
        REGISTRY_AUTH: "htpasswd",
        REGISTRY_AUTH_HTPASSWD_PATH: htpasswd,
        BERTH_AUTO_CREATE_PROJECTS: "true",
      },
    });
    try {
      await skopeoCopy(image, `docker://${dropIn.host}/plain:v1`, [
        "--dest-creds",
        "ci:ci-password-1",
      ]);
      await skopeoCopy(image, `docker://${dropIn.host}/newteam/app:v1`, [
        "--dest-creds",
        "ci:ci-password-1",
      ]);
      await expect(
        skopeoCopy(image, `docker://${dropIn.host}/newteam/app:v2`, [
          "--dest-creds",
          "ci:wrong-password",
        ]),
      ).rejects.toThrow(/unauthorized|authentication required/i);
      const tags = await skopeo([
        "list-tags",
        "--tls-verify=false",
        "--creds",
        "ci:ci-password-1",
        `docker://${dropIn.host}/newteam/app`,
      ]);
      expect(JSON.parse(tags.stdout).Tags).toEqual(["v1"]);
    } finally {
      await dropIn.stop();
    }
  });
});
