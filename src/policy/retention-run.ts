// Retention, the thin I/O shell around policy/retention.ts: reads the facts of a project's
// repositories and its immutable-tag rules from meta/, evaluates, and (unless it is a dry
// run) deletes through registry/deletion.ts, the code the /v2/ DELETE route and the
// management API use (so deletions are refused for immutable tags, publish the registry's
// events and are audited alike). Indexes are deleted before the children they list;
// referrers go with their subject. Just before deleting, each repository's facts are read
// again and an artifact whose tags changed since the evaluation (a push or retag in between)
// is skipped and reported, never deleted.
import type { Kysely } from "kysely";
import type { Database } from "../meta/database.js";
import {
  listImmutableRules,
  projectRepositories,
  type RepositoryFacts,
  repositoryFacts,
} from "../meta/index.js";
import {
  type DeletionActor,
  type DeletionServices,
  executeDeletion,
  planFromFacts,
} from "../registry/deletion.js";
import { RegistryError } from "../registry/errors.js";
import { evaluateRetention, type RetentionRule, type Verdict } from "./retention.js";

export interface RetentionReport {
  project: string;
  dryRun: boolean;
  evaluatedAt: string;
  /** Repositories at least one rule selects. */
  repositories: string[];
  /** What is (or, in a dry run, would be) deleted, with the reasons. */
  deleted: Verdict[];
  retained: Verdict[];
  /** Artifacts that were to be deleted but were not, and why. */
  skipped: { repository: string; digest: string; reason: string }[];
}

export async function readProjectFacts(
  db: Kysely<Database>,
  project: string,
): Promise<RepositoryFacts[]> {
  const out: RepositoryFacts[] = [];
  for (const name of await projectRepositories(db, project)) {
    const facts = await repositoryFacts(db, name);
    if (facts) out.push(facts);
  }
  return out;
}

export async function runRetention(
  services: DeletionServices,
  project: string,
  rules: readonly RetentionRule[],
  options: { dryRun: boolean; who: DeletionActor; now?: number },
): Promise<RetentionReport> {
  const now = options.now ?? Date.now();
  const facts = await readProjectFacts(services.db, project);
  const immutable = await listImmutableRules(services.db, project);
  const result = evaluateRetention({ rules, repositories: facts, immutable, now });
  const deleted = result.verdicts.filter((v) => v.action === "delete");
  const report: RetentionReport = {
    project,
    dryRun: options.dryRun,
    evaluatedAt: new Date(now).toISOString(),
    repositories: result.repositories,
    deleted,
    retained: result.verdicts.filter((v) => v.action === "retain"),
    skipped: [],
  };
  if (options.dryRun) return report;
  const done: Verdict[] = [];
  for (const repository of result.repositories) {
    const mine = deleted.filter((v) => v.repository === repository);
    if (mine.length > 0)
      await deleteInRepository(services, repository, mine, options.who, report, done);
  }
  report.deleted = done;
  return report;
}

async function deleteInRepository(
  services: DeletionServices,
  repository: string,
  verdicts: Verdict[],
  who: DeletionActor,
  report: RetentionReport,
  done: Verdict[],
): Promise<void> {
  const fresh = await repositoryFacts(services.db, repository);
  if (!fresh) return;
  const current = new Map(fresh.manifests.map((m) => [m.digest, m]));
  const pending = new Map<string, Verdict>();
  for (const v of verdicts) {
    const now = current.get(v.digest);
    if (!now) continue;
    if (now.tags.join("\n") !== v.tags.join("\n")) {
      report.skipped.push({
        repository,
        digest: v.digest,
        reason: "its tags changed since the evaluation",
      });
      continue;
    }
    pending.set(v.digest, v);
  }
  // Referrers whose subject is deleted go with it.
  const bySubject = (d: string) => {
    const s = current.get(d)?.subjectDigest;
    return s !== null && s !== undefined && pending.has(s);
  };
  let work = [...pending.values()].filter((v) => !bySubject(v.digest));
  while (work.length > 0) {
    const listedByPending = (d: string) =>
      work.some((o) => o.digest !== d && (current.get(o.digest)?.children ?? []).includes(d));
    const ready = work.filter((v) => !listedByPending(v.digest));
    if (ready.length === 0) break;
    for (const v of ready) {
      const plan = planFromFacts(fresh, { digest: v.digest });
      if (!plan) continue;
      plan.listedBy = [];
      try {
        const result = await executeDeletion(services, plan, who, false, "retention");
        for (const m of result.manifests) {
          done.push(
            m.digest === v.digest ? v : (pending.get(m.digest) ?? verdictOf(repository, m)),
          );
          fresh.manifests = fresh.manifests.filter((x) => x.digest !== m.digest);
        }
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        report.skipped.push({ repository, digest: v.digest, reason: err.message });
      }
    }
    work = work.filter((v) => !ready.includes(v));
  }
}

function verdictOf(repository: string, m: { digest: string; tags: string[] }): Verdict {
  return {
    repository,
    digest: m.digest,
    tags: m.tags,
    action: "delete",
    reasons: ["referrer of a deleted subject"],
  };
}
