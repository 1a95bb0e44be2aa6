// Table types of the multi-tenancy side of the metadata database: users, projects, members,
// robot accounts, browser sessions and the audit log. Created by migrations/0002-auth.ts.
// Types only: no queries here (those live in src/auth/store.ts). Booleans are stored as
// 0/1 integers and times as ISO-8601 UTC strings so that SQLite and PostgreSQL agree.
export interface UsersTable {
  id: string;
  username: string;
  /** argon2id PHC string. */
  password_hash: string;
  is_admin: number;
  email: string | null;
  created_at: string;
  updated_at: string;
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

export interface AuthTables {
  users: UsersTable;
  projects: ProjectsTable;
  project_members: ProjectMembersTable;
  robots: RobotsTable;
  robot_permissions: RobotPermissionsTable;
  sessions: SessionsTable;
  audit_log: AuditLogTable;
}
