// Retention over a fixture repository with known push and pull times (set directly in a real
// SQLite metadata database, the clock injected): the dry run must equal the list computed by
// hand below, and the real run must delete exactly that through registry/deletion.ts, with
// immutable tags surviving. Plus the rules-file validation and the evaluator's reasons.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  addImmutableRule,
  type MetaDatabase,
  openDatabase,
  putManifest,
  repositoryFacts,
} from "../../src/meta/index.js";
import { digestOf } from "../../src/oci/index.js";
import { ImmutableTags } from "../../src/policy/immutable-tags.js";
import {
  parseRetentionPolicy,
  type RetentionRule,
  RetentionRuleError,
} from "../../src/policy/retention.js";
import { runRetention } from "../../src/policy/retention-run.js";
import { cronProblem } from "../../src/policy/service.js";
import { ManifestCache, RegistryEvents } from "../../src/registry/index.js";

const DAY = 24 * 3600 * 1000;
const NOW = Date.UTC(2026, 0, 31);
let meta: MetaDatabase;
let dir: string;
const d: Record<string, string> = {};
const deletedEvents: string[] = [];

interface Fixture {
  name: string;
  repository: string;
  tags: string[];
  pushedDaysAgo: number;
  pulledDaysAgo: number | null;
  subject?: string;
  children?: string[];
}

const FIXTURE: Fixture[] = [
  { name: "c1", repository: "fx/app", tags: [], pushedDaysAgo: 50, pulledDaysAgo: null },
  { name: "c2", repository: "fx/app", tags: [], pushedDaysAgo: 50, pulledDaysAgo: null },
  { name: "m1", repository: "fx/app", tags: ["v1"], pushedDaysAgo: 30, pulledDaysAgo: 1 },
  { name: "m2", repository: "fx/app", tags: ["v2"], pushedDaysAgo: 20, pulledDaysAgo: null },
  { name: "m3", repository: "fx/app", tags: ["v3"], pushedDaysAgo: 10, pulledDaysAgo: 15 },
  {
    name: "m4",
    repository: "fx/app",
    tags: ["latest", "v4"],
    pushedDaysAgo: 2,
    pulledDaysAgo: null,
  },
  { name: "m5", repository: "fx/app", tags: ["dev-1"], pushedDaysAgo: 40, pulledDaysAgo: 40 },
  { name: "m6", repository: "fx/app", tags: [], pushedDaysAgo: 5, pulledDaysAgo: null },
  {
    name: "idx",
    repository: "fx/app",
    tags: ["multi"],
    pushedDaysAgo: 50,
    pulledDaysAgo: null,
    children: ["c1", "c2"],
  },
  {
    name: "sig",
    repository: "fx/app",
    tags: ["sha256-m2.sig"],
    pushedDaysAgo: 19,
    pulledDaysAgo: null,
    subject: "m2",
  },
  {
    name: "s1",
    repository: "fx/tmp/scratch",
    tags: ["x"],
    pushedDaysAgo: 100,
    pulledDaysAgo: null,
  },
];

const RULES = parseRetentionPolicy(
  {
    rules: [
      {
        repositories: { matching: "**" },
        tags: { matching: "v*" },
        retain: { mostRecentlyPushed: 2 },
      },
      {
        repositories: { matching: "app" },
        tags: { matching: "**" },
        retain: { pulledWithinDays: 7 },
      },
      {
        repositories: { excluding: "tmp/**" },
        tags: { excluding: "dev-*", untagged: true },
        retain: { pushedWithinDays: 3 },
      },
    ],
  },
  cronProblem,
).rules;

async function store(f: Fixture): Promise<void> {
  const content = Buffer.from(JSON.stringify({ schemaVersion: 2, fixture: f.name }));
  d[f.name] = digestOf(content);
  await putManifest(meta.db, {
    repository: f.repository,
    digest: d[f.name]!,
    mediaType: f.children
      ? "application/vnd.oci.image.index.v1+json"
      : "application/vnd.oci.image.manifest.v1+json",
    content,
    subjectDigest: f.subject ? d[f.subject] : undefined,
    references: (f.children ?? []).map((c) => ({ kind: "manifest" as const, digest: d[c]! })),
  });
  const row = await meta.db
    .selectFrom("manifests")
    .select("id")
    .where("digest", "=", d[f.name]!)
    .executeTakeFirstOrThrow();
  for (const tag of f.tags) {
    await meta.db
      .insertInto("tags")
      .values({
        repository_id: (await repoId(f.repository))!,
        name: tag,
        manifest_id: row.id,
        created_at: 0,
        updated_at: 0,
      })
      .execute();
  }
  await meta.db
    .updateTable("manifests")
    .set({
      pushed_at: NOW - f.pushedDaysAgo * DAY,
      pulled_at: f.pulledDaysAgo === null ? null : NOW - f.pulledDaysAgo * DAY,
    })
    .where("id", "=", row.id)
    .execute();
}

async function repoId(name: string) {
  return (
    await meta.db
      .selectFrom("repositories")
      .select("id")
      .where("name", "=", name)
      .executeTakeFirst()
  )?.id;
}

function services() {
  const events = new RegistryEvents();
  events.on("manifest.deleted", (e) => deletedEvents.push(e.digest));
  return {
    db: meta.db,
    config: { trash: { keepMs: 7 * 24 * 3600_000 } },
    events,
    manifestCache: new ManifestCache(0),
    admission: new ImmutableTags(meta.db),
  };
}

const who = { principal: "test", remoteAddress: "local" };
const names = (digests: string[]) =>
  digests.map((x) => Object.keys(d).find((k) => d[k] === x)).sort();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-retention-"));
  meta = await openDatabase({ driver: "sqlite", path: join(dir, "meta.db") });
  for (const f of FIXTURE) await store(f);
  await addImmutableRule(meta.db, {
    project: "fx",
    repositoryPattern: "app",
    tagPattern: "multi",
    createdBy: "t",
  });
  deletedEvents.length = 0;
});

afterEach(async () => {
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

describe("retention over a fixture with known push and pull times", () => {
  it("the dry run equals the hand-computed list, with reasons, and deletes nothing", async () => {
    const report = await runRetention(services(), "fx", RULES, { dryRun: true, who, now: NOW });
    // By hand: rule 1 keeps v4 (m4) and v3 (m3), the two most recently pushed v*; rule 2 keeps
    // m1 (pulled 1 day ago); rule 3 keeps m4 (pushed 2 days ago; m6, untagged, is 5 days old).
    // idx carries the immutable tag "multi" and keeps its children c1, c2. m2 is kept by no
    // rule, and its signature goes with it. m5 (dev-1) and m6 are kept by no rule. In
    // tmp/scratch only rule 1 applies and its tag selector does not match "x".
    expect(names(report.deleted.map((v) => v.digest))).toEqual(["m2", "m5", "m6", "s1", "sig"]);
    expect(names(report.retained.map((v) => v.digest))).toEqual([
      "c1",
      "c2",
      "idx",
      "m1",
      "m3",
      "m4",
    ]);
    expect(report.repositories).toEqual(["fx/app", "fx/tmp/scratch"]);
    const why = (name: string) =>
      [...report.deleted, ...report.retained].find((v) => v.digest === d[name])!.reasons;
    expect(why("m2")).toEqual([
      "retained by no rule",
      expect.stringMatching(/^rule 1 .*: not among the 2 most recently pushed$/),
      expect.stringMatching(/^rule 2 .*: not pulled within 7 days$/),
      expect.stringMatching(/^rule 3 .*: not pushed within 3 days$/),
    ]);
    expect(why("sig")).toEqual([
      `referrer of ${d.m2}, which is deleted (referrers go with their subject)`,
    ]);
    expect(why("m5")[3]).toMatch(/rule 3 .*: not selected by its tag selector/);
    expect(why("idx")).toEqual([expect.stringContaining('tag "multi" is immutable')]);
    expect(why("c1")).toEqual([`listed by retained index ${d.idx}`]);
    expect(why("m4")).toEqual([
      expect.stringMatching(/^rule 1 .*number 1 of the 2 most recently pushed$/),
      expect.stringMatching(/^rule 3 .*pushed within 3 days$/),
    ]);
    expect(deletedEvents).toEqual([]);
    expect((await repositoryFacts(meta.db, "fx/app"))?.manifests).toHaveLength(10);
  });

  it("the run deletes exactly that, and immutable tags survive", async () => {
    await addImmutableRule(meta.db, {
      project: "fx",
      repositoryPattern: "**",
      tagPattern: "dev-*",
      createdBy: "t",
    });
    const report = await runRetention(services(), "fx", RULES, { dryRun: false, who, now: NOW });
    expect(names(report.deleted.map((v) => v.digest))).toEqual(["m2", "m6", "s1", "sig"]);
    expect(report.skipped).toEqual([]);
    expect(names(deletedEvents)).toEqual(["m2", "m6", "s1", "sig"]);
    const left = (await repositoryFacts(meta.db, "fx/app"))!.manifests;
    expect(names(left.map((m) => m.digest))).toEqual(["c1", "c2", "idx", "m1", "m3", "m4", "m5"]);
    expect(left.find((m) => m.digest === d.m5)?.tags).toEqual(["dev-1"]);
    expect(left.find((m) => m.digest === d.idx)?.tags).toEqual(["multi"]);
    expect((await repositoryFacts(meta.db, "fx/tmp/scratch"))!.manifests).toEqual([]);
  });

  it("deletes an index before the untagged children it alone lists", async () => {
    const rules: RetentionRule[] = parseRetentionPolicy(
      {
        rules: [
          { repositories: { matching: "app" }, tags: { matching: "v*" }, retain: { always: true } },
        ],
      },
      cronProblem,
    ).rules;
    await meta.db.deleteFrom("immutable_rules").execute();
    const report = await runRetention(services(), "fx", rules, { dryRun: false, who, now: NOW });
    // The signature stays with its retained subject m2; tmp/scratch is selected by no rule.
    expect(names(report.deleted.map((v) => v.digest))).toEqual(["c1", "c2", "idx", "m5", "m6"]);
    expect(deletedEvents.indexOf(d.idx!)).toBeLessThan(deletedEvents.indexOf(d.c1!));
    const left = (await repositoryFacts(meta.db, "fx/app"))!.manifests;
    expect(names(left.map((m) => m.digest))).toEqual(["m1", "m2", "m3", "m4", "sig"]);
    expect((await repositoryFacts(meta.db, "fx/tmp/scratch"))!.manifests).toHaveLength(1);
  });
});

describe("the rules file", () => {
  const parse = (doc: unknown) => parseRetentionPolicy(doc, cronProblem);
  it.each([
    [{}, '"rules" must be a non-empty list'],
    [{ rules: [{}] }, 'rules[0] needs "retain"'],
    [
      { rules: [{ retain: { mostRecentlyPushed: -1 } }] },
      "rules[0].retain.mostRecentlyPushed must be a whole number",
    ],
    [
      { rules: [{ retain: { always: true, pushedWithinDays: 1 } }] },
      "rules[0].retain needs exactly one of",
    ],
    [
      { rules: [{ tags: { matching: "a", excluding: "b" }, retain: { always: true } }] },
      'needs exactly one of "matching" and "excluding"',
    ],
    [
      { rules: [{ retain: { always: true } }], schedule: "every day" },
      '"schedule" is not a valid cron expression',
    ],
    [{ rules: [{ retain: { always: true } }], extra: 1 }, 'unknown key "extra"'],
  ])("refuses %j with a sentence", (doc, message) => {
    expect(() => parse(doc)).toThrow(RetentionRuleError);
    expect(() => parse(doc)).toThrow(message);
  });

  it("fills defaults: every repository, every tag, untagged excluded", () => {
    expect(
      parse({ schedule: "0 3 * * *", rules: [{ retain: { mostRecentlyPulled: 3 } }] }),
    ).toEqual({
      schedule: "0 3 * * *",
      rules: [
        {
          repositories: { matching: "**" },
          tags: { matching: "**", untagged: false },
          retain: { kind: "mostRecentlyPulled", count: 3 },
        },
      ],
    });
  });
});

describe("retention as a job", () => {
  it("a project's schedule fires a retention job that runs the stored policy", async () => {
    const { createJobs } = await import("../../src/jobs/index.js");
    const { pino } = await import("pino");
    const { AuthStore } = await import("../../src/auth/store.js");
    const { AuditLog } = await import("../../src/auth/audit.js");
    const { Authorizer } = await import("../../src/auth/authorizer.js");
    const { Management } = await import("../../src/auth/management.js");
    const { PolicyService } = await import("../../src/policy/service.js");
    const { jobSchedules, registerRetentionJobs } = await import(
      "../../src/policy/retention-jobs.js"
    );
    const store = new AuthStore(meta.db as never);
    const audit = new AuditLog(store, { error() {} });
    const management = new Management(store, audit, new Authorizer(store));
    const operator = { name: "op", kind: "system" as const, isAdmin: true };
    await management.createProject(operator, { name: "fx", isPublic: false, quotaBytes: null });
    const jobs = createJobs(meta.db, pino({ level: "silent" }), {
      workers: { pollMs: 50 },
      schedulerTickMs: 3_600_000,
    });
    const policies = new PolicyService(meta.db, management, audit, services(), jobSchedules(jobs));
    await registerRetentionJobs(jobs, meta.db, policies);
    await policies.setRetentionPolicy(operator, "fx", {
      schedule: "0 3 * * *",
      rules: [
        { repositories: { matching: "app" }, tags: { matching: "v*" }, retain: { always: true } },
      ],
    });
    jobs.start();
    try {
      const [id] = await jobs.scheduler.tick(Date.now() + 2 * DAY);
      expect(id).toBeDefined();
      const done = await jobs.queue.wait(id as number);
      expect(done).toMatchObject({
        kind: "retention",
        state: "succeeded",
        payload: { project: "fx" },
      });
      expect(done.result).toMatchObject({ deleted: 2, retained: 8 }); // m5 and m6; idx is immutable
      const left = (await repositoryFacts(meta.db, "fx/app"))!.manifests;
      expect(names(left.map((m) => m.digest))).toEqual([
        "c1",
        "c2",
        "idx",
        "m1",
        "m2",
        "m3",
        "m4",
        "sig",
      ]);
      // Removing the policy removes its schedule: nothing fires any more.
      await policies.deleteRetentionPolicy(operator, "fx");
      expect(await jobs.scheduler.tick(Date.now() + 4 * DAY)).toEqual([]);
    } finally {
      await jobs.stop();
    }
  });
});
