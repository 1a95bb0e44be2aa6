// `berth admin audit`: one page of the audit log, newest first, with the filters the
// management API's audit query offers (project, user, action, resource, outcome, time range)
// and its paging. `--since`/`--until` take an ISO 8601 time or an age such as `24h`. Reads
// only; never prints more than one page.
import type { Command } from "commander";
import { parseDuration } from "../../auth/units.js";
import { CliError, ExitCode } from "../errors.js";
import { printJson, printLines, renderTable } from "../output.js";
import type { AuditQuery } from "./backend.js";
import { type BackendFactory, withBackend } from "./commands.js";

interface AuditFlags {
  project?: string;
  user?: string;
  action?: string;
  resource?: string;
  resourceType?: string;
  outcome?: string;
  since?: string;
  until?: string;
  page: string;
  pageSize: string;
}

/** An ISO time or an age before `now` (`24h`, `7d`) as an ISO instant; usage error otherwise. */
export function auditInstant(text: string, flag: string, now: Date): string {
  const age = parseDuration(text);
  if (typeof age === "number") return new Date(now.getTime() - age).toISOString();
  const at = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && Number.isFinite(at)) return new Date(at).toISOString();
  throw new CliError(
    `cannot read ${flag} "${text}" (use an ISO time such as 2026-12-01T00:00:00Z or an age such as 24h)`,
    ExitCode.Usage,
  );
}

function positive(text: string, flag: string, max: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || n > max)
    throw new CliError(`${flag} must be a whole number from 1 to ${max}`, ExitCode.Usage);
  return n;
}

/** The query the flags describe (pure; `now` anchors relative times). */
export function auditQueryOf(flags: AuditFlags, now: Date): AuditQuery {
  if (flags.outcome !== undefined && flags.outcome !== "success" && flags.outcome !== "failure")
    throw new CliError('--outcome must be "success" or "failure"', ExitCode.Usage);
  return {
    project: flags.project,
    actor: flags.user,
    action: flags.action,
    resource: flags.resource,
    resourceType: flags.resourceType,
    outcome: flags.outcome,
    since: flags.since === undefined ? undefined : auditInstant(flags.since, "--since", now),
    until: flags.until === undefined ? undefined : auditInstant(flags.until, "--until", now),
    page: positive(flags.page, "--page", Number.MAX_SAFE_INTEGER),
    pageSize: positive(flags.pageSize, "--page-size", 100),
  };
}

export function registerAuditCommand(admin: Command, factory: BackendFactory): void {
  admin
    .command("audit")
    .description("show the audit log, newest first (one page; --page for more)")
    .option("--project <project>", "only this project's entries")
    .option("--user <name>", "only actions of this account (user or robot$…)")
    .option("--action <action>", "push, pull, delete, login, project.create, robot.refresh, …")
    .option("--resource <text>", "resource name contains")
    .option("--resource-type <type>", "repository, artifact, tag, project, member, robot, user")
    .option("--outcome <outcome>", "success or failure")
    .option("--since <time>", "from this time (ISO 8601) or age (24h, 7d)")
    .option("--until <time>", "up to this time (ISO 8601) or age")
    .option("--page <n>", "page number, from 1", "1")
    .option("--page-size <n>", "entries per page, 1-100", "20")
    .addHelpText(
      "after",
      "\nExamples:\n  berth admin --server http://127.0.0.1:5000 audit --project team --action push --since 24h\n  berth admin --data /var/lib/berth --format json audit --user alice --page 2",
    )
    .action(
      withBackend(factory, async (backend, command) => {
        const query = auditQueryOf(command.opts() as AuditFlags, new Date());
        const page = await backend.listAudit(query);
        if (command.optsWithGlobals().format === "json") return printJson(page);
        printLines([
          renderTable(
            ["TIME", "ACTOR", "ACTION", "RESOURCE", "PROJECT", "OUTCOME"],
            page.items.map((e) => [
              e.at,
              e.actor,
              e.action,
              `${e.resourceType}:${e.resource}`,
              e.project ?? "-",
              e.outcome,
            ]),
          ),
        ]);
        const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
        process.stderr.write(
          `page ${page.page} of ${pages} (${page.total} entries)${page.page < pages ? `; --page ${page.page + 1} for more` : ""}\n`,
        );
      }),
    );
}
