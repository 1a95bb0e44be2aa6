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

  addMember(project: string, username: string, role: string): Promise<MemberRow>;
  listMembers(project: string): Promise<MemberRow[]>;
  removeMember(project: string, username: string): Promise<void>;

  createRobot(spec: RobotCreate): Promise<{ robot: RobotRow; secret: string }>;
  listRobots(project?: string): Promise<RobotRow[]>;
  disableRobot(idOrName: string): Promise<RobotRow>;
  deleteRobot(idOrName: string): Promise<void>;

  close(): Promise<void>;
}
