// `berth build`'s BuildKit-era Dockerfile features, as a user runs them (the real CLI) on the
// static busybox base read straight from an OCI layout: heredocs in RUN and COPY, each checked
// against the files BuildKit's documented semantics give. (buildah 1.28, Debian's, predates
// heredoc support, so these are checked against known contents rather than a second builder.)
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berthOk } from "../cli/berth-cli.js";
import { writeBusyboxImage } from "../support/busybox-image.js";
import { imageFiles } from "./image-files.js";

const EPOCH = { SOURCE_DATE_EPOCH: "1700000000" };
/** `$GREETING ${NAME}` as a Dockerfile writes it. */
const VARS = ["$GREETING", "$" + "{NAME}"].join(" ");

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
    return { image: await imageFiles(`oci:${out}:1`), stderr: result.stderr, ctx };
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
});
