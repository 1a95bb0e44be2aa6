// Pure parts of the client and transports, without a server: challenge parsing, transport
// strings, Link pagination, auth-file lookup order (podman and docker files, repo-scoped
// entries), tar indexing with long names, and a berth-written docker archive read back both
// as a docker archive and as an OCI archive.
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseChallenge } from "../../src/client/auth.js";
import {
  fileCredentialResolver,
  normalizeAuthKey,
  storeCredential,
} from "../../src/client/credentials.js";
import { nextLink } from "../../src/client/registry-client.js";
import { isLoopbackRegistry } from "../../src/client/tls.js";
import { copyImage } from "../../src/transport/copy.js";
import { DockerArchiveWriter } from "../../src/transport/docker-archive-writer.js";
import { openImageSource, parseTransportSpec, resolveImage } from "../../src/transport/index.js";
import { TarIndex } from "../../src/transport/tar-index.js";
import { twoPlatformIndexLayout } from "../support/synthetic-images.js";

let work: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-client-pure-"));
});

afterAll(async () => {
  process.env = savedEnv;
  await rm(work, { recursive: true, force: true });
});

describe("parsing", () => {
  it("parses Bearer and Basic challenges", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: {
        realm: "https://auth.example.com/token",
        service: "registry.example.com",
        scope: "repository:a/b:pull",
      },
    });
    expect(parseChallenge('Basic realm="x"')).toEqual({ scheme: "basic", params: { realm: "x" } });
    expect(parseChallenge("Negotiate abc")).toBeUndefined();
  });

  it("parses transport strings like skopeo", () => {
    expect(parseTransportSpec("oci:/tmp/layout:1.0")).toMatchObject({
      kind: "oci",
      path: "/tmp/layout",
      tag: "1.0",
    });
    expect(parseTransportSpec("docker-archive:a.tar:foo/bar:1")).toMatchObject({
      kind: "docker-archive",
      path: "a.tar",
      reference: "foo/bar:1",
    });
    expect(parseTransportSpec("docker-archive:a.tar:@2")).toMatchObject({ index: 2 });
    expect(parseTransportSpec("localhost:5000/app:1")).toMatchObject({
      kind: "registry",
      reference: { registry: "localhost:5000", repository: "app", tag: "1" },
    });
    expect(parseTransportSpec("docker://alpine")).toMatchObject({
      reference: { registry: "docker.io", repository: "library/alpine" },
    });
    expect(() => parseTransportSpec("oci:")).toThrow(/names no path/);
  });

  it("refuses transports it does not know, naming the known ones; keeps host:port and repo:tag", () => {
    for (const text of [
      "unknown-transport:./foo",
      "unknown-transport:/abs/path",
      "dir:/tmp/x",
      "containers-storage:alpine",
      "docker-daemon:alpine:latest",
      "http://example.com/app",
      "oci://dir",
    ]) {
      expect(() => parseTransportSpec(text), text).toThrow(
        /which berth does not know; use docker:\/\/, oci:, oci-archive:, docker-archive:/,
      );
    }
    expect(parseTransportSpec("myhost:5000/team/app")).toMatchObject({
      reference: { registry: "myhost:5000", repository: "team/app" },
    });
    expect(parseTransportSpec("localhost/app")).toMatchObject({
      reference: { registry: "localhost", repository: "app" },
    });
    expect(parseTransportSpec("[::1]:5000/app:1")).toMatchObject({ kind: "registry" });
    expect(parseTransportSpec(`reg.example/app:1@sha256:${"a".repeat(64)}`)).toMatchObject({
      reference: { tag: "1", digest: `sha256:${"a".repeat(64)}` },
    });
  });

  it("refuses short names (no registry host) instead of guessing Docker Hub; docker:// normalises", () => {
    for (const [text, qualified] of [
      ["unknown-transport:foo", "docker.io/library/unknown-transport:foo"],
      ["alpine:3.20", "docker.io/library/alpine:3.20"],
      ["alpine", "docker.io/library/alpine"],
      ["eclipse-temurin:21", "docker.io/library/eclipse-temurin:21"],
      ["team/app:1", "docker.io/team/app:1"],
      ["localhost:5000", "docker.io/library/localhost:5000"],
    ] as const) {
      expect(() => parseTransportSpec(text), text).toThrow(
        `"${text}" names no registry host and no transport berth knows (docker://, oci:, oci-archive:, docker-archive:); berth does not guess a registry for a short name: write e.g. ${qualified}`,
      );
    }
    expect(parseTransportSpec("docker://alpine:3.20")).toMatchObject({
      kind: "registry",
      reference: { registry: "docker.io", repository: "library/alpine", tag: "3.20" },
    });
    expect(parseTransportSpec("docker://unknown-transport:foo")).toMatchObject({
      reference: { repository: "library/unknown-transport", tag: "foo" },
    });
    expect(parseTransportSpec("docker.io/library/alpine:3.20")).toMatchObject({
      reference: { registry: "docker.io", repository: "library/alpine", tag: "3.20" },
    });
  });

  it("follows Link headers and knows loopback hosts", () => {
    expect(nextLink('</v2/a/tags/list?n=2&last=b>; rel="next"', "http://r")).toBe(
      "/v2/a/tags/list?n=2&last=b",
    );
    expect(nextLink(undefined, "http://r")).toBeUndefined();
    for (const h of ["localhost:5000", "127.0.0.1", "127.1.2.3:80", "[::1]:5000"])
      expect(isLoopbackRegistry(h)).toBe(true);
    for (const h of ["registry.example.com", "10.0.0.1:5000", "localhost.example.com"])
      expect(isLoopbackRegistry(h)).toBe(false);
  });
});

describe("credential files", () => {
  it("reads podman's auth.json before docker's config.json, and repo-scoped entries", async () => {
    const home = join(work, "home");
    const runtime = join(work, "run");
    await mkdir(join(runtime, "containers"), { recursive: true });
    await mkdir(join(home, ".docker"), { recursive: true });
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    await writeFile(
      join(runtime, "containers", "auth.json"),
      JSON.stringify({ auths: { "reg.example.com/team": { auth: b64("team:t") } } }),
    );
    await writeFile(
      join(home, ".docker", "config.json"),
      JSON.stringify({
        auths: {
          "https://reg.example.com": { auth: b64("docker:d") },
          "https://index.docker.io/v1/": { auth: b64("hub:h") },
        },
      }),
    );
    process.env = {
      ...savedEnv,
      HOME: home,
      XDG_RUNTIME_DIR: runtime,
      XDG_CONFIG_HOME: join(home, ".config"),
    };
    delete process.env.REGISTRY_AUTH_FILE;
    delete process.env.DOCKER_CONFIG;
    const resolve = fileCredentialResolver();
    expect(await resolve("reg.example.com", "team/app")).toEqual({
      username: "team",
      password: "t",
    });
    expect(await resolve("reg.example.com", "other/app")).toEqual({
      username: "docker",
      password: "d",
    });
    expect(await resolve("docker.io", "library/alpine")).toEqual({
      username: "hub",
      password: "h",
    });
    expect(await resolve("unknown.example.com")).toBeUndefined();

    const authFile = join(work, "explicit.json");
    process.env.REGISTRY_AUTH_FILE = authFile;
    await storeCredential("reg.example.com", { username: "new", password: "n" });
    expect(await fileCredentialResolver()("reg.example.com")).toEqual({
      username: "new",
      password: "n",
    });
    expect(normalizeAuthKey("https://registry-1.docker.io/v2/")).toBe("docker.io");
  });
});

describe("archives", () => {
  it("indexes tars with long (GNU/pax) names and reads entries by range", async () => {
    const file = join(work, "long.tar");
    const pack = tar.pack();
    const longName = `${"d".repeat(120)}/${"f".repeat(130)}.txt`;
    pack.entry({ name: longName }, "hello long name");
    pack.entry({ name: "short.txt" }, "short");
    pack.finalize();
    await pipeline(pack, createWriteStream(file));
    const index = await TarIndex.open(file);
    const entry = index.find(longName);
    expect(entry).toBeDefined();
    if (entry) expect((await index.readSmall(entry)).toString()).toBe("hello long name");
    const short = index.find("./short.txt");
    if (short) expect((await index.readSmall(short)).toString()).toBe("short");
  });

  it("writes a docker archive that reads back as docker-archive and as oci-archive", async () => {
    const multi = await twoPlatformIndexLayout(join(work, "multi"), "1.0", "pure-archive");
    const file = join(work, "saved.tar");
    const writer = await DockerArchiveWriter.create(file);
    for (const platform of ["linux/amd64", "linux/arm64"]) {
      const source = await openImageSource(multi.reference);
      await copyImage(
        source,
        writer.imageDestination([`example/app:${platform.split("/")[1]}`], platform),
        { platform },
      );
      await source.close();
    }
    await writer.close();
    for (const spec of [`docker-archive:${file}:example/app:arm64`, `oci-archive:${file}:arm64`]) {
      const source = await openImageSource(spec);
      const resolved = await resolveImage(source);
      expect(resolved.platform.architecture, spec).toBe("arm64");
      expect(resolved.image.config.digest, spec).toBe(multi.images[1]?.image.config.digest);
      await source.close();
    }
    const arm = await openImageSource(`oci-archive:${file}:arm64`);
    expect((await arm.getManifest()).digest).toBe(multi.images[1]?.image.manifest.digest);
    await arm.close();
  });
});
