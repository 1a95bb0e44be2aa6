// Dockerfile semantics of berth build, without a sandbox: the pure pieces (word splitting, the
// JSON form, WORKDIR/EXPOSE/HEALTHCHECK/COPY flags, history text, USER resolution, the
// published source URL) and whole FROM-scratch builds through the builder's API that check
// what Docker documents for ARG/ENV expansion and scoping, SHELL, USER, WORKDIR, CMD after
// ENTRYPOINT and .dockerignore (patterns, `!` exceptions, `**`).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildError, build } from "../../src/build/builder.js";
import { BuildContext, parseDockerignore } from "../../src/build/context.js";
import {
  commandArgv,
  copyFlags,
  createdBy,
  exposedPorts,
  jsonForm,
  parseHealthcheck,
  resolveWorkdir,
  runHistoryText,
  splitWords,
  withoutFlags,
} from "../../src/build/instructions.js";
import { resolveUser } from "../../src/build/rootfs.js";
import { BuildStore } from "../../src/build/store.js";
import { publicSourceUrl } from "../../src/cli/build.js";
import type { ImageConfig } from "../../src/oci/index.js";

/** A literal `$`, so `${D}{NAME}` is the Dockerfile text `${NAME}`. */
const D = "$";
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-instructions-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function configOf(
  dockerfile: string,
  files: Record<string, string> = {},
  buildArgs: Record<string, string> = {},
): Promise<{ config: ImageConfig; store: BuildStore; layers: number }> {
  const ctx = await mkdtemp(join(work, "ctx-"));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(ctx, name, ".."), { recursive: true });
    await writeFile(join(ctx, name), content);
  }
  const store = await BuildStore.open(join(work, "store"));
  const result = await build({
    dockerfileText: dockerfile,
    context: ctx,
    store,
    buildArgs,
    platforms: [{ os: "linux", architecture: "amd64" }],
    epoch: 1_700_000_000,
  });
  const image = result.images[0]!;
  return { config: image.config, store, layers: image.config.rootfs.diff_ids.length };
}

describe("instruction pieces", () => {
  it("splits words as the shell does and recognises the JSON form", () => {
    expect(splitWords(`a "b c" 'd $e' f\\ g`)).toEqual(["a", "b c", "d $e", "f g"]);
    expect(splitWords("a `b", "`")).toEqual(["a", "b"]);
    expect(() => splitWords('"open')).toThrow("unterminated quote");
    expect(jsonForm('["a", "b"]')).toEqual(["a", "b"]);
    expect(jsonForm("[not json]")).toBeNull();
    expect(jsonForm('["a", 1]')).toBeNull();
    expect(withoutFlags("--from=build --chown=1:1 a b")).toBe("a b");
  });

  it("applies WORKDIR relative to the current one, and SHELL to shell-form commands", () => {
    expect(resolveWorkdir(undefined, "app")).toBe("/app");
    expect(resolveWorkdir("/app", "src/../lib")).toBe("/app/lib");
    expect(resolveWorkdir("/app", "/abs")).toBe("/abs");
    expect(commandArgv("echo hi", ["/bin/bash", "-c"])).toEqual(["/bin/bash", "-c", "echo hi"]);
    expect(commandArgv('["echo", "hi"]', ["/bin/bash", "-c"])).toEqual(["echo", "hi"]);
  });

  it("reads EXPOSE, HEALTHCHECK and COPY flags, failing clearly on bad values", () => {
    expect(exposedPorts(["80", "53/udp", "8000-8001/TCP"])).toEqual([
      "80/tcp",
      "53/udp",
      "8000/tcp",
      "8001/tcp",
    ]);
    expect(() => exposedPorts(["http"])).toThrow('"http" is not a port');
    expect(
      parseHealthcheck(
        [
          { name: "interval", value: "1m30s" },
          { name: "retries", value: "2" },
        ],
        "--interval=1m30s --retries=2 CMD curl -f http://localhost/",
      ),
    ).toEqual({ Test: ["CMD-SHELL", "curl -f http://localhost/"], Interval: 90e9, Retries: 2 });
    expect(parseHealthcheck([], "NONE")).toEqual({ Test: ["NONE"] });
    expect(() => parseHealthcheck([{ name: "timeout", value: "soon" }], "CMD x")).toThrow(
      "not a duration",
    );
    expect(
      copyFlags("COPY", [
        { name: "chmod", value: "0755" },
        { name: "link", value: null },
      ]),
    ).toEqual({
      chmod: 0o755,
      link: true,
    });
    expect(() => copyFlags("COPY", [{ name: "chmod", value: "rwx" }])).toThrow("not an octal mode");
    expect(() => copyFlags("COPY", [{ name: "checksum", value: "sha256:0" }])).toThrow(
      "unknown flag --checksum",
    );
    expect(() => copyFlags("ADD", [{ name: "from", value: "x" }])).toThrow("unknown flag --from");
  });

  it("writes history as BuildKit does", () => {
    expect(createdBy("ENV", "A=1", false)).toBe("ENV A=1");
    expect(createdBy("COPY", "a /b", true)).toBe("COPY a /b # buildkit");
    expect(runHistoryText(["/bin/sh", "-c", "make"], [["V", "2"]])).toBe("|1 V=2 /bin/sh -c make");
  });

  it("resolves USER names and groups from the root's passwd and group files", async () => {
    const root = join(work, "root");
    await mkdir(join(root, "etc"), { recursive: true });
    await writeFile(
      join(root, "etc/passwd"),
      "root:x:0:0::/:/bin/sh\napp:x:1000:1001::/:/bin/sh\n",
    );
    await writeFile(join(root, "etc/group"), "root:x:0:\nstaff:x:50:\n");
    expect(await resolveUser(root, "app")).toEqual({ uid: 1000, gid: 1001 });
    expect(await resolveUser(root, "app:staff")).toEqual({ uid: 1000, gid: 50 });
    expect(await resolveUser(root, "1000")).toEqual({ uid: 1000, gid: 1001 });
    expect(await resolveUser(root, "4242:7")).toEqual({ uid: 4242, gid: 7 });
    await expect(resolveUser(root, "nobody")).rejects.toThrow("unable to find user nobody");
    await expect(resolveUser(root, "app:wheel")).rejects.toThrow("unable to find group wheel");
  });

  it("publishes a source URL without credentials", () => {
    expect(publicSourceUrl("https://me:token@git.example.com/team/app.git")).toBe(
      "https://git.example.com/team/app.git",
    );
    expect(publicSourceUrl("git@github.com:team/app.git")).toBe("ssh://github.com/team/app.git");
    expect(publicSourceUrl("/srv/git/app")).toBeUndefined();
  });
});

describe("Dockerfile semantics (FROM scratch builds)", () => {
  it("expands ARG and ENV as Docker does: build args, defaults, ENV over ARG, global ARGs only via re-declaration", async () => {
    const { config } = await configOf(
      [
        "ARG GLOBAL=g",
        "ARG UNUSED_IN_STAGE=u",
        "FROM scratch",
        "ARG GLOBAL",
        "ARG VERSION=1.0",
        "ARG NAME",
        "ENV VERSION=env-wins",
        `ENV A=${D}{VERSION} B=${D}{NAME:-anon} C=${D}{GLOBAL} D=${D}{UNUSED_IN_STAGE:-not-visible}`,
        `ENV F=${D}{NAME:+set}`,
        "LABEL version=$VERSION",
      ].join("\n"),
      {},
      { NAME: "berth" },
    );
    expect(config.config?.Env).toEqual([
      "VERSION=env-wins",
      "A=env-wins",
      "B=berth",
      "C=g",
      "D=not-visible",
      "F=set",
    ]);
    expect(config.config?.Labels?.version).toBe("env-wins");
  });

  it("keeps USER, WORKDIR, SHELL, and resets an inherited CMD on ENTRYPOINT", async () => {
    const { config } = await configOf(
      [
        "FROM scratch AS base",
        "WORKDIR /srv",
        "WORKDIR app",
        "USER 1000:1000",
        'SHELL ["/bin/bash", "-c"]',
        'CMD ["serve"]',
        "FROM base",
        "ENTRYPOINT run --fast",
      ].join("\n"),
    );
    expect(config.config?.WorkingDir).toBe("/srv/app");
    expect(config.config?.User).toBe("1000:1000");
    expect(config.config?.Entrypoint).toEqual(["/bin/bash", "-c", "run --fast"]);
    expect(config.config?.Cmd).toBeNull();
    expect(config.history?.map((h) => [h.created_by, h.empty_layer ?? false])).toContainEqual([
      "WORKDIR /srv/app",
      true,
    ]);
  });

  it("reads .dockerignore as Docker does: patterns, ** and ! exceptions", async () => {
    expect(parseDockerignore("# comment\n\n  *.log  \n!keep.log\r\n")).toEqual([
      "*.log",
      "!keep.log",
    ]);
    const ctx = join(work, "ignore-ctx");
    const files = ["a.log", "keep.log", "src/b.log", "src/deep/c.tmp", "src/main.txt", "docs/x.md"];
    for (const f of files) {
      await mkdir(join(ctx, f, ".."), { recursive: true });
      await writeFile(join(ctx, f), f);
    }
    await writeFile(join(ctx, ".dockerignore"), "*.log\n!keep.log\n**/*.tmp\ndocs\n");
    const context = await BuildContext.open(ctx);
    const kept = (await context.paths()).filter((p) => !p.endsWith("/"));
    expect(kept).toEqual([
      ".dockerignore",
      "keep.log",
      "src",
      "src/b.log",
      "src/deep",
      "src/main.txt",
    ]);
    await expect(context.match("docs/x.md")).rejects.toThrow("excluded by .dockerignore");
  });

  it("fails with a usage error naming the line on an unknown --target or a bad instruction", async () => {
    await expect(configOf("FROM scratch\nEXPOSE http\n")).rejects.toThrow(
      /Dockerfile line 2 \(EXPOSE\): EXPOSE: "http" is not a port/,
    );
    const error = await configOf("FROM scratch\nUSER\n").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).usage).toBe(true);
  });
});
