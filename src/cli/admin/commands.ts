// The `berth admin` subcommands (user, project, member, robot) over an AdminBackend.
// Passwords come from stdin only (never argv, where `ps` would show them); a robot's secret
// is printed exactly once, at creation.
import type { Command } from "commander";
import { ManagementError } from "../../auth/management.js";
import { DURATION_HINT, parseDuration, parseSize, SIZE_HINT } from "../../auth/units.js";
import { CliError, ExitCode } from "../errors.js";
import { humanSize, printJson, printLines, renderTable } from "../output.js";
import type { AdminBackend } from "./backend.js";

export type BackendFactory = (command: Command) => Promise<AdminBackend>;

export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new CliError("--password-stdin expects the password on standard input", ExitCode.Usage);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (text === "") throw new CliError("no password on standard input", ExitCode.Usage);
  return text;
}

export function wantsJson(command: Command): boolean {
  return command.optsWithGlobals().format === "json";
}

/** Run an action with a backend, closing it after and turning domain errors into CliErrors. */
export function withBackend(
  factory: BackendFactory,
  action: (backend: AdminBackend, command: Command, ...args: string[]) => Promise<void>,
) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const positional = args.slice(0, -2).filter((a): a is string => typeof a === "string");
    const backend = await factory(command);
    try {
      await action(backend, command, ...positional);
    } catch (err) {
      if (err instanceof ManagementError) {
        throw new CliError(err.message, err.code === "INVALID" ? ExitCode.Usage : ExitCode.Failure);
      }
      throw err;
    } finally {
      await backend.close();
    }
  };
}

export function done(command: Command, message: string, json: unknown): void {
  if (wantsJson(command)) printJson(json);
  else process.stderr.write(`${message}\n`);
}

export function registerUserCommands(admin: Command, factory: BackendFactory): void {
  const user = admin.command("user").description("manage user accounts");
  user
    .command("create <name>")
    .description("create a user; the password is read from standard input")
    .requiredOption("--password-stdin", "read the password from standard input")
    .option("--admin", "make the user a system administrator")
    .action(
      withBackend(factory, async (backend, command, name) => {
        const password = await readStdin();
        const created = await backend.createUser(name, password, command.opts().admin === true);
        done(
          command,
          `created user ${created.username}${created.isAdmin ? " (system administrator)" : ""}`,
          created,
        );
      }),
    );
  user
    .command("list")
    .description("list users")
    .action(
      withBackend(factory, async (backend, command) => {
        const users = await backend.listUsers();
        if (wantsJson(command)) return printJson(users);
        printLines([
          renderTable(
            ["USER", "ADMIN", "CREATED"],
            users.map((u) => [u.username, u.isAdmin ? "yes" : "no", u.createdAt]),
          ),
        ]);
      }),
    );
  user
    .command("passwd <name>")
    .description("set a user's password, read from standard input")
    .requiredOption("--password-stdin", "read the password from standard input")
    .action(
      withBackend(factory, async (backend, command, name) => {
        await backend.setPassword(name, await readStdin());
        done(command, `password of ${name} changed`, { username: name });
      }),
    );
  user
    .command("sessions <name>")
    .description("list a user's live browser sessions and refresh tokens")
    .action(
      withBackend(factory, async (backend, command, name) => {
        const signedIn = await backend.listSignedIn(name);
        if (wantsJson(command)) return printJson(signedIn);
        printLines([
          renderTable(
            ["KIND", "CREATED", "EXPIRES", "LAST USED", "FROM"],
            [
              ...signedIn.sessions.map((s) => [
                "session",
                s.createdAt,
                s.expiresAt,
                "",
                s.remoteAddress ?? "",
              ]),
              ...signedIn.refreshTokens.map((t) => [
                "refresh token",
                t.createdAt,
                t.expiresAt,
                t.lastUsedAt ?? "",
                t.remoteAddress ?? "",
              ]),
            ],
          ),
        ]);
      }),
    );
  user
    .command("signout <name>")
    .description("sign a user out everywhere: end sessions, refresh tokens and access tokens")
    .action(
      withBackend(factory, async (backend, command, name) => {
        const ended = await backend.signOut(name);
        done(
          command,
          `signed out ${name}: ${ended.sessions} sessions and ${ended.refreshTokens} refresh tokens ended, access tokens revoked`,
          { username: name, ...ended },
        );
      }),
    );
  user
    .command("delete <name>")
    .description("delete a user")
    .action(
      withBackend(factory, async (backend, command, name) => {
        await backend.deleteUser(name);
        done(command, `deleted user ${name}`, { username: name });
      }),
    );
}

export function registerProjectCommands(admin: Command, factory: BackendFactory): void {
  const project = admin.command("project").description("manage projects");
  project
    .command("create <name>")
    .description("create a project (private unless --public, as the API's default)")
    .option("--public", "anyone may pull, without logging in")
    .option("--private", "only members may pull (the default)")
    .option("--quota <size>", "storage quota, e.g. 10GiB (default unlimited)")
    .action(
      withBackend(factory, async (backend, command, name) => {
        const opts = command.opts() as { public?: boolean; private?: boolean; quota?: string };
        if (opts.public && opts.private)
          throw new CliError("choose one of --public and --private", ExitCode.Usage);
        const quota = opts.quota === undefined ? null : parseSize(opts.quota);
        if (quota === undefined)
          throw new CliError(`cannot read --quota "${opts.quota}" (${SIZE_HINT})`, ExitCode.Usage);
        const created = await backend.createProject(name, opts.public === true, quota);
        done(
          command,
          `created ${created.public ? "public" : "private"} project ${created.name}`,
          created,
        );
      }),
    );
  project
    .command("list")
    .description("list projects")
    .action(
      withBackend(factory, async (backend, command) => {
        const projects = await backend.listProjects();
        if (wantsJson(command)) return printJson(projects);
        printLines([
          renderTable(
            ["PROJECT", "VISIBILITY", "QUOTA"],
            projects.map((p) => [
              p.name,
              p.public ? "public" : "private",
              p.quotaBytes === null ? "unlimited" : humanSize(p.quotaBytes),
            ]),
          ),
        ]);
      }),
    );
  project
    .command("delete <name>")
    .description("delete an empty project")
    .action(
      withBackend(factory, async (backend, command, name) => {
        await backend.deleteProject(name);
        done(command, `deleted project ${name}`, { name });
      }),
    );
}

export function registerMemberCommands(admin: Command, factory: BackendFactory): void {
  const member = admin.command("member").description("manage project members and roles");
  member
    .command("add <project> <user> <role>")
    .description(
      "add a member (or change their role): admin, maintainer, developer, guest, limited-guest",
    )
    .action(
      withBackend(factory, async (backend, command, project, user, role) => {
        const added = await backend.addMember(project, user, role);
        done(command, `${added.username} is ${added.role} of ${project}`, added);
      }),
    );
  member
    .command("list <project>")
    .description("list a project's members")
    .action(
      withBackend(factory, async (backend, command, project) => {
        const members = await backend.listMembers(project);
        if (wantsJson(command)) return printJson(members);
        printLines([
          renderTable(
            ["USER", "ROLE"],
            members.map((m) => [m.username, m.role]),
          ),
        ]);
      }),
    );
  member
    .command("remove <project> <user>")
    .description("remove a member")
    .action(
      withBackend(factory, async (backend, command, project, user) => {
        await backend.removeMember(project, user);
        done(command, `removed ${user} from ${project}`, { project, username: user });
      }),
    );
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerRobotCommands(admin: Command, factory: BackendFactory): void {
  const robot = admin.command("robot").description("manage robot accounts");
  robot
    .command("create <name>")
    .description("create a robot account and print its secret (shown only once)")
    .requiredOption(
      "--project <project>",
      "project the robot works on (repeat with --system for several)",
      collect,
    )
    .requiredOption("--permission <actions>", "comma-separated: pull, push, delete")
    .option("--system", "a system-level robot (may span several projects; --project '*' for all)")
    .option("--expires <duration>", "lifetime such as 30d or 12h, or never", "never")
    .option("--description <text>", "what the robot is for")
    .action(
      withBackend(factory, async (backend, command, name) => {
        const opts = command.opts() as {
          project: string[];
          permission: string;
          system?: boolean;
          expires: string;
          description?: string;
        };
        const actions = opts.permission
          .split(",")
          .map((a) => a.trim())
          .filter(Boolean);
        const ms = parseDuration(opts.expires);
        if (ms === undefined)
          throw new CliError(
            `cannot read --expires "${opts.expires}" (${DURATION_HINT})`,
            ExitCode.Usage,
          );
        if (!opts.system && opts.project.length !== 1) {
          throw new CliError(
            "a project robot works on exactly one --project (use --system for several)",
            ExitCode.Usage,
          );
        }
        const created = await backend.createRobot({
          name,
          ...(opts.system ? {} : { project: opts.project[0] }),
          permissions: opts.project.map((project) => ({ project, actions })),
          expiresAt: ms === null ? null : new Date(Date.now() + ms).toISOString(),
          description: opts.description ?? null,
        });
        if (wantsJson(command)) return printJson(created);
        process.stderr.write(
          `created robot ${created.robot.name}${created.robot.expiresAt ? ` (expires ${created.robot.expiresAt})` : ""}; ` +
            "its secret is printed below and will not be shown again\n",
        );
        process.stdout.write(`${created.secret}\n`);
      }),
    );
  robot
    .command("list")
    .description("list robot accounts")
    .option("--project <project>", "only this project's robots")
    .action(
      withBackend(factory, async (backend, command) => {
        const robots = await backend.listRobots((command.opts() as { project?: string }).project);
        if (wantsJson(command)) return printJson(robots);
        printLines([
          renderTable(
            ["ROBOT", "LEVEL", "PERMISSIONS", "EXPIRES", "STATE"],
            robots.map((r) => [
              r.name,
              r.level,
              r.permissions.map((p) => `${p.project}:${p.actions.join(",")}`).join(" "),
              r.expiresAt ?? "never",
              r.disabled ? "disabled" : "enabled",
            ]),
          ),
        ]);
      }),
    );
  robot
    .command("disable <robot>")
    .description("disable a robot account (by full name robot$… or id)")
    .action(
      withBackend(factory, async (backend, command, name) => {
        const disabled = await backend.disableRobot(name);
        done(command, `disabled ${disabled.name}`, disabled);
      }),
    );
  robot
    .command("refresh <robot>")
    .description("replace a robot's secret and print the new one (shown only once)")
    .action(
      withBackend(factory, async (backend, command, name) => {
        const refreshed = await backend.refreshRobot(name);
        if (wantsJson(command)) return printJson(refreshed);
        process.stderr.write(
          `new secret for ${refreshed.robot.name}; the old one no longer works. It is printed below and will not be shown again\n`,
        );
        process.stdout.write(`${refreshed.secret}\n`);
      }),
    );
  robot
    .command("delete <robot>")
    .description("delete a robot account (by full name robot$… or id)")
    .action(
      withBackend(factory, async (backend, command, name) => {
        await backend.deleteRobot(name);
        done(command, `deleted ${name}`, { name });
      }),
    );
}
