// The set-up shared by the `berth build` end-to-end test and bench/build.ts: a work directory,
// the CNCF reference registry on 127.0.0.1 serving Debian's static busybox as the base image,
// a secret file, copies of the multi-stage fixture (test/fixtures/build/app) and the CLI
// arguments that build it. It must never leave the registry running: stop() ends it by PID.
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeBusyboxImage } from "./busybox-image.js";
import { skopeoCopy } from "./container-tools.js";
import { type ReferenceRegistry, startReferenceRegistry } from "./reference-registry.js";

export const BUILD_FIXTURE = join(import.meta.dirname, "..", "fixtures", "build", "app");
export const BUILD_SECRET = "s3cr3t-token-7f1c2a";

export interface BuildFixture {
  readonly work: string;
  readonly registry: ReferenceRegistry;
  /** The base image reference (`127.0.0.1:PORT/base/busybox:1`). */
  readonly base: string;
  readonly secretFile: string;
  /** A fresh copy of the fixture context under the work directory. */
  context(name: string): Promise<string>;
  /** `berth build` arguments for the fixture (base build-arg, secret, cache dir), then `extra`. */
  berthArgs(ctx: string, cacheDir: string, extra?: string[]): string[];
  stop(): Promise<void>;
}

export async function startBuildFixture(prefix: string): Promise<BuildFixture> {
  const work = await mkdtemp(join(tmpdir(), prefix));
  const layout = await writeBusyboxImage(join(work, "busybox"));
  const registry = await startReferenceRegistry();
  const base = `${registry.host}/base/busybox:1`;
  await skopeoCopy(layout, `docker://${base}`);
  const secretFile = join(work, "token");
  await writeFile(secretFile, BUILD_SECRET, { mode: 0o600 });
  return {
    work,
    registry,
    base,
    secretFile,
    async context(name) {
      const dir = join(work, name);
      await cp(BUILD_FIXTURE, dir, { recursive: true });
      return dir;
    },
    berthArgs(ctx, cacheDir, extra = []) {
      return [
        "build",
        "--cache-dir",
        cacheDir,
        "--build-arg",
        `BASE=${base}`,
        "--secret",
        `id=token,src=${secretFile}`,
        ...extra,
        ctx,
      ];
    },
    async stop() {
      await registry.stop();
      await rm(work, { recursive: true, force: true });
    },
  };
}
