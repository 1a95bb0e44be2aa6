// Scenarios 5 and 6 with the real client: 20 skopeo processes pushing 20 images at once
// (5 layers of 10 MiB, two shared by all), and one 50-layer image pushed and pulled.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { type LayerBlob, makeLayer, writeImageLayout } from "../images.js";
import { MiB, metric, type Scenario, timed } from "../scenario.js";

const CLIENTS = 20;

function skopeo(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("skopeo", args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`skopeo ${args.join(" ")} exited ${code}: ${err}`)),
    );
  });
}

const layoutDir = (workDir: string, name: string) => join(workDir, "layouts", name);

export const concurrentPushScenario: Scenario = {
  id: "concurrent-push",
  title: "5. 20 skopeo clients push 20 images at once (5×10 MiB layers, 2 shared)",
  freshServerPerRound: true,
  async prepare(ctx) {
    if (existsSync(join(layoutDir(ctx.workDir, `client${CLIENTS - 1}`), "index.json"))) return;
    const shared: LayerBlob[] = [
      await makeLayer("shared-a", 10 * MiB),
      await makeLayer("shared-b", 10 * MiB),
    ];
    for (let i = 0; i < CLIENTS; i++) {
      const own: LayerBlob[] = [];
      for (let j = 0; j < 3; j++) own.push(await makeLayer(`client${i}-layer${j}`, 10 * MiB));
      await writeImageLayout(layoutDir(ctx.workDir, `client${i}`), [...shared, ...own]);
    }
  },
  async run(server, ctx) {
    const seconds = await timed(() =>
      Promise.all(
        Array.from({ length: CLIENTS }, (_, i) =>
          skopeo([
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            ...(server.creds ? ["--dest-creds", server.creds] : []),
            `oci:${layoutDir(ctx.workDir, `client${i}`)}:latest`,
            `docker://${server.host}/bench/client${i}:latest`,
          ]),
        ),
      ),
    );
    return [metric("wall time", "s", seconds, false)];
  },
};

export const manyLayersScenario: Scenario = {
  id: "many-layers",
  title: "6. a 50-layer image pushed and pulled with skopeo",
  freshServerPerRound: true,
  async prepare(ctx) {
    if (existsSync(join(layoutDir(ctx.workDir, "layers50"), "index.json"))) return;
    const layers: LayerBlob[] = [];
    for (let i = 0; i < 50; i++) layers.push(await makeLayer(`many-${i}`, 1 * MiB));
    await writeImageLayout(layoutDir(ctx.workDir, "layers50"), layers);
  },
  async run(server, ctx) {
    const ref = `docker://${server.host}/bench/layers50:latest`;
    const push = await timed(() =>
      skopeo([
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        ...(server.creds ? ["--dest-creds", server.creds] : []),
        `oci:${layoutDir(ctx.workDir, "layers50")}:latest`,
        ref,
      ]),
    );
    const out = await mkdtemp(join(ctx.workDir, "pull-"));
    const pull = await timed(() =>
      skopeo([
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        ...(server.creds ? ["--src-creds", server.creds] : []),
        ref,
        `oci:${out}:latest`,
      ]),
    );
    await rm(out, { recursive: true, force: true });
    return [metric("push", "s", push, false), metric("pull", "s", pull, false)];
  },
};
