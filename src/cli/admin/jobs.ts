// `berth admin jobs ls|show|cancel|retry` and `berth admin gc` (docs/lifecycle.md), against a
// running server (`--server`, the management API; system administrators only) or a stopped
// server's data directory (`--data`: the database directly; `gc` then runs in this process,
// recorded as a job like any other). Shapes are the API's, so `--format json` prints the same
// either way.
import type { Command } from "commander";
import type { JobView } from "../../api/routes/jobs.js";
import { CliError, ExitCode } from "../errors.js";
import { humanSize, printJson, printLines, renderTable } from "../output.js";
import { remoteCredentials } from "./remote.js";

export interface JobsBackend {
  list(filter: { kind?: string; state?: string; limit: number }): Promise<JobView[]>;
  show(id: number): Promise<JobView & { log: { at: string; level: string; message: string }[] }>;
  cancel(id: number): Promise<JobView>;
  retry(id: number): Promise<JobView>;
  /** Queues a GC run (remote) or runs it here (direct); resolves with the job as it is now. */
  gc(options: { dryRun: boolean; deleteUntagged: boolean; wait: boolean }): Promise<JobView>;
  /** Runs an fsck (queued and waited for remotely, here with --data); the finished job. */
  fsck(options: { repair: boolean }): Promise<JobView>;
  close(): Promise<void>;
}

interface Where {
  server?: string;
  data?: string;
  config?: string;
  format?: string;
}

const STATES = ["queued", "running", "succeeded", "failed", "cancelled"];
const FINAL = new Set(["succeeded", "failed", "cancelled"]);

export async function openJobsBackend(command: Command): Promise<JobsBackend> {
  const opts = command.optsWithGlobals() as Where;
  const server = opts.server ?? (opts.data === undefined ? process.env.BERTH_SERVER : undefined);
  if (server && opts.data)
    throw new CliError("use either --server or --data, not both", ExitCode.Usage);
  if (server) {
    let url: URL;
    try {
      url = new URL(/^https?:\/\//.test(server) ? server : `http://${server}`);
    } catch {
      throw new CliError(`--server "${server}" is not a URL`, ExitCode.Usage);
    }
    return new RemoteJobs(url, await remoteCredentials(url, process.env));
  }
  const data = opts.data ?? process.env.BERTH_DATA;
  if (!data)
    throw new CliError(
      "say where: --server URL (running server) or --data DIR (stopped server)",
      ExitCode.Usage,
    );
  const { DirectJobs } = await import("./jobs-direct.js");
  return DirectJobs.open(data, opts.config);
}

function parseId(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text))
    throw new CliError(`"${text}" is not a job id (a positive number)`, ExitCode.Usage);
  return Number(text);
}

function wantsJson(command: Command): boolean {
  return command.optsWithGlobals().format === "json";
}

function run(action: (backend: JobsBackend, command: Command, ...args: string[]) => Promise<void>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const positional = args.slice(0, -2).filter((a): a is string => typeof a === "string");
    const backend = await openJobsBackend(command);
    try {
      await action(backend, command, ...positional);
    } finally {
      await backend.close();
    }
  };
}

function describeResult(job: JobView): string {
  const r = job.result as {
    dryRun?: boolean;
    manifests?: number;
    links?: number;
    blobs?: number;
    bytesFreed?: number;
  } | null;
  if (job.kind === "gc" && r && typeof r === "object" && typeof r.blobs === "number") {
    const verb = r.dryRun ? "would delete" : "deleted";
    return `${verb} ${r.manifests} manifests, ${r.links} links, ${r.blobs} blobs (${humanSize(r.bytesFreed ?? 0)})`;
  }
  return job.error ?? "";
}

export function registerJobCommands(admin: Command): void {
  const jobs = admin.command("jobs").description("background jobs: list, show, cancel, retry");
  jobs
    .command("ls")
    .description("list jobs, newest first")
    .option("--kind <kind>", "only this kind, e.g. gc")
    .option("--state <state>", `only this state: ${STATES.join(", ")}`)
    .option("--limit <n>", "at most this many, up to 100 (default 50)", "50")
    .action(
      run(async (backend, command) => {
        const o = command.opts() as { kind?: string; state?: string; limit: string };
        if (o.state !== undefined && !STATES.includes(o.state))
          throw new CliError(`--state must be one of ${STATES.join(", ")}`, ExitCode.Usage);
        const limit = Number(o.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100)
          throw new CliError("--limit must be a number from 1 to 100", ExitCode.Usage);
        const list = await backend.list({ kind: o.kind, state: o.state, limit });
        if (wantsJson(command)) return printJson(list);
        printLines([
          renderTable(
            ["ID", "KIND", "STATE", "ATTEMPTS", "CREATED", "RESULT"],
            list.map((j) => [
              String(j.id),
              j.kind,
              j.state,
              `${j.attempts}/${j.maxAttempts}`,
              j.createdAt,
              describeResult(j),
            ]),
          ),
        ]);
      }),
    );
  jobs
    .command("show <id>")
    .description("show a job with its log")
    .action(
      run(async (backend, command, id) => {
        const job = await backend.show(parseId(id!));
        if (wantsJson(command)) return printJson(job);
        printLines([
          `job ${job.id} (${job.kind}): ${job.state}, attempt ${job.attempts} of ${job.maxAttempts}`,
          `created ${job.createdAt}${job.finishedAt ? `, finished ${job.finishedAt}` : ""}`,
          ...(job.progress ? [`progress ${JSON.stringify(job.progress)}`] : []),
          ...(job.result !== null && job.result !== undefined
            ? [`result ${JSON.stringify(job.result)}`]
            : []),
          ...(job.error ? [`error ${job.error}`] : []),
          ...job.log.map((l) => `${l.at} ${l.level} ${l.message}`),
        ]);
      }),
    );
  jobs
    .command("cancel <id>")
    .description("cancel a queued or running job")
    .action(
      run(async (backend, command, id) => {
        const job = await backend.cancel(parseId(id!));
        if (wantsJson(command)) return printJson(job);
        process.stderr.write(
          job.state === "cancelled"
            ? `cancelled job ${job.id}\n`
            : `job ${job.id} will stop at its next heartbeat\n`,
        );
      }),
    );
  jobs
    .command("retry <id>")
    .description("run a failed or cancelled job again")
    .action(
      run(async (backend, command, id) => {
        const job = await backend.retry(parseId(id!));
        if (wantsJson(command)) return printJson(job);
        process.stderr.write(`job ${job.id} queued again\n`);
      }),
    );

  admin
    .command("gc")
    .description(
      "garbage-collect blobs nothing references (online: the registry keeps serving; see docs/lifecycle.md)",
    )
    .option("--dry-run", "report what would be deleted and the bytes freed; delete nothing")
    .option("--delete-untagged", "also delete untagged manifests (and their referrers)")
    .option("--wait", "wait until the run has finished (always so with --data)")
    .action(
      run(async (backend, command) => {
        const o = command.opts() as { dryRun?: boolean; deleteUntagged?: boolean; wait?: boolean };
        const job = await backend.gc({
          dryRun: o.dryRun === true,
          deleteUntagged: o.deleteUntagged === true,
          wait: o.wait === true,
        });
        if (wantsJson(command)) printJson(job);
        else if (FINAL.has(job.state))
          process.stderr.write(`gc job ${job.id} ${job.state}: ${describeResult(job)}\n`);
        else
          process.stderr.write(
            `gc job ${job.id} queued; follow it with: berth admin jobs show ${job.id}\n`,
          );
        if (job.state === "failed" || job.state === "cancelled")
          process.exitCode = ExitCode.Failure;
      }),
    );
}

class RemoteJobs implements JobsBackend {
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
      res = await fetch(new URL(`/api/v1${path}`, this.server), {
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
    return JSON.parse(text) as T;
  }

  async list(filter: { kind?: string; state?: string; limit: number }) {
    const q = new URLSearchParams({ page_size: String(Math.min(filter.limit, 100)) });
    if (filter.kind) q.set("kind", filter.kind);
    if (filter.state) q.set("state", filter.state);
    return (await this.call<{ items: JobView[] }>("GET", `/jobs?${q}`)).items;
  }
  show(id: number) {
    return this.call<JobView & { log: { at: string; level: string; message: string }[] }>(
      "GET",
      `/jobs/${id}`,
    );
  }
  cancel(id: number) {
    return this.call<JobView>("POST", `/jobs/${id}/cancel`, {});
  }
  retry(id: number) {
    return this.call<JobView>("POST", `/jobs/${id}/retry`, {});
  }
  async gc(options: { dryRun: boolean; deleteUntagged: boolean; wait: boolean }) {
    const job = await this.call<JobView>("POST", "/gc", {
      dryRun: options.dryRun,
      deleteUntagged: options.deleteUntagged,
    });
    return options.wait ? this.follow(job, "gc") : job;
  }
  async fsck(options: { repair: boolean }) {
    return this.follow(await this.call<JobView>("POST", "/fsck", options), "fsck");
  }
  /** Polls a job until it has finished, printing its progress on a terminal. */
  private async follow(started: JobView, label: string) {
    let job = started;
    let last = "";
    while (!FINAL.has(job.state)) {
      await new Promise((r) => setTimeout(r, 500));
      job = await this.show(job.id);
      const p = job.progress as { phase?: string; done?: number; total?: number } | null;
      const line = p?.phase ? `${p.phase} ${p.done}/${p.total}` : job.state;
      if (line !== last && process.stderr.isTTY) process.stderr.write(`${label}: ${line}\n`);
      last = line;
    }
    return job;
  }
  async close() {}
}
