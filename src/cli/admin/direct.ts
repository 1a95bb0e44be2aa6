// `berth admin --data DIR`: the admin commands straight on a stopped server's metadata
// database (same configuration rules as `berth serve`: BERTH_* environment, --config).
// Acts as the operator (a system actor in the audit log). Refuses to delete a project that
// still holds repositories, exactly like the API.
import type { Kysely } from "kysely";
import { MetaRegistryView } from "../../api/registry-view.js";
import { AuditLog } from "../../auth/audit.js";
import { Authorizer } from "../../auth/authorizer.js";
import { type Actor, Management } from "../../auth/management.js";
import { AuthStore, type Robot } from "../../auth/store.js";
import { ConfigError, loadConfig } from "../../config/config.js";
import type { AuthTables } from "../../meta/auth-schema.js";
import {
  deleteGatePolicy,
  getGatePolicy,
  type StoredGatePolicy,
  setGatePolicy,
} from "../../meta/gate-policies.js";
import { type MetaDatabase, openDatabase } from "../../meta/index.js";
import { GATE_RULES, GatePolicyError, PUSH_DECIDABLE, parseGatePolicy } from "../../policy/gate.js";
import { ManifestCache, RegistryEvents } from "../../registry/index.js";
import { CliError, ExitCode } from "../errors.js";
import type { AdminBackend, GatePolicyRow, RobotCreate, RobotRow } from "./backend.js";

function parseGatePolicyOrUsage(text: string) {
  try {
    return parseGatePolicy(text);
  } catch (err) {
    if (err instanceof GatePolicyError) throw new CliError(err.message, ExitCode.Usage);
    throw err;
  }
}

function gatePolicyRow(stored: StoredGatePolicy): GatePolicyRow {
  const policy = parseGatePolicy(stored.policy);
  const rules = GATE_RULES.filter((r) => policy[r] !== undefined);
  return { ...stored, rules, pushRules: rules.filter((r) => PUSH_DECIDABLE.has(r)) };
}

const OPERATOR: Actor = { name: "operator", kind: "system", isAdmin: true, remoteAddress: "local" };
const ALL = { page: 1, pageSize: 1_000_000, descending: false } as const;

function robotRow(r: Robot): RobotRow {
  return {
    id: r.id,
    name: r.name,
    level: r.level,
    project: r.project,
    disabled: r.disabled,
    expiresAt: r.expiresAt,
    permissions: r.permissions,
    createdAt: r.createdAt,
  };
}

export class DirectBackend implements AdminBackend {
  private constructor(
    private readonly meta: MetaDatabase,
    private readonly management: Management,
    private readonly registry: MetaRegistryView,
    private readonly audit: AuditLog,
  ) {}

  static async open(dataDir: string, configFile?: string): Promise<DirectBackend> {
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig({
        file: configFile ?? process.env.BERTH_CONFIG,
        overrides: { data: dataDir },
      });
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message, ExitCode.Usage);
      throw err;
    }
    const meta = await openDatabase(config.database);
    const store = new AuthStore(meta.db as unknown as Kysely<AuthTables>);
    const log = { error: (_obj: object, msg: string) => process.stderr.write(`berth: ${msg}\n`) };
    const authorizer = new Authorizer(store);
    const audit = new AuditLog(store, log);
    const management = new Management(store, audit, authorizer);
    // Only listings are used here (no server runs: no cache to evict, no event subscribers).
    const registry = { events: new RegistryEvents(), manifestCache: new ManifestCache(0) };
    return new DirectBackend(meta, management, new MetaRegistryView(meta.db, registry), audit);
  }

  private get store() {
    return this.management.store;
  }

  async createUser(username: string, password: string, isAdmin: boolean) {
    return this.management.createUser(OPERATOR, { username, password, isAdmin });
  }
  async listUsers() {
    return (await this.store.listUsers({ ...ALL, sort: "username" })).items;
  }
  async setPassword(username: string, password: string) {
    await this.management.setPassword(OPERATOR, username, password);
  }
  async deleteUser(username: string) {
    await this.management.deleteUser(OPERATOR, username);
  }

  async createProject(name: string, isPublic: boolean, quotaBytes: number | null) {
    const p = await this.management.createProject(OPERATOR, { name, isPublic, quotaBytes });
    return { name: p.name, public: p.isPublic, quotaBytes: p.quotaBytes, createdAt: p.createdAt };
  }
  async listProjects() {
    const page = await this.store.listProjects({ ...ALL, sort: "name" }, {});
    return page.items.map((p) => ({
      name: p.name,
      public: p.isPublic,
      quotaBytes: p.quotaBytes,
      createdAt: p.createdAt,
    }));
  }
  async deleteProject(name: string) {
    await this.management.requireProject(name);
    const repositories = await this.registry.listRepositories(name);
    if (repositories.length > 0) {
      throw new CliError(
        `project "${name}" still has ${repositories.length} repositories; delete them first`,
      );
    }
    await this.management.deleteProject(OPERATOR, name);
  }

  async addMember(project: string, username: string, role: string) {
    await this.management.setMember(OPERATOR, project, username, role);
    const members = await this.listMembers(project);
    const member = members.find((m) => m.username === username);
    if (!member) throw new CliError(`could not add "${username}" to "${project}"`);
    return member;
  }
  async listMembers(project: string) {
    await this.management.requireProject(project);
    return (await this.store.listMembers(project, { ...ALL, sort: "username" })).items;
  }
  async removeMember(project: string, username: string) {
    await this.management.removeMember(OPERATOR, project, username);
  }

  async createRobot(spec: RobotCreate) {
    const created = await this.management.createRobot(OPERATOR, spec);
    return { robot: robotRow(created.robot), secret: created.secret };
  }
  async listRobots(project?: string) {
    if (project) await this.management.requireProject(project);
    const page = await this.store.listRobots(
      { ...ALL, sort: "name" },
      project ? { projectName: project } : {},
    );
    return page.items.map(robotRow);
  }
  async disableRobot(idOrName: string) {
    const robot = await this.management.requireRobot(idOrName);
    return robotRow(await this.management.setRobotDisabled(OPERATOR, robot, true));
  }
  async deleteRobot(idOrName: string) {
    await this.management.deleteRobot(OPERATOR, await this.management.requireRobot(idOrName));
  }

  async getGatePolicy(project: string) {
    await this.management.requireProject(project);
    const stored = await getGatePolicy(this.meta.db, project);
    return stored && gatePolicyRow(stored);
  }
  async setGatePolicy(project: string, policy: string) {
    await this.management.requireProject(project);
    const parsed = parseGatePolicyOrUsage(policy);
    await setGatePolicy(this.meta.db, project, policy, OPERATOR.name);
    await this.audit.record({
      actor: OPERATOR,
      action: "gate.set",
      resourceType: "gate-policy",
      resource: project,
      project,
      remoteAddress: OPERATOR.remoteAddress,
      detail: { rules: GATE_RULES.filter((r) => parsed[r] !== undefined) },
    });
    return gatePolicyRow((await getGatePolicy(this.meta.db, project))!);
  }
  async deleteGatePolicy(project: string) {
    await this.management.requireProject(project);
    if (!(await deleteGatePolicy(this.meta.db, project))) {
      throw new CliError(`project "${project}" has no gate policy`);
    }
    await this.audit.record({
      actor: OPERATOR,
      action: "gate.delete",
      resourceType: "gate-policy",
      resource: project,
      project,
      remoteAddress: OPERATOR.remoteAddress,
    });
  }

  async close() {
    await this.meta.close();
  }
}
