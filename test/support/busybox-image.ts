// A tiny real base image for build tests: Debian's static busybox (package busybox-static) as
// /bin/busybox with the applets a shell script needs as symlinks, /etc/passwd and /etc/group
// (root and an `app` user 1000), /tmp (1777). Written as an OCI layout with its own tar code
// (tar-stream), never with Berth's builder, so build tests start from an image Berth did not
// make. Deterministic: the same busybox binary gives the same digest.
import { readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { digestOf, MediaType } from "../../src/oci/index.js";
import { hostPlatform } from "../../src/transport/index.js";
import { OciLayoutWriter } from "./oci-layout.js";
import { findExecutable } from "./tools.js";

export const BUSYBOX_APPLETS = [
  "sh",
  "cat",
  "echo",
  "ls",
  "mkdir",
  "test",
  "true",
  "false",
  "wc",
  "id",
  "env",
  "sleep",
  "rm",
  "cp",
  "touch",
  "grep",
  "sed",
  "printf",
  "chmod",
  "[",
];

type EntryHeader = Parameters<tar.Pack["entry"]>[0];

async function tarOf(entries: { header: EntryHeader; content?: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on("data", (c: unknown) => chunks.push(Buffer.from(c as Uint8Array)));
    pack.on("end", () => resolve(Buffer.concat(chunks)));
    pack.on("error", reject);
  });
  for (const e of entries) pack.entry(e.header, e.content ?? Buffer.alloc(0));
  pack.finalize();
  return done;
}

/** Writes the busybox image into layout directory `dir`, tagged `tag`; returns `oci:dir:tag`. */
export async function writeBusyboxImage(dir: string, tag = "1"): Promise<string> {
  const path = findExecutable("busybox");
  if (!path)
    throw new Error(
      "busybox is missing: install Debian's busybox-static (scripts/install-test-deps.sh)",
    );
  const binary = await readFile(path);
  const mtime = new Date(1_600_000_000_000);
  const dirEntry = (name: string, mode = 0o755) => ({
    header: { name: `${name}/`, type: "directory" as const, mode, mtime, uid: 0, gid: 0 },
  });
  const file = (name: string, content: Buffer, mode = 0o644) => ({
    header: { name, type: "file" as const, mode, mtime, uid: 0, gid: 0, size: content.length },
    content,
  });
  const entries = [
    dirEntry("bin"),
    file("bin/busybox", binary, 0o755),
    ...BUSYBOX_APPLETS.map((a) => ({
      header: {
        name: `bin/${a}`,
        type: "symlink" as const,
        linkname: "busybox",
        mode: 0o777,
        mtime,
        uid: 0,
        gid: 0,
      },
    })),
    dirEntry("etc"),
    file("etc/group", Buffer.from("root:x:0:\napp:x:1000:\n")),
    file(
      "etc/passwd",
      Buffer.from("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"),
    ),
    dirEntry("tmp", 0o1777),
    dirEntry("usr"),
    dirEntry("usr/local"),
    dirEntry("usr/local/bin"),
  ];
  const layerTar = await tarOf(entries);
  const gz = gzipSync(layerTar);
  const layout = await OciLayoutWriter.create(dir);
  const layer = await layout.writeBlob(gz, MediaType.OciLayerGzip);
  const config = await layout.writeJson(
    {
      created: "2020-09-13T12:26:40Z",
      architecture: hostPlatform().architecture,
      os: "linux",
      config: { Env: ["PATH=/usr/local/bin:/bin"], Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: [digestOf(layerTar)] },
      history: [{ created: "2020-09-13T12:26:40Z", created_by: "busybox-static test base" }],
    },
    MediaType.OciConfig,
  );
  const manifest = await layout.writeJson(
    { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] },
    MediaType.OciManifest,
  );
  layout.addManifest(manifest, tag);
  await layout.finish();
  return `oci:${dir}:${tag}`;
}
