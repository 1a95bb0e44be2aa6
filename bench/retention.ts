// Benchmark for a retention dry run over 10,000 tags (issue 11: "well under a second of
// CPU"): one project, 10 repositories × 1,000 tagged manifests (with index children and
// signatures sprinkled in), stored in a real SQLite metadata database, three OR-combined
// rules and two immutability rules. Reports the CPU time of the whole dry run (reading the
// facts from the database + evaluating) and of the pure evaluation alone, first pass and
// warmed up. Run by hand: `node --import tsx bench/retention.ts [tags]`. Not part of npm test.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  addImmutableRule,
  listImmutableRules,
  openDatabase,
  putManifest,
} from "../src/meta/index.js";
import { digestOf } from "../src/oci/index.js";
import { ImmutableTags } from "../src/policy/immutable-tags.js";
import { evaluateRetention, parseRetentionPolicy } from "../src/policy/retention.js";
import { readProjectFacts, runRetention } from "../src/policy/retention-run.js";
import { cronProblem } from "../src/policy/service.js";
import { ManifestCache, RegistryEvents } from "../src/registry/index.js";

const TAGS = Number(process.argv[2] ?? 10_000);
const REPOS = 10;
const DAY = 24 * 3600 * 1000;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "berth-bench-retention-"));
  const meta = await openDatabase({ driver: "sqlite", path: join(dir, "meta.db") });
  const now = Date.now();
  const perRepo = Math.ceil(TAGS / REPOS);
  for (let r = 0; r < REPOS; r++) {
    const repository = `bench/app${r}`;
    for (let i = 0; i < perRepo; i++) {
      const content = Buffer.from(JSON.stringify({ schemaVersion: 2, r, i }));
      const digest = digestOf(content);
      await putManifest(meta.db, {
        repository,
        digest,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        content,
        references: [],
        tag: i % 3 === 0 ? `v1.${i}` : i % 3 === 1 ? `dev-${i}` : `sha-${i}`,
      });
      await meta.db
        .updateTable("manifests")
        .set({
          pushed_at: now - i * 3600_000,
          pulled_at: i % 5 === 0 ? now - (i % 40) * DAY : null,
        })
        .where("digest", "=", digest)
        .execute();
    }
  }
  await addImmutableRule(meta.db, {
    project: "bench",
    repositoryPattern: "**",
    tagPattern: "v1.9*",
    createdBy: "bench",
  });
  await addImmutableRule(meta.db, {
    project: "bench",
    repositoryPattern: "app1",
    tagPattern: "release-*",
    createdBy: "bench",
  });
  const rules = parseRetentionPolicy(
    {
      rules: [
        { tags: { matching: "v*" }, retain: { mostRecentlyPushed: 100 } },
        { tags: { excluding: "dev-*" }, retain: { pulledWithinDays: 14 } },
        {
          repositories: { matching: "app{1,2,3}" },
          tags: { matching: "**", untagged: true },
          retain: { pushedWithinDays: 7 },
        },
      ],
    },
    cronProblem,
  ).rules;
  const services = {
    db: meta.db,
    config: { trash: { keepMs: 0 } },
    events: new RegistryEvents(),
    manifestCache: new ManifestCache(0),
    admission: new ImmutableTags(meta.db),
  };
  const who = { principal: "bench", remoteAddress: "local" };
  for (const pass of ["first", "warm"]) {
    const start = cpuMs();
    const wall = performance.now();
    const report = await runRetention(services, "bench", rules, { dryRun: true, who, now });
    const total = cpuMs() - start;
    const facts = await readProjectFacts(meta.db, "bench");
    const immutable = await listImmutableRules(meta.db, "bench");
    const evalStart = cpuMs();
    evaluateRetention({ rules, repositories: facts, immutable, now });
    const evalCpu = cpuMs() - evalStart;
    console.log(
      `${pass}: dry run over ${TAGS} tags in ${REPOS} repositories: ${total.toFixed(0)} ms CPU ` +
        `(${(performance.now() - wall).toFixed(0)} ms wall; evaluation alone ${evalCpu.toFixed(0)} ms CPU); ` +
        `would delete ${report.deleted.length}, retain ${report.retained.length}`,
    );
  }
  await meta.close();
  rmSync(dir, { recursive: true, force: true });
}

await main();
