// `berth build`'s ADD, as a user runs it (the real CLI), compared with `buildah bud` of the same
// Dockerfile: local tar archives (plain, gzip, bzip2, xz) are unpacked with their owners,
// modes, symlinks and hard links; a file that merely looks compressed is copied as it is; an
// http URL served by a local 127.0.0.1 server is fetched (never unpacked). Then the errors:
// an unreachable URL, a 404, a checksum mismatch, a git source, each a clear message.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth, berthOk } from "../cli/berth-cli.js";
import { buildah, privateContainerStorage } from "../support/container-tools.js";
import { freePort, runOk } from "../support/process-control.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import { imageFiles } from "./image-files.js";

const EPOCH = { SOURCE_DATE_EPOCH: "1700000000" };

describe("berth build ADD", { timeout: 240_000 }, () => {
  let work: string;
  let ctx: string;
  let server: Server;
  let origin: string;
  let registry: ReferenceRegistry;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-add-"));
    ctx = join(work, "ctx");
    const tree = join(work, "tree");
    await mkdir(join(tree, "pkg", "bin"), { recursive: true });
    await writeFile(join(tree, "pkg", "bin", "tool"), "#!/bin/sh\necho tool\n", { mode: 0o750 });
    await writeFile(join(tree, "pkg", "README"), "read me\n", { mode: 0o640 });
    await runOk("ln", ["-s", "bin/tool", join(tree, "pkg", "tool-link")]);
    await runOk("ln", [join(tree, "pkg", "README"), join(tree, "pkg", "README.hard")]);
    await mkdir(ctx);
    const tarArgs = (file: string) => [
      "--owner=1234",
      "--group=5678",
      "--numeric-owner",
      "--mtime=@1600000000",
      "--sort=name",
      "-C",
      tree,
      "-cf",
      file,
      "pkg",
    ];
    await runOk("tar", tarArgs(join(ctx, "plain.tar")));
    const plain = await readFile(join(ctx, "plain.tar"));
    await writeFile(join(ctx, "app.tar.gz"), gzipSync(plain));
    await runOk("sh", ["-c", `bzip2 -c '${ctx}/plain.tar' > '${ctx}/app.tar.bz2'`]);
    await runOk("sh", ["-c", `xz -c '${ctx}/plain.tar' > '${ctx}/app.tar.xz'`]);
    // Compressed, but not a tar: ADD copies it as it is.
    await writeFile(join(ctx, "notes.txt.gz"), gzipSync(Buffer.from("just notes\n")));
    await writeFile(join(ctx, "named.tar"), "not really a tar\n");

    server = createServer((req, res) => {
      if (req.url === "/dl/tool.tar.gz") {
        res.writeHead(200, { "last-modified": "Tue, 14 Nov 2023 22:13:20 GMT" });
        res.end(gzipSync(plain));
      } else if (req.url === "/dl/readme.txt") res.end("remote readme\n");
      else {
        res.writeHead(404);
        res.end("no such file\n");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    registry = await startReferenceRegistry();
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function dockerfile(text: string): Promise<void> {
    await writeFile(join(ctx, "Dockerfile"), text);
  }

  function buildArgs(extra: string[] = []): string[] {
    return [
      "build",
      "--cache-dir",
      join(work, "cache"),
      "--format",
      "json",
      "--progress",
      "plain",
      ...extra,
      ctx,
    ];
  }

  it("unpacks local tar archives (plain, gzip, bzip2, xz) and fetches URLs, as buildah bud does", async () => {
    await dockerfile(
      [
        "FROM scratch",
        "ADD plain.tar /t/",
        "ADD app.tar.gz /gz",
        "ADD app.tar.bz2 /bz2/",
        "ADD app.tar.xz /xz/",
        "ADD notes.txt.gz named.tar /files/",
        `ADD ${origin}/dl/tool.tar.gz /remote/`,
        `ADD ${origin}/dl/readme.txt /remote/readme.txt`,
        "",
      ].join("\n"),
    );
    await berthOk(buildArgs(["-t", `${registry.host}/add/berth:1`]), { env: EPOCH });
    const ours = await imageFiles(`docker://${registry.host}/add/berth:1`);

    const storage = await privateContainerStorage();
    try {
      await buildah(storage, [
        "bud",
        "--isolation",
        "chroot",
        "--format",
        "docker",
        "-t",
        "localhost/add:buildah",
        ctx,
      ]);
      await buildah(storage, [
        "push",
        "--tls-verify=false",
        "localhost/add:buildah",
        `docker://${registry.host}/add/buildah:1`,
      ]);
    } finally {
      await storage.remove();
    }
    const theirs = await imageFiles(`docker://${registry.host}/add/buildah:1`);
    expect(Object.fromEntries(ours.files)).toEqual(Object.fromEntries(theirs.files));

    // What that comparison covers, spelled out.
    for (const dir of ["t", "gz", "bz2", "xz"]) {
      expect(ours.files.get(`${dir}/pkg/bin/tool`)).toMatchObject({
        type: "file",
        mode: "750",
        owner: "1234:5678",
      });
      expect(ours.files.get(`${dir}/pkg/tool-link`)).toMatchObject({
        type: "symlink",
        content: "bin/tool",
      });
      expect(ours.files.get(`${dir}/pkg/README.hard`)).toMatchObject({
        type: "hardlink",
        content: `${dir}/pkg/README`,
      });
    }
    expect(ours.files.get("files/notes.txt.gz")?.type).toBe("file");
    expect(ours.files.get("files/named.tar")?.type).toBe("file");
    // A URL is fetched, never unpacked; Docker gives it mode 0600.
    expect(ours.files.get("remote/tool.tar.gz")).toMatchObject({ type: "file", mode: "600" });
    expect(ours.files.has("remote/pkg/README")).toBe(false);
    expect(ours.files.get("remote/readme.txt")).toMatchObject({ mode: "600", owner: "0:0" });
  });

  it("fails clearly on an unreachable URL, a 404, a checksum mismatch and a git source", async () => {
    const closed = await freePort();
    const cases: [string, RegExp][] = [
      [
        `ADD http://127.0.0.1:${closed}/x.tar /x`,
        /line 2 \(ADD\): ADD http:\/\/127\.0\.0\.1:\d+\/x\.tar: cannot fetch it \(ECONNREFUSED/,
      ],
      [`ADD ${origin}/dl/missing.txt /m`, /answered 404/],
      [
        `ADD --checksum=sha256:${"0".repeat(64)} ${origin}/dl/readme.txt /r`,
        /checksum mismatch: --checksum says sha256:0+, the content is sha256:[0-9a-f]{64}/,
      ],
      ["ADD git@github.com:example/repo.git /src", /git repository is not supported/],
      ["ADD --checksum=sha256:abc plain.tar /p", /--checksum needs exactly one http\(s\) source/],
    ];
    for (const [line, message] of cases) {
      await dockerfile(`FROM scratch\n${line}\n`);
      const result = await berth(buildArgs(), { env: EPOCH });
      expect(result.code, line).not.toBe(0);
      expect(JSON.parse(result.stdout).error.message, line).toMatch(message);
    }

    const readme = createHash("sha256").update("remote readme\n").digest("hex");
    await dockerfile(`FROM scratch\nADD --checksum=sha256:${readme} ${origin}/dl/readme.txt /r\n`);
    await berthOk(buildArgs(["--output", `oci:${join(work, "sum")}:1`]), { env: EPOCH });
    const image = await imageFiles(`oci:${join(work, "sum")}:1`);
    expect(image.files.get("r")).toMatchObject({ type: "file", content: readme });
  });
});
