// `berth admin --server URL`: the admin commands over the management API, signed in with
// BERTH_USERNAME/BERTH_PASSWORD or the credential files docker/podman logins wrote. Turns API
// errors into one CliError sentence. Never prints the password.
import { fileCredentialResolver } from "../../client/credentials.js";
import { CliError, ExitCode } from "../errors.js";
import type {
  AdminBackend,
  AuditPage,
  AuditQuery,
  GatePolicyRow,
  ImmutableRuleRow,
  MemberRow,
  ProjectRow,
  ProxyRow,
  QuotaRow,
  QuotaTarget,
  RetentionPolicyView,
  RetentionReport,
  RobotCreate,
  RobotRow,
  SignedInRow,
  TrustPolicyRow,
  UserRow,
} from "./backend.js";

interface Page<T> {
  items: T[];
  total: number;
}

export async function remoteCredentials(
  server: URL,
  env: NodeJS.ProcessEnv,
): Promise<{ username: string; password: string }> {
  if (env.BERTH_USERNAME && env.BERTH_PASSWORD !== undefined) {
    return { username: env.BERTH_USERNAME, password: env.BERTH_PASSWORD };
  }
  const stored = await fileCredentialResolver()(server.host);
  if (stored) return stored;
  throw new CliError(
    `no credentials for ${server.host}: set BERTH_USERNAME and BERTH_PASSWORD, or log in first (podman login ${server.host})`,
    ExitCode.Usage,
  );
}

export class RemoteBackend implements AdminBackend {
  private readonly authorization: string;

  constructor(
    private readonly server: URL,
    credentials: { username: string; password: string },
  ) {
    this.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.server), {
        method,
        headers: {
          authorization: this.authorization,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new CliError(
        `cannot reach ${this.server.origin}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let message = `${method} ${path} failed with HTTP ${res.status}`;
      try {
        const parsed = JSON.parse(text) as { errors?: { message?: string }[] };
        if (parsed.errors?.[0]?.message) message = parsed.errors[0].message;
      } catch {
        // keep the generic message
      }
      throw new CliError(message, res.status === 400 ? ExitCode.Usage : ExitCode.Failure);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async all<T>(path: string): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; ; page++) {
      const sep = path.includes("?") ? "&" : "?";
      const result = await this.call<Page<T>>("GET", `${path}${sep}page=${page}&page_size=100`);
      out.push(...result.items);
      if (out.length >= result.total || result.items.length === 0) return out;
    }
  }

  createUser(username: string, password: string, isAdmin: boolean) {
    return this.call<UserRow>("POST", "/api/v1/users", { username, password, isAdmin });
  }
  listUsers() {
    return this.all<UserRow>("/api/v1/users");
  }
  listSignedIn(username: string) {
    return this.call<SignedInRow>("GET", `/api/v1/users/${encodeURIComponent(username)}/sessions`);
  }
  signOut(username: string) {
    return this.call<{ sessions: number; refreshTokens: number }>(
      "DELETE",
      `/api/v1/users/${encodeURIComponent(username)}/sessions`,
    );
  }
  async setPassword(username: string, password: string) {
    await this.call("PUT", `/api/v1/users/${encodeURIComponent(username)}/password`, { password });
  }
  async deleteUser(username: string) {
    await this.call("DELETE", `/api/v1/users/${encodeURIComponent(username)}`);
  }
  createProject(name: string, isPublic: boolean, quotaBytes: number | null) {
    return this.call<ProjectRow>("POST", "/api/v1/projects", {
      name,
      public: isPublic,
      quotaBytes,
    });
  }
  listProjects() {
    return this.all<ProjectRow>("/api/v1/projects");
  }
  setProxy(project: string, endpoint: string, ttlSeconds: number | undefined) {
    return this.call<ProxyRow>("PUT", `/api/v1/projects/${encodeURIComponent(project)}/proxy`, {
      endpoint,
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
    });
  }
  async deleteProject(name: string) {
    await this.call("DELETE", `/api/v1/projects/${encodeURIComponent(name)}`);
  }
  addMember(project: string, username: string, role: string) {
    return this.call<MemberRow>("POST", `/api/v1/projects/${encodeURIComponent(project)}/members`, {
      username,
      role,
    });
  }
  listMembers(project: string) {
    return this.all<MemberRow>(`/api/v1/projects/${encodeURIComponent(project)}/members`);
  }
  async removeMember(project: string, username: string) {
    await this.call(
      "DELETE",
      `/api/v1/projects/${encodeURIComponent(project)}/members/${encodeURIComponent(username)}`,
    );
  }
  createRobot(spec: RobotCreate) {
    if (spec.project) {
      const actions = spec.permissions[0]?.actions ?? [];
      return this.call<{ robot: RobotRow; secret: string }>(
        "POST",
        `/api/v1/projects/${encodeURIComponent(spec.project)}/robots`,
        {
          name: spec.name,
          actions,
          expiresAt: spec.expiresAt,
          description: spec.description ?? null,
        },
      );
    }
    return this.call<{ robot: RobotRow; secret: string }>("POST", "/api/v1/robots", {
      name: spec.name,
      permissions: spec.permissions,
      expiresAt: spec.expiresAt,
      description: spec.description ?? null,
    });
  }
  listRobots(project?: string) {
    return project
      ? this.all<RobotRow>(`/api/v1/projects/${encodeURIComponent(project)}/robots`)
      : this.all<RobotRow>("/api/v1/robots");
  }
  disableRobot(idOrName: string) {
    return this.call<RobotRow>("PATCH", `/api/v1/robots/${encodeURIComponent(idOrName)}`, {
      disabled: true,
    });
  }
  async deleteRobot(idOrName: string) {
    await this.call("DELETE", `/api/v1/robots/${encodeURIComponent(idOrName)}`);
  }
  async setQuota(target: QuotaTarget, limitBytes: number | null): Promise<QuotaRow> {
    if (typeof target !== "string") {
      return this.call<QuotaRow>("PUT", "/api/v1/system/quota", { limitBytes });
    }
    const slash = target.indexOf("/");
    if (slash < 0) {
      const view = await this.call<{
        project: string;
        limitBytes: number | null;
        usedBytes: number;
      }>("PUT", `/api/v1/projects/${encodeURIComponent(target)}/quota`, { limitBytes });
      return {
        scope: "project",
        name: view.project,
        limitBytes: view.limitBytes,
        usedBytes: view.usedBytes,
      };
    }
    const project = target.slice(0, slash);
    return this.call<QuotaRow>(
      "PUT",
      `/api/v1/projects/${encodeURIComponent(project)}/repositories/${encodeURIComponent(target)}/quota`,
      { limitBytes },
    );
  }

  addImmutableRule(project: string, repositoryPattern: string, tagPattern: string) {
    return this.call<ImmutableRuleRow>(
      "POST",
      `/api/v1/projects/${encodeURIComponent(project)}/immutable-rules`,
      { repositoryPattern, tagPattern },
    );
  }
  listImmutableRules(project: string) {
    return this.call<ImmutableRuleRow[]>(
      "GET",
      `/api/v1/projects/${encodeURIComponent(project)}/immutable-rules`,
    );
  }
  async removeImmutableRule(project: string, id: string) {
    await this.call(
      "DELETE",
      `/api/v1/projects/${encodeURIComponent(project)}/immutable-rules/${encodeURIComponent(id)}`,
    );
  }

  setRetention(project: string, doc: unknown) {
    return this.call<RetentionPolicyView>(
      "PUT",
      `/api/v1/projects/${encodeURIComponent(project)}/retention`,
      doc,
    );
  }
  async getRetention(project: string) {
    try {
      return await this.call<RetentionPolicyView>(
        "GET",
        `/api/v1/projects/${encodeURIComponent(project)}/retention`,
      );
    } catch (err) {
      if (err instanceof CliError && /no retention policy/.test(err.message)) return undefined;
      throw err;
    }
  }
  runRetention(project: string, dryRun: boolean) {
    return this.call<RetentionReport>(
      "POST",
      `/api/v1/projects/${encodeURIComponent(project)}/retention/runs`,
      { dryRun },
    );
  }

  refreshRobot(idOrName: string) {
    return this.call<{ robot: RobotRow; secret: string }>(
      "POST",
      `/api/v1/robots/${encodeURIComponent(idOrName)}/refresh`,
    );
  }
  listAudit(query: AuditQuery) {
    const params = new URLSearchParams({
      page: String(query.page),
      page_size: String(query.pageSize),
    });
    const filters: [string, string | undefined][] = [
      ["actor", query.actor],
      ["action", query.action],
      ["resource", query.resource],
      ["resource_type", query.resourceType],
      ["outcome", query.outcome],
      ["since", query.since],
      ["until", query.until],
    ];
    for (const [key, value] of filters) if (value !== undefined) params.set(key, value);
    const base = query.project
      ? `/api/v1/projects/${encodeURIComponent(query.project)}/audit`
      : "/api/v1/audit";
    return this.call<AuditPage>("GET", `${base}?${params}`);
  }

  async getGatePolicy(project: string) {
    const path = `/api/v1/projects/${encodeURIComponent(project)}/gate-policy`;
    try {
      return await this.call<GatePolicyRow>("GET", path);
    } catch (err) {
      // 404 for a project without a policy: say "none", but not for a missing project.
      if (err instanceof CliError && /has no gate policy/.test(err.message)) return undefined;
      throw err;
    }
  }
  setGatePolicy(project: string, policy: string) {
    return this.call<GatePolicyRow>(
      "PUT",
      `/api/v1/projects/${encodeURIComponent(project)}/gate-policy`,
      { policy },
    );
  }
  async deleteGatePolicy(project: string) {
    await this.call("DELETE", `/api/v1/projects/${encodeURIComponent(project)}/gate-policy`);
  }
  async close() {}

  getTrustPolicy(project: string): Promise<TrustPolicyRow> {
    return this.call("GET", `/api/v1/projects/${encodeURIComponent(project)}/trust`);
  }

  setTrustPolicy(
    project: string,
    mode: TrustPolicyRow["mode"],
    keys: string[],
  ): Promise<TrustPolicyRow> {
    return this.call("PUT", `/api/v1/projects/${encodeURIComponent(project)}/trust`, {
      mode,
      keys,
    });
  }
}
