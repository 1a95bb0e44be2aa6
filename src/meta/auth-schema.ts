// Table types of the multi-tenancy side of the metadata database: users, projects, members,
// robot accounts, browser sessions, refresh tokens and the audit log. Created by
// migrations/0002-auth.ts, 0003-credential-revocation.ts and 0019-user-disabled.ts.
// Types only: no queries here (those live in src/auth/store.ts, src/meta/sessions.ts and
// src/meta/refresh-tokens.ts). Booleans are stored as
// 0/1 integers and times as ISO-8601 UTC strings so that SQLite and PostgreSQL agree.
import type { Generated } from "kysely";

export interface UsersTable {
  id: string;
  username: string;
  /** argon2id PHC string. */
  password_hash: string;
  is_admin: number;
  email: string | null;
  created_at: string;
  updated_at: string;
  /** Bumped whenever tokens issued before must stop working (migration 0003). */
  credential_generation: Generated<number>;
  /** 1 = may not sign in (migration 0019). */
  disabled: Generated<number>;
}

export interface ProjectsTable {
  id: string;
  name: string;
  is_public: number;
  /** Storage limit in bytes; null = unlimited. */
  quota_bytes: number | null;
  created_at: string;
  updated_at: string;
}

export interface ProjectMembersTable {
  project_id: string;
  user_id: string;
  role: string;
  created_at: string;
}

export interface RobotsTable {
  id: string;
  /** Full account name, e.g. `robot$ci` (system) or `robot$proj+ci` (project). */
  name: string;
  level: string;
  /** The project a project-level robot belongs to; null for system robots. */
  project_id: string | null;
  description: string | null;
  /** sha256 hex of the high-entropy secret. */
  secret_hash: string;
  disabled: number;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
  /** Bumped whenever tokens issued before must stop working (migration 0003). */
  credential_generation: Generated<number>;
}

export interface RobotPermissionsTable {
  robot_id: string;
  /** Project name, or `*` for every project (system robots only). */
  project: string;
  /** Comma-separated robot actions (pull, push, delete, …). */
  actions: string;
}

export interface SessionsTable {
  /** sha256 hex of the session cookie value. */
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
  /** Where the session was opened from (migration 0003). */
  remote_address: string | null;
}

/** One refresh token issued by the token endpoint (migration 0003). */
export interface RefreshTokensTable {
  /** The token's `jti`. */
  id: string;
  /** `user` or `robot`. */
  account_kind: string;
  /** The account's id: a token never outlives its account, nor moves to a namesake. */
  account_id: string;
  account_name: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  remote_address: string | null;
}

export interface AuditLogTable {
  /** Time-ordered id (sorts like `at`, unique across replicas). */
  id: string;
  at: string;
  actor: string;
  actor_kind: string;
  action: string;
  resource_type: string;
  resource: string;
  project: string | null;
  remote_address: string | null;
  outcome: string;
  detail: string | null;
}

/** Migration 0017 (src/meta/token-signing-keys.ts). */
export interface TokenSigningKeysTable {
  kid: string;
  sealed_private_key: string;
  created_at: number | string;
}

export interface AuthTables {
  users: UsersTable;
  projects: ProjectsTable;
  project_members: ProjectMembersTable;
  robots: RobotsTable;
  robot_permissions: RobotPermissionsTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  audit_log: AuditLogTable;
  token_signing_keys: TokenSigningKeysTable;
}
