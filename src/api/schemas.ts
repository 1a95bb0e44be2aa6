// JSON Schemas of the management API's resources. Used three ways from this one place:
// Fastify validates requests and serialises responses with them (so a response can never
// carry a field the schema does not list, e.g. a password hash), and openapi.ts copies them
// into the OpenAPI document.

export const ErrorSchema = {
  type: "object",
  required: ["errors"],
  properties: {
    errors: {
      type: "array",
      items: {
        type: "object",
        required: ["code", "message"],
        properties: { code: { type: "string" }, message: { type: "string" } },
      },
    },
  },
} as const;

const timestamp = { type: "string", format: "date-time" } as const;
const nullableTimestamp = { type: ["string", "null"], format: "date-time" } as const;

export const UserSchema = {
  type: "object",
  required: ["username", "isAdmin", "createdAt", "updatedAt"],
  properties: {
    username: { type: "string" },
    isAdmin: { type: "boolean" },
    disabled: { type: "boolean" },
    email: { type: ["string", "null"] },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const ProjectSchema = {
  type: "object",
  required: ["name", "public", "quotaBytes", "createdAt", "updatedAt"],
  properties: {
    name: { type: "string" },
    public: { type: "boolean" },
    quotaBytes: {
      type: ["integer", "null"],
      description: "storage limit in bytes; null = unlimited",
    },
    role: {
      type: ["string", "null"],
      description: "the caller's role in the project, if a member",
    },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const QuotaSchema = {
  type: "object",
  required: ["project", "limitBytes", "usedBytes"],
  properties: {
    project: { type: "string" },
    limitBytes: { type: ["integer", "null"] },
    usedBytes: {
      type: "integer",
      description: "bytes of distinct blobs and manifests in the project",
    },
  },
} as const;

export const MemberSchema = {
  type: "object",
  required: ["username", "role", "createdAt"],
  properties: {
    username: { type: "string" },
    role: {
      type: "string",
      enum: ["projectAdmin", "maintainer", "developer", "guest", "limitedGuest"],
    },
    createdAt: timestamp,
  },
} as const;

export const RobotPermissionSchema = {
  type: "object",
  required: ["project", "actions"],
  properties: {
    project: {
      type: "string",
      description: "project name, or * (system robots) for every project",
    },
    actions: {
      type: "array",
      items: { type: "string", enum: ["pull", "push", "delete"] },
      minItems: 1,
    },
  },
} as const;

export const RobotSchema = {
  type: "object",
  required: ["id", "name", "level", "project", "disabled", "expiresAt", "permissions", "createdAt"],
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    level: { type: "string", enum: ["system", "project"] },
    project: { type: ["string", "null"] },
    description: { type: ["string", "null"] },
    disabled: { type: "boolean" },
    expiresAt: nullableTimestamp,
    permissions: { type: "array", items: RobotPermissionSchema },
    createdAt: timestamp,
  },
} as const;

export const RobotWithSecretSchema = {
  type: "object",
  required: ["robot", "secret"],
  properties: {
    robot: RobotSchema,
    secret: { type: "string", description: "shown only in this response" },
  },
} as const;

export const AuditEntrySchema = {
  type: "object",
  required: ["id", "at", "actor", "actorKind", "action", "resourceType", "resource", "outcome"],
  properties: {
    id: { type: "string" },
    at: timestamp,
    actor: { type: "string" },
    actorKind: { type: "string" },
    action: { type: "string" },
    resourceType: { type: "string" },
    resource: { type: "string" },
    project: { type: ["string", "null"] },
    remoteAddress: { type: ["string", "null"] },
    outcome: { type: "string", enum: ["success", "failure"] },
    detail: { type: ["string", "null"], description: "JSON text with action-specific facts" },
  },
} as const;

export const RepositorySchema = {
  type: "object",
  required: ["name", "project", "artifactCount"],
  properties: {
    name: { type: "string" },
    project: { type: "string" },
    artifactCount: { type: "integer" },
    tagCount: { type: "integer" },
    sizeBytes: {
      type: "integer",
      description: "bytes of distinct blobs linked to and manifests stored in the repository",
    },
    pushedAt: nullableTimestamp,
    pulledAt: nullableTimestamp,
  },
} as const;

export const ArtifactSchema = {
  type: "object",
  required: ["digest", "mediaType", "size", "tags", "pushedAt"],
  properties: {
    digest: { type: "string" },
    mediaType: { type: "string" },
    artifactType: { type: ["string", "null"] },
    size: { type: "integer", description: "manifest plus referenced blobs, in bytes" },
    tags: { type: "array", items: { type: "string" } },
    pushedAt: timestamp,
    pulledAt: nullableTimestamp,
  },
} as const;

export const SystemInfoSchema = {
  type: "object",
  required: ["name", "version", "authMode", "service", "autoCreateProjects"],
  properties: {
    name: { type: "string" },
    version: { type: "string" },
    authMode: {
      type: "string",
      enum: ["token", "none"],
      description: "auth.mode as configured (BERTH_AUTH)",
    },
    htpasswd: { type: "boolean", description: "an htpasswd file is an extra user source" },
    service: { type: "string" },
    tokenEndpoint: { type: "string" },
    autoCreateProjects: { type: "boolean" },
    currentUser: { type: ["string", "null"] },
  },
} as const;

export const SessionSchema = {
  type: "object",
  required: ["username", "isAdmin", "csrfToken", "expiresAt"],
  properties: {
    username: { type: "string" },
    isAdmin: { type: "boolean" },
    csrfToken: { type: "string", description: "send as X-CSRF-Token on POST/PUT/PATCH/DELETE" },
    expiresAt: timestamp,
  },
} as const;

export const CurrentUserSchema = {
  type: "object",
  required: ["name", "kind", "isAdmin"],
  properties: {
    name: { type: "string" },
    kind: { type: "string", enum: ["user", "robot", "anonymous"] },
    isAdmin: { type: "boolean" },
  },
} as const;

/** Error responses to declare on a route. */
export function errors(...statuses: number[]): Record<number, object> {
  const descriptions: Record<number, string> = {
    400: "invalid input",
    401: "authentication required",
    403: "not allowed",
    404: "not found",
    409: "conflict",
    429: "too many failed logins",
  };
  return Object.fromEntries(
    statuses.map((s) => [s, { description: descriptions[s] ?? "error", ...ErrorSchema }]),
  );
}

export const NoContent = { 204: { description: "done", type: "null" } } as const;
