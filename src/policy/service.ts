// The policy operations the management API and `berth admin` share: storage quotas (per
// repository, per project, system-wide), tag immutability rules and retention policies per
// project, each change audited. Permission checks are the caller's (API routes, or the
// operator acting on a data directory); input is validated here and refused with a
// ManagementError("INVALID") sentence that changes nothing.
import { Cron } from "croner";
import type { Kysely } from "kysely";
import type { AuditLog } from "../auth/audit.js";
import { type Actor, type Management, ManagementError } from "../auth/management.js";
import { projectOf } from "../auth/permissions.js";
import { isValidRepositoryName } from "../auth/scope.js";
import type { Database } from "../meta/database.js";
import {
  addImmutableRule,
  deleteRetentionPolicy,
  getQuotaLimit,
  getRetentionPolicy,
  type ImmutableRuleRow,
  listImmutableRules,
  putRetentionPolicy,
  removeImmutableRule,
  setQuotaLimit,
} from "../meta/index.js";
import type { DeletionServices } from "../registry/deletion.js";
import { patternProblem } from "./patterns.js";
import { MetaStorageAccounting, type QuotaScope } from "./quotas.js";
import {
  parseRetentionPolicy,
  policyDocument,
  type RetentionPolicy,
  RetentionRuleError,
} from "./retention.js";
import { type RetentionReport, runRetention } from "./retention-run.js";

export interface QuotaView {
  scope: "system" | "project" | "repository";
  name: string;
  limitBytes: number | null;
  usedBytes: number;
}

export interface RetentionPolicyView {
  project: string;
  schedule: string | null;
  rules: unknown[];
  updatedBy: string;
  updatedAt: string;
}

/** A problem with a cron expression, or undefined when croner accepts it. */
export function cronProblem(expression: string): string | undefined {
  try {
    new Cron(expression, { paused: true, mode: "5-or-6-parts" }).stop();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const invalid = (message: string) => new ManagementError("INVALID", message);

/** Where a project's retention schedule runs (the job scheduler; none for `--data` use). */
export interface RetentionSchedules {
  set(project: string, cron: string | null): Promise<void>;
}

export class PolicyService {
  private readonly accounting: MetaStorageAccounting;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly management: Management,
    private readonly audit: AuditLog,
    private readonly deletion: DeletionServices,
    private readonly schedules?: RetentionSchedules,
  ) {
    this.accounting = new MetaStorageAccounting(db);
  }

  // ---- quotas ----------------------------------------------------------------------

  /** `team`, `team/app` or the system. Throws NOT_FOUND for an unknown project. */
  async resolveScope(target: string | { system: true }): Promise<QuotaScope> {
    if (typeof target !== "string") return { kind: "system" };
    if (!target.includes("/")) {
      await this.management.requireProject(target);
      return { kind: "project", project: target };
    }
    if (!isValidRepositoryName(target)) throw invalid(`"${target}" is not a valid repository name`);
    await this.management.requireProject(projectOf(target));
    return { kind: "repository", repository: target };
  }

  async quota(scope: QuotaScope): Promise<QuotaView> {
    const usedBytes = await this.accounting.usage(scope);
    if (scope.kind === "project") {
      const p = await this.management.requireProject(scope.project);
      return { scope: "project", name: p.name, limitBytes: p.quotaBytes, usedBytes };
    }
    const name = scope.kind === "system" ? "" : scope.repository;
    return {
      scope: scope.kind,
      name,
      limitBytes: await getQuotaLimit(this.db, scope.kind, name),
      usedBytes,
    };
  }

  async setQuota(actor: Actor, scope: QuotaScope, limitBytes: number | null): Promise<QuotaView> {
    if (limitBytes !== null && (!Number.isSafeInteger(limitBytes) || limitBytes < 0))
      throw invalid("a quota must be a non-negative whole number of bytes, or null to clear it");
    if (scope.kind === "project") {
      // Audited by Management as quota.update.
      await this.management.updateProject(actor, scope.project, { quotaBytes: limitBytes });
      return this.quota(scope);
    }
    const name = scope.kind === "system" ? "" : scope.repository;
    await setQuotaLimit(this.db, scope.kind, name, limitBytes);
    await this.audit.record({
      actor,
      action: "quota.update",
      resourceType: scope.kind === "system" ? "system" : "repository",
      resource: scope.kind === "system" ? "system" : scope.repository,
      project: scope.kind === "repository" ? projectOf(scope.repository) : null,
      remoteAddress: actor.remoteAddress ?? null,
      detail: { limitBytes },
    });
    return this.quota(scope);
  }

  // ---- immutability ----------------------------------------------------------------

  async immutableRules(project: string): Promise<ImmutableRuleRow[]> {
    await this.management.requireProject(project);
    return listImmutableRules(this.db, project);
  }

  async addImmutableRule(
    actor: Actor,
    project: string,
    repositoryPattern: string,
    tagPattern: string,
  ): Promise<{ rule: ImmutableRuleRow; created: boolean }> {
    await this.management.requireProject(project);
    const problem =
      patternProblem(repositoryPattern, "the repository pattern") ??
      patternProblem(tagPattern, "the tag pattern");
    if (problem) throw invalid(problem);
    const result = await addImmutableRule(this.db, {
      project,
      repositoryPattern,
      tagPattern,
      createdBy: actor.name,
    });
    if (result.created) {
      await this.audit.record({
        actor,
        action: "immutable.create",
        resourceType: "immutable-rule",
        resource: result.rule.id,
        project,
        remoteAddress: actor.remoteAddress ?? null,
        detail: { repository: repositoryPattern, tag: tagPattern },
      });
    }
    return result;
  }

  async removeImmutableRule(actor: Actor, project: string, id: string): Promise<ImmutableRuleRow> {
    await this.management.requireProject(project);
    const removed = await removeImmutableRule(this.db, project, id);
    if (!removed)
      throw new ManagementError(
        "NOT_FOUND",
        `project "${project}" has no immutability rule "${id}"`,
      );
    await this.audit.record({
      actor,
      action: "immutable.delete",
      resourceType: "immutable-rule",
      resource: id,
      project,
      remoteAddress: actor.remoteAddress ?? null,
      detail: { repository: removed.repositoryPattern, tag: removed.tagPattern },
    });
    return removed;
  }

  // ---- retention -------------------------------------------------------------------

  /** Validates a rules document; throws INVALID with the first problem. */
  parseRetention(doc: unknown): RetentionPolicy {
    try {
      return parseRetentionPolicy(doc, cronProblem);
    } catch (err) {
      if (err instanceof RetentionRuleError) throw invalid(err.message);
      throw err;
    }
  }

  async retentionPolicy(project: string): Promise<RetentionPolicyView | undefined> {
    await this.management.requireProject(project);
    const row = await getRetentionPolicy(this.db, project);
    if (!row) return undefined;
    const policy = this.parseRetention({ rules: row.rules, schedule: row.schedule });
    return {
      project,
      ...(policyDocument(policy) as { schedule: string | null; rules: unknown[] }),
      updatedBy: row.updatedBy,
      updatedAt: row.updatedAt,
    };
  }

  async setRetentionPolicy(
    actor: Actor,
    project: string,
    doc: unknown,
  ): Promise<RetentionPolicyView> {
    await this.management.requireProject(project);
    const policy = this.parseRetention(doc);
    const stored = policyDocument(policy);
    await putRetentionPolicy(this.db, {
      project,
      rules: stored.rules,
      schedule: policy.schedule,
      updatedBy: actor.name,
    });
    await this.schedules?.set(project, policy.schedule);
    await this.audit.record({
      actor,
      action: "retention.update",
      resourceType: "retention-policy",
      resource: project,
      project,
      remoteAddress: actor.remoteAddress ?? null,
      detail: { rules: policy.rules.length, schedule: policy.schedule },
    });
    const view = await this.retentionPolicy(project);
    if (!view) throw new Error("retention policy vanished after being stored");
    return view;
  }

  async deleteRetentionPolicy(actor: Actor, project: string): Promise<void> {
    await this.management.requireProject(project);
    if (!(await deleteRetentionPolicy(this.db, project)))
      throw new ManagementError("NOT_FOUND", `project "${project}" has no retention policy`);
    await this.schedules?.set(project, null);
    await this.audit.record({
      actor,
      action: "retention.delete",
      resourceType: "retention-policy",
      resource: project,
      project,
      remoteAddress: actor.remoteAddress ?? null,
    });
  }

  /** Evaluates the project's stored policy; deletes unless `dryRun`. Audited either way. */
  async runRetention(
    actor: Actor,
    project: string,
    options: { dryRun: boolean; now?: number },
  ): Promise<RetentionReport> {
    await this.management.requireProject(project);
    const row = await getRetentionPolicy(this.db, project);
    if (!row)
      throw new ManagementError(
        "NOT_FOUND",
        `project "${project}" has no retention policy (set one with berth admin retention set ${project} FILE)`,
      );
    const policy = this.parseRetention({ rules: row.rules, schedule: row.schedule });
    const report = await runRetention(this.deletion, project, policy.rules, {
      dryRun: options.dryRun,
      who: { principal: actor.name, remoteAddress: actor.remoteAddress ?? "" },
      now: options.now,
    });
    await this.audit.record({
      actor,
      action: options.dryRun ? "retention.dry-run" : "retention.run",
      resourceType: "retention-policy",
      resource: project,
      project,
      remoteAddress: actor.remoteAddress ?? null,
      detail: {
        deleted: report.deleted.length,
        retained: report.retained.length,
        skipped: report.skipped.length,
      },
    });
    return report;
  }
}
