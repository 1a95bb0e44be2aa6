// Table types of the policy tables created by migrations/0005-policies.ts: quota limits per
// repository and for the whole system (the per-project limit is `projects.quota_bytes`), tag
// immutability rules and retention policies. Pure types: no queries here.

export type QuotaKind = "repository" | "system";

export interface QuotaLimitsTable {
  kind: QuotaKind;
  /** The full repository name; "" for the system. */
  name: string;
  limit_bytes: number;
  updated_at: number;
}

export interface ImmutableRulesTable {
  id: string;
  project: string;
  /** Doublestar pattern over the repository path inside the project (`app`, `team/**`…). */
  repository_pattern: string;
  tag_pattern: string;
  created_by: string;
  created_at: number;
}

export interface RetentionPoliciesTable {
  project: string;
  /** The rules as JSON text (see policy/retention.ts for the shape). */
  rules: string;
  /** A cron expression (5 or 6 fields), or null for manual runs only. */
  schedule: string | null;
  updated_by: string;
  updated_at: number;
}

export interface PolicyTables {
  quota_limits: QuotaLimitsTable;
  immutable_rules: ImmutableRulesTable;
  retention_policies: RetentionPoliciesTable;
}
