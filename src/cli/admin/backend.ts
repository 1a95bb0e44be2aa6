// What `berth admin` needs from wherever the data lives: a running server (remote.ts, over
// the management API) or a stopped server's data directory (direct.ts). Both return the
// API's JSON shapes so the commands print the same thing either way.

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

export interface RobotCreate {
  name: string;
  /** Project robot of this project; undefined for a system robot. */
  project?: string;
  permissions: { project: string; actions: string[] }[];
  expiresAt: string | null;
  description?: string | null;
}

export interface AdminBackend {
  createUser(username: string, password: string, isAdmin: boolean): Promise<UserRow>;
  listUsers(): Promise<UserRow[]>;
  setPassword(username: string, password: string): Promise<void>;
  deleteUser(username: string): Promise<void>;

  createProject(name: string, isPublic: boolean, quotaBytes: number | null): Promise<ProjectRow>;
  listProjects(): Promise<ProjectRow[]>;
  deleteProject(name: string): Promise<void>;

  addMember(project: string, username: string, role: string): Promise<MemberRow>;
  listMembers(project: string): Promise<MemberRow[]>;
  removeMember(project: string, username: string): Promise<void>;

  createRobot(spec: RobotCreate): Promise<{ robot: RobotRow; secret: string }>;
  listRobots(project?: string): Promise<RobotRow[]>;
  disableRobot(idOrName: string): Promise<RobotRow>;
  deleteRobot(idOrName: string): Promise<void>;

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
  updatedBy: string;
  updatedAt: string;
}
