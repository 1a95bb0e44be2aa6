// `berth build`'s BuildKit-era Dockerfile features, as a user runs them (the real CLI) on the
// static busybox base read straight from an OCI layout: heredocs in RUN and COPY, each checked
// against the files BuildKit's documented semantics give. (buildah 1.28, Debian's, predates
// heredoc support, so these are checked against known contents rather than a second builder.)
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RuntimeConfig } from "../../src/build/instructions.js";
import type { ImageConfig } from "../../src/oci/index.js";
import { berth, berthOk } from "../cli/berth-cli.js";
import { BERTH_BIN } from "../support/berth-process.js";
import { writeBusyboxImage } from "../support/busybox-image.js";
import { runOk } from "../support/process-control.js";
import { imageFiles } from "./image-files.js";

const EPOCH = { SOURCE_DATE_EPOCH: "1700000000" };
const ESC = String.fromCharCode(27);
/** `$GREETING ${NAME}` as a Dockerfile writes it. */
const VARS = ["$GREETING", "$" + "{NAME}"].join(" ");

/** The Docker-only OnBuild field of an image config. */
function onBuild(config: ImageConfig): string[] | undefined {
  return (config.config as RuntimeConfig | undefined)?.OnBuild;
}

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

describe("berth build Dockerfile features", { timeout: 240_000 }, () => {
  let work: string;
  let base: string;
  let n = 0;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-features-"));
    base = await writeBusyboxImage(join(work, "busybox"));
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Builds `dockerfile` (with `files` in its context) into an OCI layout; returns its files. */
  async function build(
    dockerfile: string,
    files: Record<string, string> = {},
    extra: string[] = [],
  ) {
    const ctx = join(work, `ctx-${++n}`);
    await mkdir(ctx, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      await mkdir(join(ctx, name, ".."), { recursive: true });
      await writeFile(join(ctx, name), content);
    }
    await writeFile(join(ctx, "Dockerfile"), dockerfile);
    const out = join(work, `out-${n}`);
    const result = await berthOk(
      [
        "build",
        "--cache-dir",
        join(work, "cache"),
        "--format",
        "json",
        "--progress",
        "plain",
        "--output",
        `oci:${out}:1`,
        ...extra,
        ctx,
      ],
      { env: EPOCH },
    );
    const json = JSON.parse(result.stdout) as {
      digest: string;
      stepsRun: number;
      stepsCached: number;
    };
    return { image: await imageFiles(`oci:${out}:1`), stderr: result.stderr, ctx, json, out };
  }

  it("runs RUN heredocs (a lone script, a #! script, heredocs fed to commands) and writes COPY heredocs", async () => {
    const { image } = await build(
      [
        `FROM ${base}`,
        "ARG NAME=world",
        "ENV GREETING=hello",
        "RUN <<EOF",
        'echo "lone $GREETING" > /lone.txt',
        "echo second line >> /lone.txt",
        "EOF",
        "RUN <<EOF",
        "#!/bin/sh",
        'echo "shebang $0 $NAME" > /shebang.txt',
        "EOF",
        "RUN cat <<A > /a.txt && cat <<-B > /b.txt",
        "first $GREETING",
        "A",
        "\ttabbed",
        "\tB",
        "COPY <<EOF /etc/greeting",
        VARS,
        "EOF",
        "COPY <<'EOF' /etc/literal",
        VARS,
        "EOF",
        "COPY --chmod=600 <<one <<two /docs/",
        "1",
        "one",
        "2",
        "two",
        "RUN cat /docs/one /docs/two > /docs/both",
        "",
      ].join("\n"),
    );
    const content = (path: string) => image.files.get(path)?.content;
    expect(content("lone.txt")).toBe(sha("lone hello\nsecond line\n"));
    expect(content("shebang.txt")).toBe(sha("shebang /run/heredoc/EOF world\n"));
    expect(content("a.txt")).toBe(sha("first hello\n"));
    expect(content("b.txt")).toBe(sha("tabbed\n"));
    expect(image.files.get("etc/greeting")).toMatchObject({
      type: "file",
      mode: "644",
      owner: "0:0",
      content: sha("hello world\n"),
    });
    expect(content("etc/literal")).toBe(sha(`${VARS}\n`));
    expect(image.files.get("docs/one")).toMatchObject({ mode: "600", content: sha("1\n") });
    expect(content("docs/two")).toBe(sha("2\n"));
    expect(content("docs/both")).toBe(sha("1\n2\n"));
    // The #! script's mount point is not left in any layer.
    expect([...image.files.keys()].filter((p) => p.startsWith("run"))).toEqual([]);
    expect(image.config.history?.map((h) => h.created_by)).toContain(
      'RUN |1 NAME=world /bin/sh -c echo "lone $GREETING" > /lone.txt\necho second line >> /lone.txt # buildkit',
    );
  });

  it("binds context files, a stage's directory and rw copies into RUN --mount=type=bind, never into a layer", async () => {
    const dockerfile = [
      `FROM ${base} AS tools`,
      'RUN mkdir -p /opt/tools && echo "tool v1" > /opt/tools/version',
      `FROM ${base}`,
      "RUN --mount=type=bind,target=/ctx cat /ctx/input.txt > /from-context.txt && ls -a /ctx > /ctx-list.txt",
      "RUN --mount=type=bind,source=input.txt,target=/in.txt cat /in.txt > /single.txt",
      "RUN --mount=type=bind,from=tools,source=/opt/tools,target=/t cat /t/version > /from-stage.txt",
      "RUN --mount=type=bind,target=/ctx,rw echo scribble > /ctx/input.txt && cat /ctx/input.txt > /rw.txt",
      "RUN --mount=type=bind,target=/ctx (touch /ctx/new 2>/dev/null && echo writable || echo read-only) > /ro.txt",
      "",
    ].join("\n");
    const files = {
      "input.txt": "from the context\n",
      "secret.log": "ignored\n",
      ".dockerignore": "*.log\n",
    };
    const { image, ctx, json } = await build(dockerfile, files);
    const content = (path: string) => image.files.get(path)?.content;
    expect(content("from-context.txt")).toBe(sha("from the context\n"));
    expect(content("ctx-list.txt")).toBe(sha(".\n..\n.dockerignore\nDockerfile\ninput.txt\n"));
    expect(content("single.txt")).toBe(sha("from the context\n"));
    expect(content("from-stage.txt")).toBe(sha("tool v1\n"));
    expect(content("rw.txt")).toBe(sha("scribble\n"));
    expect(content("ro.txt")).toBe(sha("read-only\n"));
    for (const mountPoint of ["ctx", "in.txt", "t", "opt"])
      expect(image.files.has(mountPoint)).toBe(false);
    // The rw mount wrote to a copy: the context is as it was.
    expect(await readFile(join(ctx, "input.txt"), "utf8")).toBe("from the context\n");
    expect(json.stepsRun).toBe(6);

    // A changed context file re-runs the first step that binds it (same parent, same command:
    // only the mount's content differs), and what follows; the tools stage stays cached.
    await writeFile(join(ctx, "input.txt"), "changed\n");
    const again = await berthOk(
      ["build", "--cache-dir", join(work, "cache"), "--format", "json", "--progress", "plain", ctx],
      { env: EPOCH },
    );
    expect(JSON.parse(again.stdout)).toMatchObject({ stepsRun: 5, stepsCached: 1 });
  });

  it("reuses a COPY --link layer when the base changes, and re-runs a plain COPY", async () => {
    const other = await build(`FROM ${base}\nRUN echo other > /marker\n`);
    const dockerfile = "ARG BASE\nFROM $BASE\nCOPY --link app.txt /app/\nCOPY plain.txt /plain/\n";
    const files = { "app.txt": "app\n", "plain.txt": "plain\n" };
    const first = await build(dockerfile, files, ["--build-arg", `BASE=${base}`]);
    expect(first.json).toMatchObject({ stepsRun: 2, stepsCached: 0 });
    const second = await build(dockerfile, files, ["--build-arg", `BASE=oci:${other.out}:1`]);
    expect(second.json).toMatchObject({ stepsRun: 1, stepsCached: 1 });
    const [linkA, plainA] = first.image.layerDigests.slice(-2);
    const [linkB, plainB] = second.image.layerDigests.slice(-2);
    expect(linkB).toBe(linkA);
    // The plain COPY ran again (stepsRun 1) though it made the same bytes.
    expect(plainB).toBe(plainA);
    expect(second.image.files.get("app/app.txt")?.content).toBe(sha("app\n"));
    expect(second.image.files.has("marker")).toBe(true);
  });

  it("runs a base image's ONBUILD triggers when it is used as a base, and does not pass them on", async () => {
    const parent = await build(
      [
        `FROM ${base}`,
        "ONBUILD COPY app.txt /app/",
        'ONBUILD RUN echo "built from $(cat /app/app.txt)" > /onbuild.txt',
        "ONBUILD ENV TRIGGERED=yes",
        "",
      ].join("\n"),
    );
    expect(onBuild(parent.image.config)).toEqual([
      "COPY app.txt /app/",
      'RUN echo "built from $(cat /app/app.txt)" > /onbuild.txt',
      "ENV TRIGGERED=yes",
    ]);
    // The parent itself did not run them.
    expect(parent.image.files.has("onbuild.txt")).toBe(false);

    const child = await build(`FROM oci:${parent.out}:1\nRUN test "$TRIGGERED" = yes\n`, {
      "app.txt": "the child's app\n",
    });
    expect(child.image.files.get("app/app.txt")?.content).toBe(sha("the child's app\n"));
    expect(child.image.files.get("onbuild.txt")?.content).toBe(sha("built from the child's app\n"));
    expect(child.image.config.config?.Env).toContain("TRIGGERED=yes");
    expect(onBuild(child.image.config)).toBeUndefined();
    expect(child.json).toMatchObject({ stepsRun: 3 });
    expect(child.stderr).toContain("ONBUILD COPY app.txt /app/");

    // A trigger that fails names the FROM line and the trigger.
    const ctx = join(work, "onbuild-missing");
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, "Dockerfile"), `# no app.txt here\nFROM oci:${parent.out}:1\n`);
    const failed = await berth(
      ["build", "--cache-dir", join(work, "cache"), "--format", "json", ctx],
      { env: EPOCH },
    );
    expect(failed.code).toBe(2);
    expect(JSON.parse(failed.stdout).error.message).toMatch(
      /^Dockerfile line 2 \(FROM\): ONBUILD trigger "COPY app.txt \/app\/" of the base image: COPY source "app.txt" is not in the build context/,
    );
  });

  it("labels the image with the context's git origin (without credentials) and HEAD commit", async () => {
    const ctx = join(work, "git-ctx");
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, "Dockerfile"), `FROM ${base}\nLABEL org.example.team=core\n`);
    const git = (...args: string[]) => runOk("git", ["-C", ctx, ...args]);
    await git("init", "-q");
    await git("add", "Dockerfile");
    await git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one");
    await git("remote", "add", "origin", "https://builder:hunter2@git.example.com/team/app.git");
    const head = (await git("rev-parse", "HEAD")).stdout.trim();
    const out = join(work, "git-out");
    await berthOk(["build", "--cache-dir", join(work, "cache"), "--output", `oci:${out}:1`, ctx], {
      env: EPOCH,
    });
    const { config, configText } = await imageFiles(`oci:${out}:1`);
    expect(config.config?.Labels).toMatchObject({
      "org.opencontainers.image.source": "https://git.example.com/team/app.git",
      "org.opencontainers.image.revision": head,
      "org.example.team": "core",
    });
    expect(configText).not.toContain("hunter2");

    // --label wins over what git says; a context outside git gets no source labels.
    await berthOk(
      [
        "build",
        "--cache-dir",
        join(work, "cache"),
        "--label",
        "org.opencontainers.image.source=https://example.org/mirror",
        "--output",
        `oci:${out}:2`,
        ctx,
      ],
      { env: EPOCH },
    );
    const labelled = await imageFiles(`oci:${out}:2`);
    expect(labelled.config.config?.Labels?.["org.opencontainers.image.source"]).toBe(
      "https://example.org/mirror",
    );
    const plain = await build(`FROM ${base}\n`);
    expect(Object.keys(plain.image.config.config?.Labels ?? {})).not.toContain(
      "org.opencontainers.image.revision",
    );
  });

  it("draws the live TTY view on a terminal (--progress auto) and plain lines elsewhere", async () => {
    const ctx = join(work, "tty-ctx");
    await mkdir(ctx, { recursive: true });
    await writeFile(
      join(ctx, "Dockerfile"),
      `FROM ${base}\nRUN echo step-output && sleep 0.3\nENV DONE=1\n`,
    );
    const quote = (w: string) => `'${w.replace(/'/g, "'\\''")}'`;
    const command = [
      process.execPath,
      BERTH_BIN,
      "build",
      "--no-cache",
      "--cache-dir",
      join(work, "cache"),
      ctx,
    ]
      .map(quote)
      .join(" ");
    // util-linux `script` gives the build a real pseudo-terminal, as a person's shell would.
    const tty = await runOk("script", ["-qec", command, "/dev/null"], {
      env: { ...process.env, ...EPOCH },
      timeoutMs: 120_000,
    });
    expect(tty.stdout).toMatch(new RegExp(`${ESC}\\[\\d+F`));
    expect(tty.stdout).toContain("FINISHED");
    expect(tty.stdout).toMatch(/#2 \[stage-0\] RUN echo step-output && sleep 0\.3 +DONE \d+\.\ds/);
    expect(tty.stdout).toContain(" => > step-output");

    const plain = await berthOk(["build", "--no-cache", "--cache-dir", join(work, "cache"), ctx], {
      env: EPOCH,
    });
    expect(plain.stderr).not.toContain(`${ESC}[`);
    expect(plain.stderr).toMatch(/^#2 \[stage-0\] RUN echo step-output && sleep 0\.3 DONE/m);
  });
});
