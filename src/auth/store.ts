// Queries for the multi-tenancy tables (types in src/meta/auth-schema.ts): users, projects,
// members, robots, audit log; sessions and refresh tokens delegate to src/meta/sessions.ts
// and src/meta/refresh-tokens.ts. Thin and dialect-neutral (SQLite and PostgreSQL):
// no business rules here — callers (auth/ services, api/, cli/admin) decide who may do what.
// Returns domain objects, never password or secret hashes unless the method says so.
import { randomBytes, randomUUID } from "node:crypto";
import type { Kysely, SelectQueryBuilder } from "kysely";
import type { AuthTables } from "../meta/auth-schema.js";
import { type Database, executeRelaxed } from "../meta/database.js";
import {
  deleteAccountRefreshTokens,
  deleteExpiredRefreshTokens,
  deleteRefreshToken,
  findRefreshToken,
  insertRefreshToken,
  listRefreshTokens,
  type RefreshAccountKind,
  type RefreshTokenRow,
  touchRefreshToken,
} from "../meta/refresh-tokens.js";
import {
  deleteExpiredSessionRows,
  deleteSessionRow,
  deleteUserSessions,
  findSessionRow,
  insertSession,
  listSessionRows,
  type SessionRow,
} from "../meta/sessions.js";
import { isRegistryAction, type RegistryAction, type Role } from "./permissions.js";

export interface User {
  readonly id: string;
  readonly username: string;
  readonly isAdmin: boolean;
  readonly email: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Credential generation: tokens stamped with an older one are refused. */
  readonly generation: number;
  /** A disabled user cannot sign in or use any credential. */
  readonly disabled: boolean;
}

export interface Project {
  readonly id: string;
  readonly name: string;
  readonly isPublic: boolean;
  readonly quotaBytes: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Member {
  readonly username: string;
  readonly role: Role;
  readonly createdAt: string;
}

export interface RobotPermission {
  /** Project name or `*`. */
  readonly project: string;
  readonly actions: RegistryAction[];
}

export interface Robot {
  readonly id: string;
  readonly name: string;
  readonly level: "system" | "project";
  readonly project: string | null;
  readonly description: string | null;
  readonly disabled: boolean;
  readonly expiresAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly permissions: RobotPermission[];
  /** Credential generation: tokens stamped with an older one are refused. */
  readonly generation: number;
}

export interface AuditEntry {
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly actorKind: string;
  readonly action: string;
  readonly resourceType: string;
  readonly resource: string;
  readonly project: string | null;
  readonly remoteAddress: string | null;
  readonly outcome: string;
  readonly detail: string | null;
}

export interface PageRequest<S extends string> {
  readonly page: number;
  readonly pageSize: number;
  readonly sort: S;
  readonly descending: boolean;
}

export interface Page<T> {
  readonly items: T[];
  readonly total: number;
}

export interface AuditFilter {
  readonly actor?: string;
  readonly action?: string;
  readonly project?: string;
  readonly resource?: string;
  readonly resourceType?: string;
  readonly outcome?: string;
  readonly since?: string;
  readonly until?: string;
}

const iso = (): string => new Date().toISOString();
const offset = (p: PageRequest<string>): number => (p.page - 1) * p.pageSize;

function auditRow(entry: Omit<AuditEntry, "id" | "at"> & { at?: string }) {
  const atMs = entry.at ? Date.parse(entry.at) : Date.now();
  return {
    id: auditId(atMs),
    at: new Date(atMs).toISOString(),
    actor: entry.actor,
    actor_kind: entry.actorKind,
    action: entry.action,
    resource_type: entry.resourceType,
    resource: entry.resource,
    project: entry.project,
    remote_address: entry.remoteAddress,
    outcome: entry.outcome,
    detail: entry.detail,
  };
}

let auditCounter = 0;
// The random part of audit ids, drawn 4 bytes at a time from one pooled buffer: a pull
// records one row, and a randomBytes() call per row was a visible frame of the pull path.
const AUDIT_RANDOM_POOL = 4096;
let auditRandom = Buffer.alloc(0);
let auditRandomAt = 0;
/** Sortable id: 12 hex of milliseconds, 6 hex of a counter, 8 hex random. */
function auditId(at: number): string {
  auditCounter = (auditCounter + 1) % 0xffffff;
  if (auditRandomAt + 4 > auditRandom.length) {
    auditRandom = randomBytes(AUDIT_RANDOM_POOL);
    auditRandomAt = 0;
  }
  const random = auditRandom.toString("hex", auditRandomAt, auditRandomAt + 4);
  auditRandomAt += 4;
  return at.toString(16).padStart(12, "0") + auditCounter.toString(16).padStart(6, "0") + random;
}

export class AuthStore {
  constructor(readonly db: Kysely<AuthTables>) {}

  // ---- users ----

  async createUser(input: {
    username: string;
    passwordHash: string;
    isAdmin: boolean;
    email?: string | null;
  }): Promise<User> {
    const now = iso();
    const row = {
      id: randomUUID(),
      username: input.username,
      password_hash: input.passwordHash,
      is_admin: input.isAdmin ? 1 : 0,
      email: input.email ?? null,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto("users").values(row).execute();
    return toUser({ ...row, credential_generation: 0, disabled: 0 });
  }

  async findUser(username: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom("users")
      .selectAll()
      .where("username", "=", username)
      .executeTakeFirst();
    return row ? toUser(row) : undefined;
  }

  async findUserById(id: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom("users")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toUser(row) : undefined;
  }

  /** The stored argon2id hash, for login only. */
  async passwordHashOf(username: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("users")
      .select("password_hash")
      .where("username", "=", username)
      .executeTakeFirst();
    return row?.password_hash;
  }

  async listUsers(
    page: PageRequest<"username" | "createdAt">,
    query?: string,
  ): Promise<Page<User>> {
    let q = this.db.selectFrom("users");
    if (query) q = q.where("username", "like", `%${escapeLike(query)}%`);
    const total = await countOf(q);
    const column = page.sort === "createdAt" ? "created_at" : "username";
    const rows = await q
      .selectAll()
      .orderBy(column, page.descending ? "desc" : "asc")
      .limit(page.pageSize)
      .offset(offset(page))
      .execute();
    return { items: rows.map(toUser), total };
  }

  async updateUser(
    username: string,
    change: { passwordHash?: string; isAdmin?: boolean; email?: string | null; disabled?: boolean },
    options: { bumpGeneration?: boolean } = {},
  ): Promise<boolean> {
    const result = await this.db
      .updateTable("users")
      .set((eb) => ({
        ...(options.bumpGeneration
          ? { credential_generation: eb("credential_generation", "+", 1) }
          : {}),
        ...(change.passwordHash !== undefined ? { password_hash: change.passwordHash } : {}),
        ...(change.isAdmin !== undefined ? { is_admin: change.isAdmin ? 1 : 0 } : {}),
        ...(change.email !== undefined ? { email: change.email } : {}),
        ...(change.disabled !== undefined ? { disabled: change.disabled ? 1 : 0 } : {}),
        updated_at: iso(),
      }))
      .where("username", "=", username)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async deleteUser(username: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const user = await tx
        .selectFrom("users")
        .select("id")
        .where("username", "=", username)
        .executeTakeFirst();
      if (!user) return false;
      await tx.deleteFrom("sessions").where("user_id", "=", user.id).execute();
      await tx
        .deleteFrom("refresh_tokens")
        .where("account_kind", "=", "user")
        .where("account_id", "=", user.id)
        .execute();
      await tx.deleteFrom("project_members").where("user_id", "=", user.id).execute();
      await tx.deleteFrom("users").where("id", "=", user.id).execute();
      return true;
    });
  }

  async countAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom("users")
      .select((eb) => eb.fn.countAll<string | number>().as("n"))
      .where("is_admin", "=", 1)
      .where("disabled", "=", 0)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // ---- projects ----

  async createProject(input: {
    name: string;
    isPublic: boolean;
    quotaBytes: number | null;
  }): Promise<Project> {
    const now = iso();
    const row = {
      id: randomUUID(),
      name: input.name,
      is_public: input.isPublic ? 1 : 0,
      quota_bytes: input.quotaBytes,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto("projects").values(row).execute();
    return toProject(row);
  }

  async findProject(name: string): Promise<Project | undefined> {
    const row = await this.db
      .selectFrom("projects")
      .selectAll()
      .where("name", "=", name)
      .executeTakeFirst();
    return row ? toProject(row) : undefined;
  }

  /**
   * Projects visible to someone: all (`visibleTo` undefined, for admins) or the public ones
   * plus those where `visibleTo` (a user id, or null for anonymous) is a member.
   */
  async listProjects(
    page: PageRequest<"name" | "createdAt">,
    options: { visibleTo?: string | null; query?: string; names?: readonly string[] },
  ): Promise<Page<Project>> {
    let q = this.db.selectFrom("projects");
    if (options.visibleTo !== undefined) {
      const userId = options.visibleTo;
      const names = options.names ?? [];
      q = q.where((eb) =>
        eb.or([
          eb("is_public", "=", 1),
          ...(userId !== null
            ? [
                eb(
                  "id",
                  "in",
                  eb
                    .selectFrom("project_members")
                    .select("project_id")
                    .where("user_id", "=", userId),
                ),
              ]
            : []),
          ...(names.length > 0 ? [eb("name", "in", names)] : []),
        ]),
      );
    }
    if (options.query) q = q.where("name", "like", `%${escapeLike(options.query)}%`);
    const total = await countOf(q);
    const column = page.sort === "createdAt" ? "created_at" : "name";
    const rows = await q
      .selectAll()
      .orderBy(column, page.descending ? "desc" : "asc")
      .limit(page.pageSize)
      .offset(offset(page))
      .execute();
    return { items: rows.map(toProject), total };
  }

  async updateProject(
    name: string,
    change: { isPublic?: boolean; quotaBytes?: number | null },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable("projects")
      .set({
        ...(change.isPublic !== undefined ? { is_public: change.isPublic ? 1 : 0 } : {}),
        ...(change.quotaBytes !== undefined ? { quota_bytes: change.quotaBytes } : {}),
        updated_at: iso(),
      })
      .where("name", "=", name)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async deleteProject(name: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const project = await tx
        .selectFrom("projects")
        .select("id")
        .where("name", "=", name)
        .executeTakeFirst();
      if (!project) return false;
      const robots = tx.selectFrom("robots").select("id").where("project_id", "=", project.id);
      await tx
        .deleteFrom("refresh_tokens")
        .where("account_kind", "=", "robot")
        .where("account_id", "in", robots)
        .execute();
      await tx.deleteFrom("robot_permissions").where("robot_id", "in", robots).execute();
      await tx.deleteFrom("robots").where("project_id", "=", project.id).execute();
      await tx.deleteFrom("robot_permissions").where("project", "=", name).execute();
      await tx.deleteFrom("project_members").where("project_id", "=", project.id).execute();
      await tx.deleteFrom("projects").where("id", "=", project.id).execute();
      return true;
    });
  }

  // ---- members ----

  async roleOf(projectName: string, username: string): Promise<Role | undefined> {
    const row = await this.db
      .selectFrom("project_members as m")
      .innerJoin("projects as p", "p.id", "m.project_id")
      .innerJoin("users as u", "u.id", "m.user_id")
      .select("m.role")
      .where("p.name", "=", projectName)
      .where("u.username", "=", username)
      .executeTakeFirst();
    return row?.role as Role | undefined;
  }

  async userIdOf(username: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("users")
      .select("id")
      .where("username", "=", username)
      .executeTakeFirst();
    return row?.id;
  }

  async setMember(
    projectName: string,
    username: string,
    role: Role,
  ): Promise<"added" | "updated" | "missing"> {
    return this.db.transaction().execute(async (tx) => {
      const project = await tx
        .selectFrom("projects")
        .select("id")
        .where("name", "=", projectName)
        .executeTakeFirst();
      const user = await tx
        .selectFrom("users")
        .select("id")
        .where("username", "=", username)
        .executeTakeFirst();
      if (!project || !user) return "missing";
      const existing = await tx
        .selectFrom("project_members")
        .select("role")
        .where("project_id", "=", project.id)
        .where("user_id", "=", user.id)
        .executeTakeFirst();
      if (existing) {
        await tx
          .updateTable("project_members")
          .set({ role })
          .where("project_id", "=", project.id)
          .where("user_id", "=", user.id)
          .execute();
        return "updated";
      }
      await tx
        .insertInto("project_members")
        .values({ project_id: project.id, user_id: user.id, role, created_at: iso() })
        .execute();
      return "added";
    });
  }

  async removeMember(projectName: string, username: string): Promise<boolean> {
    const project = await this.findProject(projectName);
    const userId = await this.userIdOf(username);
    if (!project || !userId) return false;
    const result = await this.db
      .deleteFrom("project_members")
      .where("project_id", "=", project.id)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async listMembers(
    projectName: string,
    page: PageRequest<"username" | "role" | "createdAt">,
  ): Promise<Page<Member>> {
    const q = this.db
      .selectFrom("project_members as m")
      .innerJoin("projects as p", "p.id", "m.project_id")
      .innerJoin("users as u", "u.id", "m.user_id")
      .where("p.name", "=", projectName);
    const total = await countOf(q);
    const column =
      page.sort === "role" ? "m.role" : page.sort === "createdAt" ? "m.created_at" : "u.username";
    const rows = await q
      .select(["u.username", "m.role", "m.created_at"])
      .orderBy(column, page.descending ? "desc" : "asc")
      .limit(page.pageSize)
      .offset(offset(page))
      .execute();
    return {
      items: rows.map((r) => ({
        username: r.username,
        role: r.role as Role,
        createdAt: r.created_at,
      })),
      total,
    };
  }

  // ---- robots ----

  async createRobot(input: {
    name: string;
    level: "system" | "project";
    projectId: string | null;
    description: string | null;
    secretHash: string;
    expiresAt: string | null;
    permissions: RobotPermission[];
  }): Promise<Robot> {
    const now = iso();
    const id = randomUUID();
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto("robots")
        .values({
          id,
          name: input.name,
          level: input.level,
          project_id: input.projectId,
          description: input.description,
          secret_hash: input.secretHash,
          disabled: 0,
          expires_at: input.expiresAt,
          created_at: now,
          updated_at: now,
        })
        .execute();
      for (const p of input.permissions) {
        await tx
          .insertInto("robot_permissions")
          .values({ robot_id: id, project: p.project, actions: p.actions.join(",") })
          .execute();
      }
    });
    const robot = await this.findRobotById(id);
    if (!robot) throw new Error("robot vanished after creation");
    return robot;
  }

  async findRobotById(id: string): Promise<Robot | undefined> {
    return this.findRobotWhere("r.id", id);
  }

  async findRobot(name: string): Promise<Robot | undefined> {
    return this.findRobotWhere("r.name", name);
  }

  async robotSecretHash(name: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("robots")
      .select("secret_hash")
      .where("name", "=", name)
      .executeTakeFirst();
    return row?.secret_hash;
  }

  async listRobots(
    page: PageRequest<"name" | "createdAt">,
    filter: { projectName?: string; level?: "system" | "project" },
  ): Promise<Page<Robot>> {
    let q = this.db.selectFrom("robots as r").leftJoin("projects as p", "p.id", "r.project_id");
    if (filter.projectName !== undefined) q = q.where("p.name", "=", filter.projectName);
    if (filter.level !== undefined) q = q.where("r.level", "=", filter.level);
    const total = await countOf(q);
    const rows = await q
      .select("r.id")
      .orderBy(
        page.sort === "createdAt" ? "r.created_at" : "r.name",
        page.descending ? "desc" : "asc",
      )
      .limit(page.pageSize)
      .offset(offset(page))
      .execute();
    const items: Robot[] = [];
    for (const row of rows) {
      const robot = await this.findRobotById(row.id);
      if (robot) items.push(robot);
    }
    return { items, total };
  }

  async updateRobot(
    id: string,
    change: {
      disabled?: boolean;
      secretHash?: string;
      expiresAt?: string | null;
      description?: string | null;
    },
    options: { bumpGeneration?: boolean } = {},
  ): Promise<boolean> {
    const result = await this.db
      .updateTable("robots")
      .set((eb) => ({
        ...(options.bumpGeneration
          ? { credential_generation: eb("credential_generation", "+", 1) }
          : {}),
        ...(change.disabled !== undefined ? { disabled: change.disabled ? 1 : 0 } : {}),
        ...(change.secretHash !== undefined ? { secret_hash: change.secretHash } : {}),
        ...(change.expiresAt !== undefined ? { expires_at: change.expiresAt } : {}),
        ...(change.description !== undefined ? { description: change.description } : {}),
        updated_at: iso(),
      }))
      .where("id", "=", id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async deleteRobot(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom("robot_permissions").where("robot_id", "=", id).execute();
      await tx
        .deleteFrom("refresh_tokens")
        .where("account_kind", "=", "robot")
        .where("account_id", "=", id)
        .execute();
      const result = await tx.deleteFrom("robots").where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  private async findRobotWhere(
    column: "r.id" | "r.name",
    value: string,
  ): Promise<Robot | undefined> {
    const row = await this.db
      .selectFrom("robots as r")
      .leftJoin("projects as p", "p.id", "r.project_id")
      .select([
        "r.id",
        "r.name",
        "r.level",
        "r.description",
        "r.disabled",
        "r.expires_at",
        "r.created_at",
        "r.updated_at",
        "r.credential_generation",
        "p.name as project",
      ])
      .where(column, "=", value)
      .executeTakeFirst();
    if (!row) return undefined;
    const perms = await this.db
      .selectFrom("robot_permissions")
      .select(["project", "actions"])
      .where("robot_id", "=", row.id)
      .orderBy("project")
      .execute();
    return {
      id: row.id,
      name: row.name,
      level: row.level === "system" ? "system" : "project",
      project: row.project ?? null,
      description: row.description,
      disabled: Number(row.disabled) === 1,
      expiresAt: row.expires_at,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      permissions: perms.map((p) => ({
        project: p.project,
        actions: p.actions.split(",").filter(isRegistryAction),
      })),
      generation: Number(row.credential_generation),
    };
  }

  // ---- sessions (rows in src/meta/sessions.ts) ----

  async createSession(input: {
    idHash: string;
    userId: string;
    csrfToken: string;
    expiresAt: string;
    remoteAddress?: string | null;
  }): Promise<void> {
    await insertSession(this.db, { ...input, remoteAddress: input.remoteAddress ?? null });
  }

  async findSession(
    idHash: string,
  ): Promise<{ user: User; csrfToken: string; expiresAt: string } | undefined> {
    const row = await findSessionRow(this.db, idHash);
    if (!row) return undefined;
    const user = await this.findUserById(row.userId);
    if (!user) return undefined;
    return { user, csrfToken: row.csrfToken, expiresAt: row.expiresAt };
  }

  async listSessions(userId: string): Promise<SessionRow[]> {
    return listSessionRows(this.db, userId);
  }

  async deleteSession(idHash: string): Promise<boolean> {
    return deleteSessionRow(this.db, idHash);
  }

  /** Ends a user's sessions (all but `keepIdHash`); returns how many ended. */
  async deleteSessionsOf(userId: string, keepIdHash?: string): Promise<number> {
    return deleteUserSessions(this.db, userId, keepIdHash);
  }

  async deleteExpiredSessions(now: string): Promise<void> {
    await deleteExpiredSessionRows(this.db, now);
  }

  // ---- refresh tokens (rows in src/meta/refresh-tokens.ts) ----

  async recordRefreshToken(row: Omit<RefreshTokenRow, "lastUsedAt">): Promise<void> {
    await deleteExpiredRefreshTokens(this.db, iso());
    await insertRefreshToken(this.db, row);
  }

  async findRefreshToken(id: string): Promise<RefreshTokenRow | undefined> {
    return findRefreshToken(this.db, id);
  }

  async touchRefreshToken(id: string): Promise<void> {
    await touchRefreshToken(this.db, id, iso());
  }

  async listRefreshTokens(kind: RefreshAccountKind, accountId: string): Promise<RefreshTokenRow[]> {
    return listRefreshTokens(this.db, kind, accountId);
  }

  async deleteRefreshToken(id: string): Promise<boolean> {
    return deleteRefreshToken(this.db, id);
  }

  /** Revokes every refresh token of an account; returns how many there were. */
  async deleteRefreshTokensOf(kind: RefreshAccountKind, accountId: string): Promise<number> {
    return deleteAccountRefreshTokens(this.db, kind, accountId);
  }

  // ---- audit ----

  async appendAudit(entry: Omit<AuditEntry, "id" | "at"> & { at?: string }): Promise<void> {
    await this.auditInsert(entry).execute();
  }

  /**
   * appendAudit as a relaxed commit (meta/database.ts: no fsync; survives a killed process,
   * durable with the next full commit): for the records of hot paths (every pull), which a
   * full commit would make fsync the database on each request.
   */
  async appendAuditRelaxed(entry: Omit<AuditEntry, "id" | "at"> & { at?: string }): Promise<void> {
    await executeRelaxed(this.db as unknown as Kysely<Database>, this.auditInsert(entry));
  }

  /**
   * Appends many entries in one transaction (one commit, one fsync): the batched pull records
   * (audit-buffer.ts). Each entry keeps its own `at`; ids sort as if appended one by one.
   */
  async appendAuditBatch(
    entries: readonly (Omit<AuditEntry, "id" | "at"> & { at?: string })[],
  ): Promise<void> {
    if (entries.length === 0) return;
    const rows = entries.map(auditRow);
    await this.db.transaction().execute(async (trx) => {
      // 11 columns a row: 80 rows stay under SQLite's 999 bound parameters per statement.
      for (let i = 0; i < rows.length; i += 80) {
        await trx
          .insertInto("audit_log")
          .values(rows.slice(i, i + 80))
          .execute();
      }
    });
  }

  private auditInsert(entry: Omit<AuditEntry, "id" | "at"> & { at?: string }) {
    return this.db.insertInto("audit_log").values(auditRow(entry));
  }

  async listAudit(
    page: PageRequest<"at" | "actor" | "action">,
    filter: AuditFilter,
  ): Promise<Page<AuditEntry>> {
    let q = this.db.selectFrom("audit_log");
    if (filter.actor) q = q.where("actor", "=", filter.actor);
    if (filter.action) q = q.where("action", "=", filter.action);
    if (filter.project) q = q.where("project", "=", filter.project);
    if (filter.resourceType) q = q.where("resource_type", "=", filter.resourceType);
    if (filter.resource) q = q.where("resource", "like", `%${escapeLike(filter.resource)}%`);
    if (filter.outcome) q = q.where("outcome", "=", filter.outcome);
    if (filter.since) q = q.where("at", ">=", filter.since);
    if (filter.until) q = q.where("at", "<=", filter.until);
    const total = await countOf(q);
    const direction = page.descending ? "desc" : "asc";
    const rows = await q
      .selectAll()
      .orderBy(page.sort === "at" ? "id" : page.sort, direction)
      .orderBy("id", direction)
      .limit(page.pageSize)
      .offset(offset(page))
      .execute();
    return {
      items: rows.map((r) => ({
        id: r.id,
        at: r.at,
        actor: r.actor,
        actorKind: r.actor_kind,
        action: r.action,
        resourceType: r.resource_type,
        resource: r.resource,
        project: r.project,
        remoteAddress: r.remote_address,
        outcome: r.outcome,
        detail: r.detail,
      })),
      total,
    };
  }
}

async function countOf<DB, TB extends keyof DB>(
  q: SelectQueryBuilder<DB, TB, Record<never, never>>,
): Promise<number> {
  const row = await q.select((eb) => eb.fn.countAll<number | string>().as("n")).executeTakeFirst();
  return Number((row as { n?: number | string } | undefined)?.n ?? 0);
}

function escapeLike(text: string): string {
  return text.replace(/[%_\\]/g, "");
}

function toUser(row: {
  id: string;
  username: string;
  is_admin: number;
  email: string | null;
  created_at: string;
  updated_at: string;
  credential_generation: number;
  disabled: number;
}): User {
  return {
    id: row.id,
    username: row.username,
    isAdmin: Number(row.is_admin) === 1,
    email: row.email,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    generation: Number(row.credential_generation),
    disabled: Number(row.disabled) === 1,
  };
}

function toProject(row: {
  id: string;
  name: string;
  is_public: number;
  quota_bytes: number | string | null;
  created_at: string;
  updated_at: string;
}): Project {
  return {
    id: row.id,
    name: row.name,
    isPublic: Number(row.is_public) === 1,
    quotaBytes: row.quota_bytes === null ? null : Number(row.quota_bytes),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
