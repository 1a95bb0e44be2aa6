// Decides what an account may do in a project: system admins everything, members by role
// (permissions.ts), robots by their permission sets, anyone the read actions of a public
// project. Answers are cached for a couple of seconds so a catalog listing does not hit the
// database once per repository. Never grants anything for a disabled or expired robot.
import { type Account, robotIsActive } from "./accounts.js";
import {
  PROJECT_ACTIONS,
  type ProjectAction,
  PUBLIC_PERMISSIONS,
  projectOf,
  REGISTRY_ACTION_NEEDS,
  REGISTRY_ACTIONS,
  type RegistryAction,
  ROLE_PERMISSIONS,
  robotAllows,
} from "./permissions.js";
import type { AuthStore, Project } from "./store.js";

const ALL = new Set<ProjectAction>(PROJECT_ACTIONS);
const NONE = new Set<ProjectAction>();
const CACHE_MS = 2000;

export function isSystemAdmin(account: Account | undefined): boolean {
  return account?.kind === "htpasswd" || (account?.kind === "user" && account.user.isAdmin);
}

export class Authorizer {
  private readonly cache = new Map<string, { at: number; actions: ReadonlySet<ProjectAction> }>();
  private readonly listeners: (() => void)[] = [];
  /** Counts invalidate() calls: an answer computed across one is not cached. */
  private generation = 0;

  constructor(
    private readonly store: AuthStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Project actions `account` (undefined = anonymous) may perform in `projectName`. */
  async projectActions(
    account: Account | undefined,
    projectName: string,
  ): Promise<ReadonlySet<ProjectAction>> {
    const key = `${cacheKey(account)}\u0000${projectName}`;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < CACHE_MS) return hit.actions;
    const generation = this.generation;
    const project = await this.store.findProject(projectName);
    const actions = await this.compute(account, project, projectName);
    if (generation !== this.generation) return actions;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { at: this.now(), actions });
    return actions;
  }

  async can(
    account: Account | undefined,
    projectName: string,
    action: ProjectAction,
  ): Promise<boolean> {
    return (await this.projectActions(account, projectName)).has(action);
  }

  /** Registry actions (pull/push/delete) allowed on a repository. */
  async repositoryActions(
    account: Account | undefined,
    repository: string,
  ): Promise<RegistryAction[]> {
    const actions = await this.projectActions(account, projectOf(repository));
    return REGISTRY_ACTIONS.filter((a) => actions.has(REGISTRY_ACTION_NEEDS[a]));
  }

  /** Forget cached answers (after a membership, role, robot, credential or visibility change). */
  invalidate(): void {
    this.generation++;
    this.cache.clear();
    for (const listener of this.listeners) listener();
  }

  /**
   * Run `listener` on every invalidate() (other caches of account state follow this one: the
   * account directory and the registry decision cache). This and invalidate() are the whole
   * invalidation API: a cross-replica channel publishes from a listener and calls invalidate()
   * when it hears another replica's change (docs/scale-out.md).
   */
  onInvalidate(listener: () => void): void {
    this.listeners.push(listener);
  }

  private async compute(
    account: Account | undefined,
    project: Project | undefined,
    projectName: string,
  ): Promise<ReadonlySet<ProjectAction>> {
    // Admins may act on projects that do not exist yet: push admission decides creation.
    if (isSystemAdmin(account)) return ALL;
    if (!project) return NONE;
    const granted = new Set<ProjectAction>(project.isPublic ? PUBLIC_PERMISSIONS : []);
    if (account?.kind === "user") {
      const role = await this.store.roleOf(projectName, account.user.username);
      for (const a of role ? ROLE_PERMISSIONS[role] : []) granted.add(a);
    } else if (account?.kind === "robot") {
      const robot = await this.store.findRobot(account.robot.name);
      if (!robot || !robotIsActive(robot, this.now())) return NONE;
      const perms = robot.permissions.filter(
        (p) => p.project === projectName || (p.project === "*" && robot.level === "system"),
      );
      for (const action of PROJECT_ACTIONS) {
        if (perms.some((p) => robotAllows(p.actions, action))) granted.add(action);
      }
    }
    return granted;
  }
}

function cacheKey(account: Account | undefined): string {
  if (!account) return "anonymous";
  if (account.kind === "user") return `user:${account.user.id}:${account.user.isAdmin}`;
  if (account.kind === "robot") return `robot:${account.robot.id}`;
  return `htpasswd:${account.username}`;
}
