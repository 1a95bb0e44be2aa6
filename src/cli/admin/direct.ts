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
import {
  getTrustPolicy,
  type MetaDatabase,
  openDatabase,
  setTrustPolicy,
} from "../../meta/index.js";
import {
  GATE_RULES,
  GatePolicyError,
  PULL_DECIDABLE,
  PUSH_DECIDABLE,
  parseGatePolicy,
} from "../../policy/gate.js";
import { PolicyService } from "../../policy/service.js";
import { ManifestCache, RegistryEvents } from "../../registry/index.js";
import { KeyFormatError, keyFingerprint, loadPublicKey } from "../../sign/keys.js";
import { CliError, ExitCode } from "../errors.js";
import type {
  AdminBackend,
  AuditQuery,
  GatePolicyRow,
  QuotaTarget,
  RobotCreate,
  RobotRow,
  SignedInRow,
  TrustPolicyRow,
} from "./backend.js";

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
  return {
    ...stored,
    rules,
    pushRules: rules.filter((r) => PUSH_DECIDABLE.has(r)),
    pullRules: rules.filter((r) => PULL_DECIDABLE.has(r)),
  };
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
    private readonly policies: PolicyService,
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
    // No server runs: no cache to evict, no event subscribers. Deletions (retention runs)
    // are audited by the policy service as one run.
    const registry = {
      events: new RegistryEvents(),
      manifestCache: new ManifestCache(0),
      config,
    };
    const view = new MetaRegistryView(meta.db, registry);
    const policies = new PolicyService(meta.db, management, audit, view.deletionServices());
    return new DirectBackend(meta, management, view, policies, audit);
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
  async listSignedIn(username: string): Promise<SignedInRow> {
    const user = await this.management.requireUser(username);
    const now = Date.now();
    const live = (t: { expiresAt: string }) => Date.parse(t.expiresAt) > now;
    return {
      sessions: (await this.store.listSessions(user.id)).filter(live).map((s) => ({
        createdAt: s.createdAt,
        expiresAt: s.expiresAt,
        remoteAddress: s.remoteAddress,
      })),
      refreshTokens: (await this.store.listRefreshTokens("user", user.id))
        .filter(live)
        .map((t) => ({
          createdAt: t.createdAt,
          expiresAt: t.expiresAt,
          lastUsedAt: t.lastUsedAt,
          remoteAddress: t.remoteAddress,
        })),
    };
  }
  async signOut(username: string) {
    const user = await this.management.requireUser(username);
    return this.management.revokeUserCredentials(OPERATOR, user, "signed out everywhere", {
      endAccessTokens: true,
    });
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

  async setQuota(target: QuotaTarget, limitBytes: number | null) {
    const scope = await this.policies.resolveScope(target);
    return this.policies.setQuota(OPERATOR, scope, limitBytes);
  }

  async addImmutableRule(project: string, repositoryPattern: string, tagPattern: string) {
    return (await this.policies.addImmutableRule(OPERATOR, project, repositoryPattern, tagPattern))
      .rule;
  }
  async listImmutableRules(project: string) {
    return this.policies.immutableRules(project);
  }
  async removeImmutableRule(project: string, id: string) {
    await this.policies.removeImmutableRule(OPERATOR, project, id);
  }

  async setRetention(project: string, doc: unknown) {
    return this.policies.setRetentionPolicy(OPERATOR, project, doc);
  }
  async getRetention(project: string) {
    return this.policies.retentionPolicy(project);
  }
  async runRetention(project: string, dryRun: boolean) {
    return this.policies.runRetention(OPERATOR, project, { dryRun });
  }

  async getTrustPolicy(project: string): Promise<TrustPolicyRow> {
    const stored = await getTrustPolicy(this.meta.db, project);
    if (!stored) throw new CliError(`project "${project}" not found`, ExitCode.Failure);
    return {
      project,
      mode: stored.mode,
      updatedAt: stored.updatedAt,
      keys: stored.keys.map((k) => ({
        fingerprint: k.fingerprint,
        publicKey: k.publicKeyPem,
        createdAt: k.createdAt,
      })),
    };
  }

  async setTrustPolicy(
    project: string,
    mode: TrustPolicyRow["mode"],
    pems: string[],
  ): Promise<TrustPolicyRow> {
    const keys = pems.map((pem, i) => {
      let key: ReturnType<typeof loadPublicKey>;
      try {
        key = loadPublicKey(pem);
      } catch (err) {
        if (err instanceof KeyFormatError)
          throw new CliError(`key ${i + 1}: ${err.message}`, ExitCode.Usage);
        throw err;
      }
      return {
        fingerprint: keyFingerprint(key),
        publicKeyPem: key.export({ type: "spki", format: "pem" }).toString(),
      };
    });
    if (mode !== "off" && keys.length === 0) {
      throw new CliError(`mode "${mode}" needs at least one trusted public key`, ExitCode.Usage);
    }
    if (!(await setTrustPolicy(this.meta.db, project, mode, keys))) {
      throw new CliError(`project "${project}" not found`, ExitCode.Failure);
    }
    await this.audit.record({
      actor: OPERATOR,
      action: "trust.update",
      resourceType: "project",
      resource: project,
      project,
      remoteAddress: OPERATOR.remoteAddress,
      detail: { mode, keys: keys.map((k) => k.fingerprint) },
    });
    return this.getTrustPolicy(project);
  }

  async refreshRobot(idOrName: string) {
    const robot = await this.management.requireRobot(idOrName);
    const refreshed = await this.management.refreshRobotSecret(OPERATOR, robot);
    return { robot: robotRow(refreshed.robot), secret: refreshed.secret };
  }
  async listAudit(query: AuditQuery) {
    if (query.project) await this.management.requireProject(query.project);
    const page = {
      page: query.page,
      pageSize: query.pageSize,
      sort: "at",
      descending: true,
    } as const;
    const { page: _p, pageSize: _s, ...filter } = query;
    const result = await this.store.listAudit(page, filter);
    return {
      items: [...result.items],
      total: result.total,
      page: query.page,
      pageSize: query.pageSize,
    };
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
