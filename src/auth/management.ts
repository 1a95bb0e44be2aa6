// The management operations on users, projects, members and robot accounts, with their
// validation rules, shared by the REST API (after it checked permissions) and
// `berth admin --data DIR` (the operator, who may do everything). Every change is audited
// and invalidates cached permission and account answers. Robot secrets are returned once,
// stored hashed. Revocation: a password reset, a robot's secret rotation, disabling or
// deleting an account bump its credential generation (every access token issued before
// is refused on its next request), delete its refresh tokens and (users) its browser
// sessions, and write a `credentials.revoke` audit entry saying what ended and why.
import type { Principal } from "./access.js";
import { ROBOT_PREFIX } from "./accounts.js";
import type { AuditLog } from "./audit.js";
import type { Authorizer } from "./authorizer.js";
import { hashPassword, newSecret, passwordProblem, sha256Hex } from "./passwords.js";
import {
  DEFAULT_PROJECT,
  isRegistryAction,
  parseRole,
  type RegistryAction,
  type Role,
} from "./permissions.js";
import type { AuthStore, Project, Robot, RobotPermission, User } from "./store.js";

/** Who performs a management operation, and from where (for the audit log). */
export interface Actor extends Principal {
  readonly remoteAddress?: string;
}

export type ManagementErrorCode = "NOT_FOUND" | "CONFLICT" | "INVALID" | "FORBIDDEN";

export class ManagementError extends Error {
  constructor(
    readonly code: ManagementErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ManagementError";
  }
}

const USERNAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const COMPONENT = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/;

export function usernameProblem(name: string): string | undefined {
  return USERNAME.test(name)
    ? undefined
    : "user names are 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit";
}

export function projectNameProblem(name: string): string | undefined {
  return COMPONENT.test(name) && name.length <= 255
    ? undefined
    : "project names are lowercase letters and digits, separated by '.', '_' or '-'";
}

export interface RobotSpec {
  readonly name: string;
  /** The owning project for a project-level robot; undefined for a system robot. */
  readonly project?: string;
  readonly description?: string | null;
  /** Per-project grants; for a project robot only its own project is allowed. */
  readonly permissions: readonly { project: string; actions: readonly string[] }[];
  /** Expiry instant (ISO) or null for never. */
  readonly expiresAt: string | null;
}

export interface CreatedRobot {
  readonly robot: Robot;
  /** Shown exactly once. */
  readonly secret: string;
}

export class Management {
  constructor(
    readonly store: AuthStore,
    private readonly audit: AuditLog,
    private readonly authorizer: Authorizer,
  ) {}

  // ---- users ----

  async createUser(
    actor: Actor,
    input: { username: string; password: string; isAdmin: boolean; email?: string | null },
  ): Promise<User> {
    const problem = usernameProblem(input.username) ?? passwordProblem(input.password);
    if (problem) throw new ManagementError("INVALID", problem);
    if (await this.store.findUser(input.username)) {
      throw new ManagementError("CONFLICT", `user "${input.username}" already exists`);
    }
    const user = await this.store.createUser({
      username: input.username,
      passwordHash: await hashPassword(input.password),
      isAdmin: input.isAdmin,
      email: input.email ?? null,
    });
    await this.record(actor, "user.create", "user", user.username, null, {
      isAdmin: input.isAdmin,
    });
    return user;
  }

  /**
   * Sets a password and revokes everything the old one let anyone obtain: access tokens
   * (generation bump), refresh tokens and browser sessions — all but the session
   * `options.keepSessionIdHash` the change was made from, when given.
   */
  async setPassword(
    actor: Actor,
    username: string,
    password: string,
    options: { keepSessionIdHash?: string; verifiedCurrentPassword?: boolean } = {},
  ): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new ManagementError("INVALID", problem);
    const user = await this.requireUser(username);
    const passwordHash = await hashPassword(password);
    if (!(await this.store.updateUser(username, { passwordHash }))) {
      throw notFound("user", username);
    }
    await this.record(actor, "user.password", "user", username, null, {
      ...(options.verifiedCurrentPassword ? { verifiedCurrentPassword: true } : {}),
    });
    await this.revokeUserCredentials(actor, user, "password changed", {
      endAccessTokens: true,
      ...(options.keepSessionIdHash ? { keepSessionIdHash: options.keepSessionIdHash } : {}),
    });
  }

  /**
   * Ends a user's browser sessions (all but `keepSessionIdHash`) and refresh tokens, and with
   * `endAccessTokens` every access token issued so far (generation bump); audits what ended.
   * "Sign out everywhere".
   */
  async revokeUserCredentials(
    actor: Actor,
    user: User,
    reason: string,
    options: { endAccessTokens: boolean; keepSessionIdHash?: string },
  ): Promise<{ sessions: number; refreshTokens: number }> {
    if (options.endAccessTokens)
      await this.store.updateUser(user.username, {}, { bumpGeneration: true });
    const sessions = await this.store.deleteSessionsOf(user.id, options.keepSessionIdHash);
    const refreshTokens = await this.store.deleteRefreshTokensOf("user", user.id);
    this.authorizer.invalidate();
    await this.record(actor, "credentials.revoke", "user", user.username, null, {
      reason,
      sessions,
      refreshTokens,
      accessTokens: options.endAccessTokens ? "all" : "none",
      ...(options.keepSessionIdHash ? { keptCurrentSession: true } : {}),
    });
    return { sessions, refreshTokens };
  }

  async updateUser(
    actor: Actor,
    username: string,
    change: { isAdmin?: boolean; email?: string | null; disabled?: boolean },
  ): Promise<User> {
    const user = await this.requireUser(username);
    const demoting = change.isAdmin === false || change.disabled === true;
    if (demoting && user.isAdmin && (await this.store.countAdmins()) <= 1) {
      throw new ManagementError(
        "CONFLICT",
        change.disabled
          ? "cannot disable the last system administrator"
          : "cannot remove the last system administrator",
      );
    }
    await this.store.updateUser(username, change);
    // Disabling ends every session, refresh token and access token the user holds.
    if (change.disabled === true && !user.disabled)
      await this.revokeUserCredentials(actor, user, "user disabled", { endAccessTokens: true });
    this.authorizer.invalidate();
    await this.record(actor, "user.update", "user", username, null, change);
    return this.requireUser(username);
  }

  async deleteUser(actor: Actor, username: string): Promise<void> {
    const user = await this.requireUser(username);
    if (user.isAdmin && (await this.store.countAdmins()) <= 1) {
      throw new ManagementError("CONFLICT", "cannot delete the last system administrator");
    }
    await this.revokeUserCredentials(actor, user, "user deleted", { endAccessTokens: true });
    await this.store.deleteUser(username);
    this.authorizer.invalidate();
    await this.record(actor, "user.delete", "user", username, null);
  }

  async requireUser(username: string): Promise<User> {
    const user = await this.store.findUser(username);
    if (!user) throw notFound("user", username);
    return user;
  }

  // ---- projects ----

  async createProject(
    actor: Actor,
    input: { name: string; isPublic: boolean; quotaBytes: number | null },
    owner?: string,
  ): Promise<Project> {
    const problem = projectNameProblem(input.name);
    if (problem) throw new ManagementError("INVALID", problem);
    if (
      input.quotaBytes !== null &&
      (input.quotaBytes < 0 || !Number.isSafeInteger(input.quotaBytes))
    ) {
      throw new ManagementError("INVALID", "quota must be a non-negative number of bytes");
    }
    if (await this.store.findProject(input.name)) {
      throw new ManagementError("CONFLICT", `project "${input.name}" already exists`);
    }
    const project = await this.store.createProject(input);
    if (owner) await this.store.setMember(project.name, owner, "projectAdmin");
    this.authorizer.invalidate();
    await this.record(actor, "project.create", "project", project.name, project.name, {
      public: input.isPublic,
      quotaBytes: input.quotaBytes,
    });
    return project;
  }

  async updateProject(
    actor: Actor,
    name: string,
    change: { isPublic?: boolean; quotaBytes?: number | null },
  ): Promise<Project> {
    await this.requireProject(name);
    if (change.quotaBytes !== undefined && change.quotaBytes !== null && change.quotaBytes < 0) {
      throw new ManagementError("INVALID", "quota must be a non-negative number of bytes");
    }
    await this.store.updateProject(name, change);
    this.authorizer.invalidate();
    const action = change.quotaBytes !== undefined ? "quota.update" : "project.update";
    await this.record(actor, action, "project", name, name, change);
    return this.requireProject(name);
  }

  /** Deletes a project's access records; the caller must have checked it holds no repositories. */
  async deleteProject(actor: Actor, name: string): Promise<void> {
    await this.requireProject(name);
    if (name === DEFAULT_PROJECT)
      throw new ManagementError("CONFLICT", `the "${DEFAULT_PROJECT}" project cannot be deleted`);
    await this.store.deleteProject(name);
    this.authorizer.invalidate();
    await this.record(actor, "project.delete", "project", name, name);
  }

  async requireProject(name: string): Promise<Project> {
    const project = await this.store.findProject(name);
    if (!project) throw notFound("project", name);
    return project;
  }

  // ---- members ----

  async setMember(
    actor: Actor,
    project: string,
    username: string,
    roleText: string,
  ): Promise<"added" | "updated"> {
    const role = parseRole(roleText);
    if (!role) {
      throw new ManagementError(
        "INVALID",
        `unknown role "${roleText}" (use admin, maintainer, developer, guest or limited-guest)`,
      );
    }
    await this.requireProject(project);
    await this.requireUser(username);
    const result = await this.store.setMember(project, username, role);
    if (result === "missing") throw notFound("project or user", `${project}/${username}`);
    this.authorizer.invalidate();
    await this.record(
      actor,
      result === "added" ? "member.add" : "member.update",
      "member",
      username,
      project,
      { role },
    );
    return result;
  }

  async removeMember(actor: Actor, project: string, username: string): Promise<void> {
    await this.requireProject(project);
    if (!(await this.store.removeMember(project, username))) {
      throw new ManagementError(
        "NOT_FOUND",
        `"${username}" is not a member of project "${project}"`,
      );
    }
    this.authorizer.invalidate();
    await this.record(actor, "member.remove", "member", username, project);
  }

  async roleOf(project: string, username: string): Promise<Role | undefined> {
    return this.store.roleOf(project, username);
  }

  // ---- robots ----

  async createRobot(actor: Actor, spec: RobotSpec): Promise<CreatedRobot> {
    const problem = projectNameProblem(spec.name);
    if (problem)
      throw new ManagementError("INVALID", `robot ${problem.replace("project names", "names")}`);
    const permissions = await this.robotPermissions(spec);
    const owner = spec.project ? await this.requireProject(spec.project) : undefined;
    const fullName = owner
      ? `${ROBOT_PREFIX}${owner.name}+${spec.name}`
      : `${ROBOT_PREFIX}${spec.name}`;
    if (await this.store.findRobot(fullName))
      throw new ManagementError("CONFLICT", `robot "${fullName}" already exists`);
    if (spec.expiresAt !== null && !(Date.parse(spec.expiresAt) > 0)) {
      throw new ManagementError("INVALID", "expiry must be an ISO date-time or null");
    }
    const secret = newSecret();
    const robot = await this.store.createRobot({
      name: fullName,
      level: owner ? "project" : "system",
      projectId: owner?.id ?? null,
      description: spec.description ?? null,
      secretHash: sha256Hex(secret),
      expiresAt: spec.expiresAt,
      permissions,
    });
    await this.record(actor, "robot.create", "robot", robot.name, owner?.name ?? null, {
      permissions,
      expiresAt: spec.expiresAt,
    });
    return { robot, secret };
  }

  async setRobotDisabled(actor: Actor, robot: Robot, disabled: boolean): Promise<Robot> {
    // Disabling ends every token; enabling again does not bring the old ones back.
    await this.store.updateRobot(robot.id, { disabled }, { bumpGeneration: disabled });
    if (disabled) await this.revokeRobotCredentials(actor, robot, "robot disabled");
    this.authorizer.invalidate();
    await this.record(
      actor,
      disabled ? "robot.disable" : "robot.enable",
      "robot",
      robot.name,
      robot.project,
    );
    return (await this.store.findRobotById(robot.id)) ?? robot;
  }

  async refreshRobotSecret(actor: Actor, robot: Robot): Promise<CreatedRobot> {
    const secret = newSecret();
    await this.store.updateRobot(
      robot.id,
      { secretHash: sha256Hex(secret) },
      { bumpGeneration: true },
    );
    this.authorizer.invalidate();
    await this.record(actor, "robot.refresh", "robot", robot.name, robot.project);
    await this.revokeRobotCredentials(actor, robot, "secret rotated");
    return { robot: (await this.store.findRobotById(robot.id)) ?? robot, secret };
  }

  /** Deletes a robot's refresh tokens and audits it (the caller bumped its generation). */
  private async revokeRobotCredentials(actor: Actor, robot: Robot, reason: string): Promise<void> {
    const refreshTokens = await this.store.deleteRefreshTokensOf("robot", robot.id);
    this.authorizer.invalidate();
    await this.record(actor, "credentials.revoke", "robot", robot.name, robot.project, {
      reason,
      refreshTokens,
      accessTokens: "all",
    });
  }

  async deleteRobot(actor: Actor, robot: Robot): Promise<void> {
    await this.store.updateRobot(robot.id, {}, { bumpGeneration: true });
    await this.revokeRobotCredentials(actor, robot, "robot deleted");
    await this.store.deleteRobot(robot.id);
    this.authorizer.invalidate();
    await this.record(actor, "robot.delete", "robot", robot.name, robot.project);
  }

  /** Find a robot by id or full name (`robot$…`). */
  async requireRobot(idOrName: string): Promise<Robot> {
    const robot = idOrName.startsWith(ROBOT_PREFIX)
      ? await this.store.findRobot(idOrName)
      : await this.store.findRobotById(idOrName);
    if (!robot) throw notFound("robot", idOrName);
    return robot;
  }

  private async robotPermissions(spec: RobotSpec): Promise<RobotPermission[]> {
    if (spec.permissions.length === 0)
      throw new ManagementError("INVALID", "a robot needs at least one permission");
    const out: RobotPermission[] = [];
    for (const p of spec.permissions) {
      if (spec.project && p.project !== spec.project) {
        throw new ManagementError(
          "INVALID",
          `a project robot of "${spec.project}" cannot be granted access to "${p.project}"`,
        );
      }
      if (p.project !== "*") await this.requireProject(p.project);
      const bad = p.actions.filter((a) => !isRegistryAction(a));
      if (bad.length > 0 || p.actions.length === 0) {
        throw new ManagementError(
          "INVALID",
          `unknown robot permission "${bad[0] ?? ""}" (use pull, push, delete)`,
        );
      }
      if (out.some((o) => o.project === p.project)) {
        throw new ManagementError("INVALID", `project "${p.project}" is listed twice`);
      }
      out.push({ project: p.project, actions: [...new Set(p.actions as RegistryAction[])] });
    }
    return out;
  }

  private async record(
    actor: Actor,
    action: string,
    resourceType: string,
    resource: string,
    project: string | null,
    detail?: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.record({
      actor,
      action,
      resourceType,
      resource,
      project,
      remoteAddress: actor.remoteAddress ?? null,
      ...(detail ? { detail } : {}),
    });
  }
}

function notFound(kind: string, name: string): ManagementError {
  return new ManagementError("NOT_FOUND", `${kind} "${name}" not found`);
}
