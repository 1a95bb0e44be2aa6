// `berth admin quota|immutable|retention`: storage quotas (project, repository, system),
// tag immutability rules and retention policies, over an AdminBackend (a running server or
// a stopped server's data directory). `--format json` prints one JSON document.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { parseSize } from "../../auth/units.js";
import { CliError, ExitCode } from "../errors.js";
import { humanSize, printJson, printLines, renderTable } from "../output.js";
import type { RetentionReport } from "./backend.js";
import { type BackendFactory, done, wantsJson, withBackend } from "./commands.js";

function sizeArgument(text: string | undefined): number | null {
  if (text === undefined)
    throw new CliError("give the quota size, e.g. 10GiB, or none to clear it", ExitCode.Usage);
  const size = parseSize(text);
  if (size === undefined)
    throw new CliError(
      `cannot read size "${text}" (use e.g. 10GiB, 500MB, or none)`,
      ExitCode.Usage,
    );
  return size;
}

export function registerQuotaCommands(admin: Command, factory: BackendFactory): void {
  const quota = admin.command("quota").description("manage storage quotas");
  quota
    .command("set [scope] [size]")
    .description("set the quota of a PROJECT, a PROJECT/REPO or (--system) the whole registry")
    .option("--system", "the registry-wide quota (then only SIZE is given)")
    .addHelpText(
      "after",
      "\nSIZE is like 10GiB or 500MB; none clears the quota.\n\nExamples:\n" +
        "  berth admin quota set team 10GiB\n  berth admin quota set team/app 2GiB\n" +
        "  berth admin quota set --system 1TiB\n  berth admin quota set team none",
    )
    .action(
      withBackend(factory, async (backend, command, ...args) => {
        const system = (command.opts() as { system?: boolean }).system === true;
        if (system ? args.length !== 1 : args.length !== 2)
          throw new CliError(
            system
              ? "with --system give only the size: berth admin quota set --system SIZE"
              : "give the scope and the size: berth admin quota set PROJECT[/REPO] SIZE",
            ExitCode.Usage,
          );
        const limit = sizeArgument(system ? args[0] : args[1]);
        const row = await backend.setQuota(system ? { system: true } : (args[0] as string), limit);
        const what = row.scope === "system" ? "the registry" : `${row.scope} ${row.name}`;
        done(
          command,
          `quota of ${what}: ${row.limitBytes === null ? "unlimited" : humanSize(row.limitBytes)} (${humanSize(row.usedBytes)} used)`,
          row,
        );
      }),
    );
}

export function registerImmutableCommands(admin: Command, factory: BackendFactory): void {
  const immutable = admin.command("immutable").description("manage tag immutability rules");
  immutable
    .command("add <project>")
    .description("make matching tags immutable (no re-push, retag or delete)")
    .requiredOption("--repo <pattern>", "repository path inside the project, e.g. ** or app/**")
    .requiredOption("--tag <pattern>", "tag pattern, e.g. v* or release-*")
    .addHelpText("after", '\nExample:\n  berth admin immutable add team --repo "**" --tag "v*"')
    .action(
      withBackend(factory, async (backend, command, project) => {
        const opts = command.opts() as { repo: string; tag: string };
        const rule = await backend.addImmutableRule(project as string, opts.repo, opts.tag);
        done(
          command,
          `immutability rule ${rule.id}: ${project} repositories "${rule.repositoryPattern}", tags "${rule.tagPattern}"`,
          rule,
        );
      }),
    );
  immutable
    .command("ls <project>")
    .alias("list")
    .description("list a project's immutability rules")
    .action(
      withBackend(factory, async (backend, command, project) => {
        const rules = await backend.listImmutableRules(project as string);
        if (wantsJson(command)) return printJson(rules);
        printLines([
          renderTable(
            ["ID", "REPOSITORY", "TAG", "CREATED BY"],
            rules.map((r) => [r.id, r.repositoryPattern, r.tagPattern, r.createdBy]),
          ),
        ]);
      }),
    );
  immutable
    .command("rm <project>")
    .alias("remove")
    .description("remove the rule with these patterns (or --id)")
    .option("--repo <pattern>", "the rule's repository pattern")
    .option("--tag <pattern>", "the rule's tag pattern")
    .option("--id <id>", "the rule's id (as berth admin immutable ls prints)")
    .action(
      withBackend(factory, async (backend, command, project) => {
        const opts = command.opts() as { repo?: string; tag?: string; id?: string };
        let id = opts.id;
        if (id === undefined) {
          if (opts.repo === undefined || opts.tag === undefined)
            throw new CliError(
              "give --repo and --tag (or --id) of the rule to remove",
              ExitCode.Usage,
            );
          const rules = await backend.listImmutableRules(project as string);
          id = rules.find(
            (r) => r.repositoryPattern === opts.repo && r.tagPattern === opts.tag,
          )?.id;
          if (id === undefined)
            throw new CliError(
              `project ${project} has no immutability rule with repository "${opts.repo}" and tag "${opts.tag}"`,
            );
        }
        await backend.removeImmutableRule(project as string, id);
        done(command, `removed immutability rule ${id} from ${project}`, { project, id });
      }),
    );
}

async function readRulesFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new CliError(`cannot read rules file ${file}`, ExitCode.Usage);
  }
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new CliError(`${file} is not valid YAML or JSON: ${why}`, ExitCode.Usage);
  }
}

function shortDigest(digest: string): string {
  return digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, "$1");
}

function printReport(report: RetentionReport): void {
  const lines: string[] = [];
  if (report.deleted.length > 0) {
    lines.push(
      renderTable(
        ["REPOSITORY", "DIGEST", "TAGS", "WHY"],
        report.deleted.map((v) => [
          v.repository,
          shortDigest(v.digest),
          v.tags.join(",") || "<untagged>",
          v.reasons.join("; "),
        ]),
      ),
    );
  }
  for (const s of report.skipped) lines.push(`skipped ${s.repository}@${s.digest}: ${s.reason}`);
  const verb = report.dryRun ? "would delete" : "deleted";
  lines.push(
    `${report.project}: ${verb} ${report.deleted.length} artifacts, retained ${report.retained.length}, in ${report.repositories.length} repositories`,
  );
  printLines(lines);
}

export function registerRetentionCommands(admin: Command, factory: BackendFactory): void {
  const retention = admin.command("retention").description("manage retention policies");
  retention
    .command("set <project> <file>")
    .description("set a project's retention rules and schedule from a YAML or JSON file")
    .addHelpText(
      "after",
      "\nThe file format is documented in docs/policies.md. Example file:\n" +
        '  schedule: "0 3 * * *"\n  rules:\n    - repositories: { matching: "**" }\n' +
        '      tags: { matching: "v*" }\n      retain: { mostRecentlyPushed: 10 }\n',
    )
    .action(
      withBackend(factory, async (backend, command, project, file) => {
        const doc = await readRulesFile(file as string);
        const policy = await backend.setRetention(project as string, doc);
        done(
          command,
          `retention policy of ${project}: ${policy.rules.length} rules, ${policy.schedule ? `schedule "${policy.schedule}"` : "manual runs only"}`,
          policy,
        );
      }),
    );
  retention
    .command("show <project>")
    .description("print a project's retention policy")
    .action(
      withBackend(factory, async (backend, command, project) => {
        const policy = await backend.getRetention(project as string);
        if (!policy) throw new CliError(`project ${project} has no retention policy`);
        if (wantsJson(command)) return printJson(policy);
        process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
      }),
    );
  retention
    .command("run <project>")
    .description("apply a project's retention policy now (--dry-run only lists what would go)")
    .option("--dry-run", "list what would be deleted and why, delete nothing")
    .action(
      withBackend(factory, async (backend, command, project) => {
        const dryRun = (command.opts() as { dryRun?: boolean }).dryRun === true;
        const report = await backend.runRetention(project as string, dryRun);
        if (wantsJson(command)) return printJson(report);
        printReport(report);
      }),
    );
}
