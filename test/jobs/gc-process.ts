// A garbage collection in a process of its own, held at one step so a test can kill -9 it
// there (gc-crash.test.ts). Prints "paused" when it reaches the step (then waits forever),
// or "done" if it never does. Usage: node --import tsx test/jobs/gc-process.ts DATA_DIR STEP
import { loadConfig } from "../../src/config/config.js";
import { collectGarbage, type GcStep } from "../../src/jobs/gc.js";
import { openDatabase } from "../../src/meta/index.js";
import { createBlobStore } from "../../src/storage/index.js";

const [dataDir, step] = process.argv.slice(2) as [string, GcStep];
const config = loadConfig({ env: {}, overrides: { data: dataDir } });
const meta = await openDatabase(config.database);
const store = createBlobStore(config.storage);
await collectGarbage(meta.db, store, {
  graceMs: 0,
  deleteUntagged: true,
  pauseAt: async (at) => {
    if (at !== step) return;
    process.stdout.write("paused\n");
    await new Promise(() => {});
  },
});
process.stdout.write("done\n");
await meta.close();
