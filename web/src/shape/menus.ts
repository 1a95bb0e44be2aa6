// Which tabs, menu entries and buttons the UI offers, from what the server says the caller
// may do (GET /projects/{p}/permissions answers the actions; /session says isAdmin). The
// server checks every request again: hiding is for clarity, never the protection.
// Pure: no DOM, no I/O (unit-tested in test/web/shape.test.ts).

export type ProjectTab =
  | "repositories"
  | "vulnerabilities"
  | "members"
  | "robots"
  | "audit"
  | "policies"
  | "settings";

export interface ProjectAbilities {
  readonly tabs: readonly ProjectTab[];
  readonly canDeleteArtifact: boolean;
  readonly canTag: boolean;
  readonly canUntag: boolean;
  readonly canManageMembers: boolean;
  readonly canManageRobots: boolean;
  readonly canManagePolicies: boolean;
  readonly canUpdateProject: boolean;
  /** Ask for a scan (of an artifact, a repository, the project): who may push. */
  readonly canScan: boolean;
}

export function projectAbilities(actions: readonly string[]): ProjectAbilities {
  const has = (a: string) => actions.includes(a);
  const tabs: ProjectTab[] = ["repositories"];
  if (has("artifact:list")) tabs.push("vulnerabilities");
  if (has("member:list")) tabs.push("members");
  if (has("robot:list")) tabs.push("robots");
  if (has("log:list")) tabs.push("audit");
  if (has("policy:read")) tabs.push("policies");
  if (has("project:update")) tabs.push("settings");
  return {
    tabs,
    canDeleteArtifact: has("artifact:delete"),
    canTag: has("tag:create"),
    canUntag: has("tag:delete"),
    canManageMembers: has("member:manage"),
    canManageRobots: has("robot:manage"),
    canManagePolicies: has("policy:manage"),
    canUpdateProject: has("project:update"),
    canScan: has("artifact:push"),
  };
}

export interface NavEntry {
  readonly href: string;
  readonly label: string;
}

/** The top navigation: projects for everyone signed in, administration for admins only. */
export function mainNavigation(session: { isAdmin: boolean } | undefined): NavEntry[] {
  if (!session) return [];
  const entries: NavEntry[] = [{ href: "/projects", label: "Projects" }];
  if (session.isAdmin) {
    entries.push(
      { href: "/admin/users", label: "Users" },
      { href: "/admin/robots", label: "System robots" },
      { href: "/admin/jobs", label: "Jobs" },
      { href: "/admin/replication", label: "Replication" },
      { href: "/admin/trash", label: "Trash" },
      { href: "/admin/quotas", label: "Quotas" },
      { href: "/admin/registries", label: "Registries" },
      { href: "/admin/audit", label: "Audit" },
      { href: "/admin/system", label: "System" },
    );
  }
  return entries;
}

export const ROLE_LABELS: Readonly<Record<string, string>> = {
  projectAdmin: "Project admin",
  maintainer: "Maintainer",
  developer: "Developer",
  guest: "Guest",
  limitedGuest: "Limited guest",
};
