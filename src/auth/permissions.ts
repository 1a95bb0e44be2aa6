// The project role × action matrix (adapted from Harbor's "User Permissions By Role"; the
// table users read is docs/permissions.md and a test keeps the two in step) and the mapping
// from registry token actions (pull/push/delete) to project actions. Pure data + functions.

export const ROLES = ["projectAdmin", "maintainer", "developer", "guest", "limitedGuest"] as const;
export type Role = (typeof ROLES)[number];

/** CLI and API spellings of the roles. */
export const ROLE_ALIASES: Readonly<Record<string, Role>> = {
  admin: "projectAdmin",
  "project-admin": "projectAdmin",
  projectAdmin: "projectAdmin",
  maintainer: "maintainer",
  developer: "developer",
  guest: "guest",
  "limited-guest": "limitedGuest",
  limitedGuest: "limitedGuest",
};

export function parseRole(text: string): Role | undefined {
  return Object.hasOwn(ROLE_ALIASES, text) ? ROLE_ALIASES[text] : undefined;
}

export const PROJECT_ACTIONS = [
  "project:read",
  "project:update",
  "project:delete",
  "member:list",
  "member:manage",
  "log:list",
  "repository:list",
  "repository:delete",
  "artifact:list",
  "artifact:pull",
  "artifact:push",
  "artifact:delete",
  "tag:list",
  "tag:create",
  "tag:delete",
  "robot:list",
  "robot:manage",
  "quota:read",
  "policy:read",
  "policy:manage",
] as const;
export type ProjectAction = (typeof PROJECT_ACTIONS)[number];

/** Human wording of each action, used for docs/permissions.md. */
export const ACTION_LABELS: Readonly<Record<ProjectAction, string>> = {
  "project:read": "See the project configuration",
  "project:update": "Edit the project configuration (public/private)",
  "project:delete": "Delete the project",
  "member:list": "See the project members",
  "member:manage": "Add/change/remove project members",
  "log:list": "See the project audit log",
  "repository:list": "See the repositories",
  "repository:delete": "Delete a repository",
  "artifact:list": "See the artifacts",
  "artifact:pull": "Pull an image",
  "artifact:push": "Push an image (creates repositories)",
  "artifact:delete": "Delete an artifact",
  "tag:list": "See tags",
  "tag:create": "Add a tag to an artifact",
  "tag:delete": "Remove a tag",
  "robot:list": "See project robot accounts",
  "robot:manage": "Create/disable/refresh/delete project robot accounts",
  "quota:read": "See the project quota and usage",
  "policy:read": "See project policies",
  "policy:manage": "Create/edit/delete project policies (retention, immutability)",
};

const READ: ProjectAction[] = [
  "project:read",
  "repository:list",
  "artifact:list",
  "artifact:pull",
  "tag:list",
  "quota:read",
  "policy:read",
];
const GUEST: ProjectAction[] = [...READ, "member:list", "log:list"];
const DEVELOPER: ProjectAction[] = [...GUEST, "artifact:push", "tag:create"];
const MAINTAINER: ProjectAction[] = [
  ...DEVELOPER,
  "repository:delete",
  "artifact:delete",
  "tag:delete",
  "robot:list",
  "policy:manage",
];
const PROJECT_ADMIN: ProjectAction[] = [
  ...MAINTAINER,
  "project:update",
  "project:delete",
  "member:manage",
  "robot:manage",
];

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<ProjectAction>>> = {
  limitedGuest: new Set(READ),
  guest: new Set(GUEST),
  developer: new Set(DEVELOPER),
  maintainer: new Set(MAINTAINER),
  projectAdmin: new Set(PROJECT_ADMIN),
};

/** What anyone (even anonymous) may do in a public project. */
export const PUBLIC_PERMISSIONS: ReadonlySet<ProjectAction> = new Set(READ);

export function roleAllows(role: Role, action: ProjectAction): boolean {
  return ROLE_PERMISSIONS[role].has(action);
}

/** Registry token actions and what each needs in project terms. */
export const REGISTRY_ACTIONS = ["pull", "push", "delete"] as const;
export type RegistryAction = (typeof REGISTRY_ACTIONS)[number];

export const REGISTRY_ACTION_NEEDS: Readonly<Record<RegistryAction, ProjectAction>> = {
  pull: "artifact:pull",
  push: "artifact:push",
  delete: "artifact:delete",
};

/** Robot permissions are registry actions; each grants a set of project actions. */
export const ROBOT_ACTION_GRANTS: Readonly<Record<RegistryAction, readonly ProjectAction[]>> = {
  pull: ["project:read", "repository:list", "artifact:list", "artifact:pull", "tag:list"],
  push: ["artifact:push", "tag:create"],
  delete: ["artifact:delete", "repository:delete", "tag:delete"],
};

export function isRegistryAction(text: string): text is RegistryAction {
  return (REGISTRY_ACTIONS as readonly string[]).includes(text);
}

export function robotAllows(actions: readonly RegistryAction[], action: ProjectAction): boolean {
  return actions.some((a) => ROBOT_ACTION_GRANTS[a].includes(action));
}

/** Where single-component repository names (`alpine`) live, as on Docker Hub. */
export const DEFAULT_PROJECT = "library";

/**
 * The project a repository belongs to: its first path component; a one-component name
 * (`alpine`, common with a plain registry:2) belongs to `library`.
 */
export function projectOf(repository: string): string {
  const slash = repository.indexOf("/");
  return slash === -1 ? DEFAULT_PROJECT : repository.slice(0, slash);
}

const ROLE_HEADINGS: Readonly<Record<Role, string>> = {
  limitedGuest: "Limited guest",
  guest: "Guest",
  developer: "Developer",
  maintainer: "Maintainer",
  projectAdmin: "Project admin",
};

/** The role × action matrix as a Markdown table (docs/permissions.md embeds exactly this). */
export function permissionTableMarkdown(): string {
  const order: Role[] = ["limitedGuest", "guest", "developer", "maintainer", "projectAdmin"];
  const header = `| Action | ${order.map((r) => ROLE_HEADINGS[r]).join(" | ")} |`;
  const rule = `|---|${order.map(() => ":-:").join("|")}|`;
  const rows = PROJECT_ACTIONS.map(
    (a) =>
      `| ${ACTION_LABELS[a]} (\`${a}\`) | ${order.map((r) => (ROLE_PERMISSIONS[r].has(a) ? "✓" : "")).join(" | ")} |`,
  );
  return [header, rule, ...rows].join("\n");
}
