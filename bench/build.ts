// `node --import tsx bench/build.ts [--rounds N]`: `berth build` against `buildah bud
// --isolation chroot --layers` on the same machine in the same run, alternating rounds, on the
// multi-stage test fixture (test/fixtures/build/app: cache mount, secret mount, three stages,
// seven layer steps) whose base (Debian's static busybox, test/support/busybox-image.ts) both
// pull from one CNCF reference registry on 127.0.0.1.
//   cold: a fresh cache / container storage each round (the base is pulled too);
//   warm: the same build again with nothing changed (every step cached);
//   source change: one source file edited, so only the steps after its COPY run again.
// Prints each tool's median wall time, the ratio (buildah / berth: > 1 means berth is faster)
// and the peak RSS of each (GNU time's maximum resident set size, which covers the tool and
// the processes it waited for). Run by hand (as root, like the build tests); asserts nothing.
import { spawn } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { build } from "../src/build/builder.js";
import { BuildStore } from "../src/build/store.js";
import { hostPlatform } from "../src/transport/index.js";
import { BERTH_BIN } from "../test/support/berth-process.js";
import { startBuildFixture } from "../test/support/build-fixture.js";

const GNU_TIME = "/usr/bin/time";

interface Sample {
  seconds: number;
  peakKiB: number;
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

/** Runs a command under GNU time; fails with its output unless it exits 0. */
function measured(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(GNU_TIME, ["-f", "BENCH-RSS %M", command, ...args], {
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rss = /BENCH-RSS (\d+)/.exec(stderr);
      if (code !== 0 || !rss) {
        reject(new Error(`${command} ${args.join(" ")} exited ${code}:\n${stderr.slice(-3000)}`));
        return;
      }
      resolve({ seconds, peakKiB: Number(rss[1]) });
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const rounds = argValue("--rounds", 3);
  const fixture = await startBuildFixture("berth-bench-build-");
  const { work, base, secretFile: secret } = fixture;
  try {
    const env = { ...process.env, SOURCE_DATE_EPOCH: "1700000000" };

    const berth = (ctx: string, cacheDir: string) =>
      measured(
        process.execPath,
        [
          BERTH_BIN,
          ...fixture.berthArgs(ctx, cacheDir, [
            "--progress",
            "quiet",
            "--plain-http",
            "--output",
            `oci:${join(work, "berth-out")}:1`,
          ]),
        ],
        env,
      );
    const buildah = (ctx: string, storage: string) =>
      measured(
        "buildah",
        [
          "--root",
          join(storage, "root"),
          "--runroot",
          join(storage, "runroot"),
          "--storage-driver",
          "vfs",
          "bud",
          "--isolation",
          "chroot",
          "--layers",
          "--quiet",
          "--tls-verify=false",
          "--build-arg",
          `BASE=${base}`,
          "--secret",
          `id=token,src=${secret}`,
          "-t",
          "localhost/bench:1",
          ctx,
        ],
        { ...env, STORAGE_DRIVER: "vfs", TMPDIR: work },
      );

    const results: Record<string, Record<"berth" | "buildah", Sample[]>> = {
      cold: { berth: [], buildah: [] },
      warm: { berth: [], buildah: [] },
      "source change": { berth: [], buildah: [] },
    };
    for (let round = 0; round < rounds; round++) {
      for (const tool of round % 2 === 0
        ? (["berth", "buildah"] as const)
        : (["buildah", "berth"] as const)) {
        const ctx = await fixture.context(`ctx-${tool}-${round}`);
        const state = join(work, `state-${tool}-${round}`);
        const once = tool === "berth" ? () => berth(ctx, state) : () => buildah(ctx, state);
        results.cold![tool].push(await once());
        results.warm![tool].push(await once());
        await writeFile(join(ctx, "src", "main.txt"), `changed in round ${round}\n`);
        results["source change"]![tool].push(await once());
        await rm(state, { recursive: true, force: true });
        process.stderr.write(`round ${round + 1}/${rounds}: ${tool} done\n`);
      }
    }

    // The engine alone on a fully cached rebuild (no CLI start-up): build() in this process.
    const ctx = await fixture.context("ctx-engine");
    const store = await BuildStore.open(join(work, "engine-cache"));
    const options = {
      dockerfileText: await readFile(join(ctx, "Dockerfile"), "utf8"),
      context: ctx,
      store,
      buildArgs: { BASE: base },
      secrets: new Map([["token", secret]]),
      platforms: [hostPlatform()],
      epoch: 1_700_000_000,
      registry: { plainHttp: true },
    };
    await build(options);
    const engine: number[] = [];
    for (let i = 0; i < Math.max(3, rounds); i++) {
      const t = process.hrtime.bigint();
      const r = await build(options);
      engine.push(Number(process.hrtime.bigint() - t) / 1e9);
      if (r.stepsRun !== 0) throw new Error(`the cached rebuild ran ${r.stepsRun} steps`);
    }

    console.log(`berth build vs buildah bud --layers (chroot), ${rounds} rounds, medians`);
    console.log(
      "| build | berth | buildah | buildah / berth | berth peak RSS | buildah peak RSS |",
    );
    console.log("|---|---|---|---|---|---|");
    for (const [name, r] of Object.entries(results)) {
      const b = median(r.berth.map((s) => s.seconds));
      const h = median(r.buildah.map((s) => s.seconds));
      const rss = (s: Sample[]) =>
        `${(Math.max(...s.map((x) => x.peakKiB)) / 1024).toFixed(0)} MiB`;
      console.log(
        `| ${name} | ${b.toFixed(2)} s | ${h.toFixed(2)} s | ${(h / b).toFixed(2)}× | ${rss(r.berth)} | ${rss(r.buildah)} |`,
      );
    }
    console.log(
      `fully cached rebuild, berth's engine in-process (no CLI start-up): median ${median(engine).toFixed(3)} s`,
    );
  } finally {
    await fixture.stop();
  }
}

await main();
