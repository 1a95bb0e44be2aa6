// What `berth admin` needs from wherever the data lives: a running server (remote.ts, over
// the management API) or a stopped server's data directory (direct.ts). Both return the
// API's JSON shapes so the commands print the same thing either way.
import type { RetentionReport } from "../../policy/retention-run.js";
import type { RetentionPolicyView } from "../../policy/service.js";

export type { RetentionPolicyView, RetentionReport };

export interface ProxyRow {
  project: string;
  endpoint: string;
  ttlSeconds: number;
}

export interface UserRow {
  username: string;
  isAdmin: boolean;
  email?: string | null;
  createdAt: string;
}

export interface ProjectRow {
  name: string;
  public: boolean;
  quotaBytes: number | null;
  createdAt: string;
}

export interface MemberRow {
  username: string;
  role: string;
  createdAt: string;
}

export interface RobotRow {
  id: string;
  name: string;
  level: "system" | "project";
  project: string | null;
  disabled: boolean;
  expiresAt: string | null;
  permissions: { project: string; actions: string[] }[];
  createdAt: string;
}

/** A user's live browser sessions and refresh tokens (GET /api/v1/users/NAME/sessions). */
export interface SignedInRow {
  sessions: { createdAt: string; expiresAt: string; remoteAddress: string | null }[];
  refreshTokens: {
    createdAt: string;
    expiresAt: string;
    lastUsedAt: string | null;
    remoteAddress: string | null;
  }[];
}

export interface RobotCreate {
  name: string;
  /** Project robot of this project; undefined for a system robot. */
  project?: string;
  permissions: { project: string; actions: string[] }[];
  expiresAt: string | null;
  description?: string | null;
}

/** A project's trust policy as `berth admin trust show` prints it. */
export interface TrustPolicyRow {
  project: string;
  mode: "off" | "report" | "enforce";
  keys: Array<{ fingerprint: string; publicKey: string; createdAt?: string }>;
  updatedAt: string | null;
}

export interface QuotaRow {
  scope: "system" | "project" | "repository";
  name: string;
  limitBytes: number | null;
  usedBytes: number;
}

export interface ImmutableRuleRow {
  id: string;
  project: string;
  repositoryPattern: string;
  tagPattern: string;
  createdBy: string;
  createdAt: string;
}

/** `team`, `team/app`, or the whole registry. */
export type QuotaTarget = string | { system: true };
/** Filters and paging of `berth admin audit`, as the API's audit query offers them. */
export interface AuditQuery {
  project?: string;
  actor?: string;
  action?: string;
  resource?: string;
  resourceType?: string;
  outcome?: "success" | "failure";
  /** ISO 8601 instants. */
  since?: string;
  until?: string;
  page: number;
  pageSize: number;
}

export interface AuditRow {
  id: string;
  at: string;
  actor: string;
  actorKind: string;
  action: string;
  resourceType: string;
  resource: string;
  project: string | null;
  remoteAddress: string | null;
  outcome: string;
  detail: string | null;
}

export interface AuditPage {
  items: AuditRow[];
  total: number;
  page: number;
  pageSize: number;
}

export interface AdminBackend {
  createUser(username: string, password: string, isAdmin: boolean): Promise<UserRow>;
  listUsers(): Promise<UserRow[]>;
  setPassword(username: string, password: string): Promise<void>;
  deleteUser(username: string): Promise<void>;
  listSignedIn(username: string): Promise<SignedInRow>;
  /** Ends every session, refresh token and access token of the user; how many ended. */
  signOut(username: string): Promise<{ sessions: number; refreshTokens: number }>;

  createProject(name: string, isPublic: boolean, quotaBytes: number | null): Promise<ProjectRow>;
  listProjects(): Promise<ProjectRow[]>;
  deleteProject(name: string): Promise<void>;
  /** Makes a project a proxy cache of an endpoint (only against a running server). */
  setProxy?(project: string, endpoint: string, ttlSeconds: number | undefined): Promise<ProxyRow>;

  addMember(project: string, username: string, role: string): Promise<MemberRow>;
  listMembers(project: string): Promise<MemberRow[]>;
  removeMember(project: string, username: string): Promise<void>;

  createRobot(spec: RobotCreate): Promise<{ robot: RobotRow; secret: string }>;
  listRobots(project?: string): Promise<RobotRow[]>;
  disableRobot(idOrName: string): Promise<RobotRow>;
  deleteRobot(idOrName: string): Promise<void>;
  /** Replaces a robot's secret; the new one is returned once. */
  refreshRobot(idOrName: string): Promise<{ robot: RobotRow; secret: string }>;

  /** One page of the audit log, newest first. */
  listAudit(query: AuditQuery): Promise<AuditPage>;

  getTrustPolicy(project: string): Promise<TrustPolicyRow>;
  /** Replaces mode and keys (PEM texts); the server validates the keys. */
  setTrustPolicy(
    project: string,
    mode: TrustPolicyRow["mode"],
    keys: string[],
  ): Promise<TrustPolicyRow>;
  setQuota(target: QuotaTarget, limitBytes: number | null): Promise<QuotaRow>;

  addImmutableRule(
    project: string,
    repositoryPattern: string,
    tagPattern: string,
  ): Promise<ImmutableRuleRow>;
  listImmutableRules(project: string): Promise<ImmutableRuleRow[]>;
  removeImmutableRule(project: string, id: string): Promise<void>;

  /** Stores the project's retention policy (the rules document; see docs/policies.md). */
  setRetention(project: string, doc: unknown): Promise<RetentionPolicyView>;
  getRetention(project: string): Promise<RetentionPolicyView | undefined>;
  runRetention(project: string, dryRun: boolean): Promise<RetentionReport>;

  /** The project's quality-gate policy (undefined when it has none). */
  getGatePolicy(project: string): Promise<GatePolicyRow | undefined>;
  /** Validates and attaches the policy text (YAML or JSON). */
  setGatePolicy(project: string, policy: string): Promise<GatePolicyRow>;
  deleteGatePolicy(project: string): Promise<void>;

  close(): Promise<void>;
}

export interface GatePolicyRow {
  project: string;
  policy: string;
  rules: string[];
  pushRules: string[];
  /** Rules enforced at pull once the image is scanned. */
  pullRules: string[];
  updatedBy: string;
  updatedAt: string;
}
