// `berth admin replication add|ls|show|rm|run|executions|tasks|stop` (docs/replication.md),
// against a running server (`--server URL`, the management API; system administrators):
// replication runs as the server's jobs, so there is no `--data` mode. `run --wait` follows
// the execution to its end and exits 0 when it succeeded, 3 when it failed or was stopped.
import type { Command } from "commander";
import type { ExecutionView, PolicyView, TaskView } from "../../replication/api.js";
import { CliError, ExitCode } from "../errors.js";
import { printJson, renderTable } from "../output.js";
import { collect } from "../registry-flags.js";
import { adminJson as json, ManagementClient } from "./api-client.js";

const POLICIES = "/api/v1/replication/policies";
const EXECUTIONS = "/api/v1/replication/executions";

const open = (command: Command) => ManagementClient.open(command, "replication rules");

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  for (; v >= 1024 && i < units.length - 1; i++) v /= 1024;
  return `${v.toFixed(1)} ${units[i]}`;
}

function executionLine(e: ExecutionView): string {
  const took = e.durationMs !== null ? ` in ${(e.durationMs / 1000).toFixed(1)}s` : "";
  return `execution ${e.id} of ${e.policy}: ${e.state}: ${e.succeeded} copied, ${e.skipped} skipped, ${e.failed} failed of ${e.total}, ${bytes(e.bytes)}${took}${e.error ? ` (${e.error})` : ""}`;
}

interface AddFlags {
  endpoint: string;
  mode: string;
  repo: string[];
  excludeRepo: string[];
  tag: string[];
  excludeTag: string[];
  label: string[];
  platform: string[];
  destNamespace?: string;
  flatten?: string;
  trigger: string;
  overwrite: boolean;
  deletion?: boolean;
  bandwidth?: string;
  concurrency?: string;
  description?: string;
  disabled?: boolean;
}

function integer(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text)) throw new CliError(`${flag} takes a whole number`, ExitCode.Usage);
  return Number(text);
}

function ruleBody(name: string, f: AddFlags) {
  if (f.mode !== "push" && f.mode !== "pull")
    throw new CliError(`--mode is push or pull, not "${f.mode}"`, ExitCode.Usage);
  return {
    name,
    endpoint: f.endpoint,
    mode: f.mode,
    repositories: { include: f.repo, exclude: f.excludeRepo },
    tags: { include: f.tag, exclude: f.excludeTag },
    labels: f.label,
    platforms: f.platform,
    trigger: f.trigger,
    overwrite: f.overwrite,
    replicateDeletion: f.deletion ?? false,
    enabled: !f.disabled,
    ...(f.description !== undefined ? { description: f.description } : {}),
    ...(f.destNamespace !== undefined ? { destinationNamespace: f.destNamespace } : {}),
    ...(f.flatten !== undefined ? { flatten: integer(f.flatten, "--flatten") } : {}),
    ...(f.bandwidth !== undefined ? { bandwidthKbps: integer(f.bandwidth, "--bandwidth") } : {}),
    ...(f.concurrency !== undefined
      ? { concurrency: integer(f.concurrency, "--concurrency") }
      : {}),
  };
}

function ruleOptions(c: Command): Command {
  return c
    .requiredOption("--endpoint <name>", "the registry endpoint (berth admin endpoint add)")
    .requiredOption("--mode <push|pull>", "push: this registry → endpoint; pull: endpoint → here")
    .option("--repo <pattern>", "source repositories to copy, doublestar (repeatable)", collect, [])
    .option("--exclude-repo <pattern>", "source repositories to leave (repeatable)", collect, [])
    .option("--tag <pattern>", "tags to copy (repeatable; default all)", collect, [])
    .option("--exclude-tag <pattern>", "tags to leave (repeatable)", collect, [])
    .option("--label <key[=pattern]>", "image config label required (repeatable)", collect, [])
    .option(
      "--platform <os/arch>",
      "copy only these platforms of multi-arch images (repeatable)",
      collect,
      [],
    )
    .option("--dest-namespace <ns>", "destination namespace (replaces the first level)")
    .option("--flatten <n>", "leading levels removed from the path (-1: all but the last)")
    .option("--trigger <manual|event|cron:EXPR>", "when it runs", "manual")
    .option("--no-overwrite", "skip tags that exist on the destination with another digest")
    .option("--deletion", "event rules: delete on the destination what is deleted here")
    .option("--bandwidth <KiB/s>", "transfer limit of one execution (0: unlimited)")
    .option("--concurrency <n>", "artifacts copied at once (default 2)")
    .option("--description <text>", "what the rule is for")
    .option("--disabled", "create it disabled");
}

export function registerReplicationCommands(admin: Command): void {
  const replication = admin
    .command("replication")
    .description("copy images to or from other registries (docs/replication.md)");

  ruleOptions(replication.command("add <name>").description("add a replication rule"))
    .addHelpText(
      "after",
      "\nExample:\n  berth admin --server http://127.0.0.1:5000 replication add to-dr --endpoint dr --mode push --repo 'team/**' --platform linux/amd64 --trigger event",
    )
    .action(async (name: string, flags: AddFlags, command: Command) => {
      const client = await open(command);
      const made = await client.call<PolicyView>("POST", POLICIES, ruleBody(name, flags));
      if (json(command)) return printJson(made);
      process.stdout.write(
        `replication rule ${made.name} added: ${made.mode} ${made.mode === "push" ? "to" : "from"} ${made.endpoint}, trigger ${made.trigger}\n`,
      );
    });

  ruleOptions(replication.command("update <name>").description("replace a rule's settings"))
    .option("--rename <new>", "a new name")
    .action(async (name: string, flags: AddFlags & { rename?: string }, command: Command) => {
      const client = await open(command);
      const path = `${POLICIES}/${encodeURIComponent(name)}`;
      const updated = await client.call<PolicyView>(
        "PUT",
        path,
        ruleBody(flags.rename ?? name, flags),
      );
      if (json(command)) return printJson(updated);
      process.stdout.write(`replication rule ${updated.name} updated\n`);
    });

  replication
    .command("ls")
    .description("list replication rules")
    .action(async (_opts: unknown, command: Command) => {
      const rules = await (await open(command)).call<PolicyView[]>("GET", POLICIES);
      if (json(command)) return printJson(rules);
      if (rules.length === 0) return void process.stdout.write("no replication rules\n");
      process.stdout.write(
        `${renderTable(
          ["NAME", "MODE", "ENDPOINT", "REPOSITORIES", "TAGS", "PLATFORMS", "TRIGGER", "ENABLED"],
          rules.map((r) => [
            r.name,
            r.mode,
            r.endpoint,
            r.repositories.include.join(",") || "**",
            r.tags.include.join(",") || "*",
            r.platforms.join(",") || "all",
            r.trigger,
            r.enabled ? "yes" : "no",
          ]),
        )}\n`,
      );
    });

  replication
    .command("show <name>")
    .description("show a rule and its latest executions")
    .action(async (name: string, _opts: unknown, command: Command) => {
      const client = await open(command);
      const rule = await client.call<PolicyView>("GET", `${POLICIES}/${encodeURIComponent(name)}`);
      const executions = await client.call<ExecutionView[]>(
        "GET",
        `${EXECUTIONS}?policy=${encodeURIComponent(rule.id)}&limit=10`,
      );
      if (json(command)) return printJson({ ...rule, executions });
      process.stdout.write(`${JSON.stringify(rule, null, 2)}\n`);
      for (const e of executions) process.stdout.write(`${executionLine(e)}\n`);
    });

  replication
    .command("rm <name>")
    .description("remove a rule (running executions are stopped)")
    .action(async (name: string, _opts: unknown, command: Command) => {
      await (await open(command)).call("DELETE", `${POLICIES}/${encodeURIComponent(name)}`);
      if (json(command)) return printJson({ removed: name });
      process.stdout.write(`replication rule ${name} removed\n`);
    });

  replication
    .command("run <name>")
    .description("run a rule now")
    .option("--wait", "follow the execution to its end (exit 3 unless it succeeded)")
    .option("--timeout <seconds>", "with --wait: give up after this long", "3600")
    .action(async (name: string, opts: { wait?: boolean; timeout: string }, command: Command) => {
      const client = await open(command);
      let e = await client.call<ExecutionView>("POST", EXECUTIONS, { policy: name });
      if (!json(command)) process.stderr.write(`execution ${e.id} started\n`);
      const deadline = Date.now() + (integer(opts.timeout, "--timeout") ?? 3600) * 1000;
      let last = "";
      while (opts.wait && !["succeeded", "failed", "stopped"].includes(e.state)) {
        if (Date.now() > deadline)
          throw new CliError(`execution ${e.id} still ${e.state} after --timeout`);
        await new Promise((r) => setTimeout(r, 500));
        e = await client.call<ExecutionView>("GET", `${EXECUTIONS}/${e.id}`);
        const line = `${e.state}: ${e.succeeded + e.skipped + e.failed}/${e.total}, ${bytes(e.bytes)}`;
        if (!json(command) && line !== last) process.stderr.write(`${line}\n`);
        last = line;
      }
      if (json(command)) printJson(e);
      else process.stdout.write(`${executionLine(e)}\n`);
      if (opts.wait && e.state !== "succeeded") process.exitCode = ExitCode.Failure;
    });

  replication
    .command("executions [name]")
    .description("list executions, newest first (of one rule when named)")
    .option("--limit <n>", "how many", "20")
    .action(async (name: string | undefined, opts: { limit: string }, command: Command) => {
      const q = `?limit=${integer(opts.limit, "--limit")}${name ? `&policy=${encodeURIComponent(name)}` : ""}`;
      const list = await (await open(command)).call<ExecutionView[]>("GET", `${EXECUTIONS}${q}`);
      if (json(command)) return printJson(list);
      if (list.length === 0) return void process.stdout.write("no executions\n");
      process.stdout.write(
        `${renderTable(
          ["ID", "RULE", "TRIGGER", "STATE", "COPIED", "SKIPPED", "FAILED", "BYTES", "STARTED"],
          list.map((e) => [
            String(e.id),
            e.policy,
            e.trigger,
            e.state,
            String(e.succeeded),
            String(e.skipped),
            String(e.failed),
            bytes(e.bytes),
            e.startedAt ?? "",
          ]),
        )}\n`,
      );
    });

  replication
    .command("tasks <execution>")
    .description("an execution's per-artifact tasks")
    .option("--state <state>", "only tasks in this state (failed, skipped …)")
    .action(async (id: string, opts: { state?: string }, command: Command) => {
      const n = integer(id, "the execution id");
      const q = opts.state ? `?state=${encodeURIComponent(opts.state)}` : "";
      const tasks = await (await open(command)).call<TaskView[]>(
        "GET",
        `${EXECUTIONS}/${n}/tasks${q}`,
      );
      if (json(command)) return printJson(tasks);
      if (tasks.length === 0) return void process.stdout.write("no tasks\n");
      process.stdout.write(
        `${renderTable(
          ["ID", "OPERATION", "SOURCE", "DESTINATION", "STATE", "BYTES", "REFERRERS", "NOTE"],
          tasks.map((t) => [
            String(t.id),
            t.operation,
            `${t.sourceRepository}:${t.reference}`,
            t.destinationRepository,
            t.state,
            bytes(t.bytes),
            String(t.referrers),
            t.error ?? "",
          ]),
        )}\n`,
      );
    });

  replication
    .command("stop <execution>")
    .description("stop a pending or running execution")
    .action(async (id: string, _opts: unknown, command: Command) => {
      const n = integer(id, "the execution id");
      const e = await (await open(command)).call<ExecutionView>("POST", `${EXECUTIONS}/${n}/stop`);
      if (json(command)) return printJson(e);
      process.stdout.write(`execution ${e.id}: ${e.state}\n`);
    });
}
