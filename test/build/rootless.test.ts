// Rootless `berth build`: run by a user who is not root, the build re-runs itself inside a
// user namespace (util-linux unshare, the user's /etc/subuid range applied by newuidmap) and
// RUN steps work there, with base-image owners, `COPY --chown` and `USER` ids kept as a root
// build keeps them. When the suite runs as root (CI), a throwaway user is created with
// useradd (Debian's useradd also gives it a subordinate id range); as another user, that user
// is used. The base image is Debian's static busybox from an OCI layout (no registry).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rootlessPlan, subordinateRange } from "../../src/build/userns.js";
import { BERTH_BIN } from "../support/berth-process.js";
import { writeBusyboxImage } from "../support/busybox-image.js";
import { runOk } from "../support/process-control.js";
import { imageFiles } from "./image-files.js";

const USER = "berth-rootless";
/** image-files records a file's content as its sha256. */
const sha = (text: string) => createHash("sha256").update(text).digest("hex");

describe("rootless plan (pure)", () => {
  it("maps the subordinate ids when newuidmap and /etc/subuid allow, else only root", () => {
    const subuid = "other:200000:65536\nberth:100000:65536\n";
    expect(subordinateRange(subuid, "berth", 1001)).toEqual({ start: 100000, count: 65536 });
    expect(subordinateRange("1001:300000:10\n", "x", 1001)).toEqual({ start: 300000, count: 10 });
    expect(subordinateRange(subuid, "nobody", 65534)).toBeUndefined();
    const range = { start: 100000, count: 65536 };
    expect(
      rootlessPlan({ uidRange: range, gidRange: range, hasNewuidmap: true, hasNewgidmap: true }),
    ).toEqual({
      unshareArgs: ["--map-root-user", "--map-users=100000,1,65536", "--map-groups=100000,1,65536"],
    });
    const limited = rootlessPlan({ uidRange: range, hasNewuidmap: false, hasNewgidmap: false });
    expect(limited.unshareArgs).toEqual(["--map-root-user"]);
    expect(limited.limited).toContain("newuidmap/newgidmap (Debian package uidmap)");
    expect(limited.limited).toContain("/etc/subgid");
  });
});

describe("berth build as a user who is not root", { timeout: 120_000 }, () => {
  let work: string;
  let uid: number;
  let gid: number;
  let home: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-rootless-"));
    if (process.getuid?.() === 0) {
      try {
        execFileSync("id", ["-u", USER], { stdio: "ignore" });
      } catch {
        execFileSync("useradd", ["--create-home", "--shell", "/bin/sh", USER]);
      }
      uid = Number(execFileSync("id", ["-u", USER]).toString());
      gid = Number(execFileSync("id", ["-g", USER]).toString());
      home = execFileSync("sh", ["-c", `getent passwd ${USER} | cut -d: -f6`])
        .toString()
        .trim();
    } else {
      uid = process.getuid?.() ?? -1;
      gid = process.getgid?.() ?? -1;
      home = process.env.HOME ?? work;
    }
    await writeBusyboxImage(join(work, "busybox"));
    await writeFile(join(work, "hello.txt"), "hello\n");
    await writeFile(
      join(work, "Dockerfile"),
      [
        `FROM oci:${join(work, "busybox")}:1`,
        "COPY --chown=1000:1000 hello.txt /hello.txt",
        "USER app",
        "RUN id -u > /tmp/uid && touch /tmp/by-app && echo $HOME > /tmp/home",
        "USER root",
        "RUN id -u > /root-uid",
        "",
      ].join("\n"),
    );
    await chmod(work, 0o755);
    execFileSync("chown", ["-R", `${uid}:${gid}`, work]);
    await chown(work, uid, gid);
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("builds with RUN steps inside a user namespace, keeping owners and USER ids", async () => {
    const out = join(work, "out");
    const asUser =
      process.getuid?.() === 0
        ? ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--init-groups", "--"]
        : [];
    const argv = [
      ...asUser,
      process.execPath,
      BERTH_BIN,
      "build",
      "--cache-dir",
      join(work, "cache"),
      "--progress",
      "plain",
      "--output",
      `oci:${out}:1`,
      work,
    ];
    const result = await runOk(argv[0] as string, argv.slice(1), {
      timeoutMs: 100_000,
      env: { ...process.env, HOME: home, SOURCE_DATE_EPOCH: "1700000000", USER },
    });
    expect(result.stderr).not.toContain("warning: only root is mapped");
    const image = await imageFiles(`oci:${out}:1`);
    expect(image.files.get("hello.txt")?.owner).toBe("1000:1000");
    expect(image.files.get("tmp/uid")?.content).toBe(sha("1000\n"));
    expect(image.files.get("tmp/by-app")?.owner).toBe("1000:1000");
    expect(image.files.get("root-uid")?.content).toBe(sha("0\n"));
    // HOME unset in the Dockerfile: the user's home from /etc/passwd, as runc sets it.
    expect(image.files.get("tmp/home")?.content).toBe(sha("/home/app\n"));
    expect(image.files.get("bin/busybox")?.owner).toBe("0:0");
  });
});
