// JSON Schemas of the policy resources (quotas per scope, immutability rules, retention
// policies and run reports, deletion plans), used for validation, serialisation and the
// OpenAPI document exactly as schemas.ts is.
const timestamp = { type: "string", format: "date-time" } as const;

export const ScopedQuotaSchema = {
  type: "object",
  required: ["scope", "name", "limitBytes", "usedBytes"],
  properties: {
    scope: { type: "string", enum: ["system", "project", "repository"] },
    name: { type: "string", description: 'project or repository name; "" for the system' },
    limitBytes: { type: ["integer", "null"] },
    usedBytes: {
      type: "integer",
      description: "bytes of distinct blobs linked to and manifests stored in the scope",
    },
  },
} as const;

export const QuotaBody = {
  type: "object",
  required: ["limitBytes"],
  properties: { limitBytes: { type: ["integer", "null"], minimum: 0 } },
} as const;

export const ImmutableRuleSchema = {
  type: "object",
  required: ["id", "project", "repositoryPattern", "tagPattern", "createdBy", "createdAt"],
  properties: {
    id: { type: "string" },
    project: { type: "string" },
    repositoryPattern: {
      type: "string",
      description: "doublestar pattern over the path inside the project",
    },
    tagPattern: { type: "string" },
    createdBy: { type: "string" },
    createdAt: timestamp,
  },
} as const;

const selector = {
  type: "object",
  properties: {
    matching: { type: "string" },
    excluding: { type: "string" },
    untagged: { type: "boolean" },
  },
} as const;

const ruleSchema = {
  type: "object",
  properties: {
    repositories: selector,
    tags: selector,
    retain: {
      type: "object",
      properties: {
        mostRecentlyPushed: { type: "integer" },
        mostRecentlyPulled: { type: "integer" },
        pushedWithinDays: { type: "integer" },
        pulledWithinDays: { type: "integer" },
        always: { type: "boolean" },
      },
    },
  },
} as const;

export const RetentionBody = {
  type: "object",
  required: ["rules"],
  properties: {
    schedule: { type: ["string", "null"], description: "cron expression, e.g. 0 3 * * *" },
    rules: { type: "array", items: ruleSchema },
  },
} as const;

export const RetentionPolicySchema = {
  type: "object",
  required: ["project", "schedule", "rules", "updatedBy", "updatedAt"],
  properties: {
    project: { type: "string" },
    schedule: { type: ["string", "null"] },
    rules: { type: "array", items: ruleSchema },
    updatedBy: { type: "string" },
    updatedAt: timestamp,
  },
} as const;

const verdict = {
  type: "object",
  required: ["repository", "digest", "tags", "action", "reasons"],
  properties: {
    repository: { type: "string" },
    digest: { type: "string" },
    tags: { type: "array", items: { type: "string" } },
    action: { type: "string", enum: ["retain", "delete"] },
    reasons: { type: "array", items: { type: "string" } },
  },
} as const;

export const RetentionReportSchema = {
  type: "object",
  required: ["project", "dryRun", "evaluatedAt", "repositories", "deleted", "retained", "skipped"],
  properties: {
    project: { type: "string" },
    dryRun: { type: "boolean" },
    evaluatedAt: timestamp,
    repositories: { type: "array", items: { type: "string" } },
    deleted: { type: "array", items: verdict },
    retained: { type: "array", items: verdict },
    skipped: {
      type: "array",
      items: {
        type: "object",
        required: ["repository", "digest", "reason"],
        properties: {
          repository: { type: "string" },
          digest: { type: "string" },
          reason: { type: "string" },
        },
      },
    },
  },
} as const;

export const DeletionPlanSchema = {
  type: "object",
  required: ["repository", "tags", "manifests", "listedBy"],
  properties: {
    repository: { type: "string" },
    tags: { type: "array", items: { type: "string" }, description: "every tag removed" },
    manifests: {
      type: "array",
      items: {
        type: "object",
        required: ["digest", "tags", "reason"],
        properties: {
          digest: { type: "string" },
          tags: { type: "array", items: { type: "string" } },
          reason: { type: "string", description: '"requested" or "referrer of sha256:…"' },
        },
      },
    },
    listedBy: {
      type: "array",
      description: "indexes that list a planned manifest: the delete is refused unless forced",
      items: {
        type: "object",
        required: ["index", "child"],
        properties: { index: { type: "string" }, child: { type: "string" } },
      },
    },
  },
} as const;
