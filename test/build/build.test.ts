// `berth build` end to end, as a user runs it (the real CLI), against the reference registry:
// the multi-stage fixture (cache mount, secret mount, non-root user, healthcheck) built by
// Berth and by `buildah bud --isolation chroot` gives the same files and config; the image
// runs (chroot into its unpacked root filesystem); the secret is in no layer, history or
// config; two builds in different directories at different times give one digest; a
// changed source file changes only the layer that carries it; a rebuild runs nothing and a
// source change re-runs only the steps after the source copy; bad input fails clearly.
// The base image is Debian's static busybox, written by test/support/busybox-image.ts.
import { mkdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth, berthOk } from "../cli/berth-cli.js";
import {
  type BuildFixture,
  BUILD_SECRET as SECRET,
  startBuildFixture,
} from "../support/build-fixture.js";
import { buildah, privateContainerStorage } from "../support/container-tools.js";
import { runOk } from "../support/process-control.js";
import type { ReferenceRegistry } from "../support/reference-registry.js";
import { imageFiles } from "./image-files.js";

const EPOCH = { SOURCE_DATE_EPOCH: "1700000000" };

interface BuildJson {
  digest: string;
  images: { platform: string; digest: string }[];
  stepsRun: number;
  stepsCached: number;
}

describe("berth build", { timeout: 240_000 }, () => {
  let fixture: BuildFixture;
  let registry: ReferenceRegistry;
  let work: string;
  let base: string;
  let secretFile: string;

  beforeAll(async () => {
    fixture = await startBuildFixture("berth-build-");
    ({ registry, work, base, secretFile } = fixture);
  });

  afterAll(async () => {
    await fixture?.stop();
  });

  const context = (name: string) => fixture.context(name);

  function buildArgs(ctx: string, cacheDir: string, extra: string[] = []): string[] {
    return fixture.berthArgs(ctx, cacheDir, ["--format", "json", "--progress", "plain", ...extra]);
  }

  async function buildJson(ctx: string, cacheDir: string, extra: string[] = []) {
    const result = await berthOk(buildArgs(ctx, cacheDir, extra), { env: EPOCH });
    return { json: JSON.parse(result.stdout) as BuildJson, stderr: result.stderr };
  }

  it("builds the multi-stage fixture with the files and config buildah bud gives, and the image runs", async () => {
    const ctx = await context("compare");
    const { json } = await buildJson(ctx, join(work, "cache-compare"), [
      "-t",
      `${registry.host}/app/berth:1`,
    ]);
    const ours = await imageFiles(`docker://${registry.host}/app/berth:1`);
    expect(json.digest).toMatch(/^sha256:/);

    const storage = await privateContainerStorage();
    try {
      await buildah(storage, [
        "bud",
        "--isolation",
        "chroot",
        "--format",
        "docker",
        "--tls-verify=false",
        "--build-arg",
        `BASE=${base}`,
        "--secret",
        `id=token,src=${secretFile}`,
        "-t",
        "localhost/app:buildah",
        ctx,
      ]);
      await buildah(storage, [
        "push",
        "--tls-verify=false",
        "localhost/app:buildah",
        `docker://${registry.host}/app/buildah:1`,
      ]);
    } finally {
      await storage.remove();
    }
    const theirs = await imageFiles(`docker://${registry.host}/app/buildah:1`);

    expect(Object.fromEntries(ours.files)).toEqual(Object.fromEntries(theirs.files));
    const pick = (c: typeof ours.config) => {
      const labels = Object.fromEntries(
        Object.entries(c.config?.Labels ?? {}).filter(
          ([k]) => !k.startsWith("org.opencontainers.image.") && k !== "io.buildah.version",
        ),
      );
      const { Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, Healthcheck, StopSignal } =
        c.config ?? {};
      return {
        Entrypoint,
        Cmd,
        Env,
        WorkingDir,
        User,
        Labels: labels,
        ExposedPorts,
        Healthcheck,
        StopSignal,
      };
    };
    expect(pick(ours.config)).toEqual(pick(theirs.config));
    expect(pick(ours.config).User).toBe("1000:1000");
    expect(ours.config.config?.Healthcheck).toEqual({
      Test: ["CMD", "/bin/true"],
      Interval: 30e9,
      Timeout: 3e9,
      Retries: 3,
    });
    expect(ours.config.config?.Labels?.["org.opencontainers.image.base.name"]).toBe(base);

    // .dockerignore kept the logs out; the secret is nowhere in what was built.
    expect([...ours.files.keys()].filter((p) => p.endsWith(".log"))).toEqual([]);
    expect(ours.everything).not.toContain(SECRET);
    expect(ours.configText).not.toContain(SECRET);
    expect(ours.files.get("app/app.txt")).toMatchObject({ owner: "1000:1000" });
    expect(ours.files.get("usr/local/bin/run")).toMatchObject({ mode: "755", owner: "0:0" });

    // History: one entry per step, empty_layer on metadata steps, as analyze expects.
    const history = ours.config.history ?? [];
    expect(history.filter((h) => !h.empty_layer)).toHaveLength(ours.layerDigests.length);
    expect(history.map((h) => h.created_by)).toContain(
      "COPY --chmod=755 run.sh /usr/local/bin/run # buildkit",
    );

    // The image runs: chroot into its unpacked root filesystem, with its config's Env.
    const layout = join(work, "run-layout");
    await berthOk(["copy", `${registry.host}/app/berth:1`, `oci:${layout}:1`]);
    const root = join(work, "run-root");
    await mkdir(root);
    const manifest = JSON.parse(await readFile(join(layout, "index.json"), "utf8")).manifests[0]
      .digest as string;
    const layers = JSON.parse(
      await readFile(join(layout, "blobs", "sha256", manifest.slice(7)), "utf8"),
    ).layers as { digest: string }[];
    for (const l of layers)
      await runOk("tar", ["-xzf", join(layout, "blobs", "sha256", l.digest.slice(7)), "-C", root]);
    const env = Object.fromEntries(
      (ours.config.config?.Env ?? []).map((e) => e.split("=", 2) as [string, string]),
    );
    const out = await runOk(
      "/usr/sbin/chroot",
      ["--userspec=1000:1000", root, "/usr/local/bin/run", "--serve"],
      { env },
    );
    expect(out.stdout).toBe("app 1.0: hello from the source [--serve]\n");
  });

  it("gives one digest from two directories at two times, and a changed file changes only its layer", async () => {
    const first = await context("repro-a");
    const second = await context("repro-b");
    const later = new Date(Date.now() + 3_600_000);
    for (const f of ["deps.txt", "run.sh", "src/main.txt", "Dockerfile"])
      await utimes(join(second, f), later, later);
    await writeFile(join(second, "src", "extra.log"), "ignored by .dockerignore\n");
    const a = await buildJson(first, join(work, "cache-a"));
    const b = await buildJson(second, join(work, "cache-b"), [
      "--output",
      `oci:${join(work, "repro-b-out")}:1`,
    ]);
    expect(b.json.digest).toBe(a.json.digest);
    expect(b.json.stepsCached).toBe(0);

    await writeFile(join(second, "src", "main.txt"), "changed source\n");
    const c = await buildJson(second, join(work, "cache-b"), [
      "--output",
      `oci:${join(work, "repro-c-out")}:1`,
    ]);
    expect(c.json.digest).not.toBe(b.json.digest);
    const before = await imageFiles(`oci:${join(work, "repro-b-out")}:1`);
    const after = await imageFiles(`oci:${join(work, "repro-c-out")}:1`);
    // [base, COPY --from=build (carries the source's output), COPY run.sh]
    expect(after.layerDigests).toHaveLength(3);
    expect(after.layerDigests[0]).toBe(before.layerDigests[0]);
    expect(after.layerDigests[1]).not.toBe(before.layerDigests[1]);
    expect(after.layerDigests[2]).toBe(before.layerDigests[2]);
  });

  it("reuses every step of an unchanged rebuild and re-runs only the steps after a changed source copy", async () => {
    const ctx = await context("cache");
    const cacheDir = join(work, "cache-steps");
    const cold = await buildJson(ctx, cacheDir);
    expect(cold.json).toMatchObject({ stepsRun: 7, stepsCached: 0 });
    const warm = await buildJson(ctx, cacheDir);
    expect(warm.json).toMatchObject({ digest: cold.json.digest, stepsRun: 0, stepsCached: 7 });

    await writeFile(join(ctx, "src", "main.txt"), "new source\n");
    const changed = await buildJson(ctx, cacheDir);
    expect(changed.json).toMatchObject({ stepsRun: 4, stepsCached: 3 });
    const cachedSteps = changed.stderr.split("\n").filter((l) => l.endsWith(" CACHED"));
    expect(cachedSteps.map((l) => l.replace(/^#\d+ /, ""))).toEqual([
      "[deps] COPY deps.txt ./ CACHED",
      '[deps] RUN mkdir -p /deps && while read d; do echo "dep:$d" > "/deps/$d"; done < deps.txt && echo built >> /cache/log CACHED',
      "[build] COPY /deps /deps CACHED",
    ]);

    const noCache = await buildJson(ctx, cacheDir, ["--no-cache"]);
    expect(noCache.json).toMatchObject({
      digest: changed.json.digest,
      stepsRun: 7,
      stepsCached: 0,
    });
  });

  it("builds a RUN-less Dockerfile for two platforms into an index, and refuses RUN for a foreign one", async () => {
    const ctx = join(work, "multi");
    await mkdir(ctx);
    await writeFile(join(ctx, "hello.txt"), "hi\n");
    await writeFile(
      join(ctx, "Dockerfile"),
      'FROM scratch\nARG TARGETARCH\nCOPY hello.txt /hello-$TARGETARCH.txt\nCMD ["/hello"]\n',
    );
    const out = join(work, "multi-out");
    const { json } = await buildJson(ctx, join(work, "cache-multi"), [
      "--platform",
      "linux/amd64,linux/arm64",
      "--output",
      `oci:${out}:1`,
    ]);
    expect(json.images.map((i) => i.platform)).toEqual(["linux/amd64", "linux/arm64"]);
    const index = JSON.parse(
      await readFile(join(out, "blobs", "sha256", json.digest.slice(7)), "utf8"),
    );
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const arm = await imageFiles(`oci:${out}:1`);
    expect(arm.files.has(`hello-${arm.config.architecture}.txt`)).toBe(true);

    await writeFile(join(ctx, "Dockerfile"), "FROM scratch\nCOPY hello.txt /\nRUN echo hi\n");
    const foreign = await berth(
      buildArgs(ctx, join(work, "cache-multi"), ["--platform", "linux/sparc"]),
      { env: EPOCH },
    );
    expect(foreign.code).toBe(3);
    expect(JSON.parse(foreign.stdout).error.message).toMatch(
      /line 3 \(RUN\).*linux\/sparc.*no qemu emulator/,
    );
  });

  it("fails clearly on bad input and on a failing RUN, naming the Dockerfile line", async () => {
    const ctx = join(work, "bad");
    await mkdir(ctx);
    const cacheDir = join(work, "cache-bad");
    await writeFile(join(ctx, "Dockerfile"), `FROM ${base} AS one\nCOPY missing.txt /\n`);
    const missing = await berth(buildArgs(ctx, cacheDir), { env: EPOCH });
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout).error.message).toMatch(
      /line 2 \(COPY\).*missing\.txt.*not in the build context/,
    );

    const target = await berth(buildArgs(ctx, cacheDir, ["--target", "nope"]), { env: EPOCH });
    expect(target.code).toBe(2);
    expect(JSON.parse(target.stdout).error.message).toMatch(
      /--target nope: no stage of that name \(stages: one\)/,
    );

    await writeFile(join(ctx, "Dockerfile"), `FROM ${base}\nRUN echo about to fail && exit 7\n`);
    const failed = await berth(buildArgs(ctx, cacheDir, ["-t", `${registry.host}/app/failed:1`]), {
      env: EPOCH,
    });
    expect(failed.code).toBe(3);
    const message = JSON.parse(failed.stdout).error.message as string;
    expect(message).toMatch(/line 2 \(RUN\).*exited 7/);
    expect(message).toContain("about to fail");
    const pushed = await berth(["manifest", `${registry.host}/app/failed:1`]);
    expect(pushed.code).not.toBe(0);

    const noArgs = await berth(["build", "--format", "json", join(work, "no-such-dir")]);
    expect(noArgs.code).toBe(2);
  });
});
