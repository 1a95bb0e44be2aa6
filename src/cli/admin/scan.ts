// `berth admin scan IMG|REPO|PROJECT [--wait]`, `berth admin scan-policy set|show PROJECT` and
// `berth admin allowlist add|ls|rm (PROJECT|--system) …` (docs/scan.md): scanning in the
// registry, against a running server (`--server`, the management API). Scans run in the
// server's workers, so there is no `--data` form. Shapes are the API's: `--format json` prints
// exactly what the API answered.
import type { Command } from "commander";
import { CliError, ExitCode } from "../errors.js";
import { printJson, printLines, renderTable } from "../output.js";
import { remoteCredentials } from "./remote.js";

interface ScanReportView {
  digest: string;
  status: string;
  counts?: Record<string, number>;
  fixableTotal?: number;
  total?: number;
  error?: string | null;
  platforms?: ScanReportView[];
  platform?: string | null;
}

interface ScanRequested {
  jobs: { digest: string; repository: string; job: number }[];
  unsupported: { digest: string; reason: string }[];
  alreadyQueued: string[];
  /** Already queued and still pending or running (older servers leave it out). */
  waiting?: { digest: string; repository: string; job: number }[];
}

class ScanApi {
  private readonly authorization: string;

  constructor(
    private readonly server: URL,
    credentials: { username: string; password: string },
  ) {
    this.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
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
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

async function openApi(command: Command): Promise<ScanApi> {
  const opts = command.optsWithGlobals() as { server?: string; data?: string };
  if (opts.data !== undefined)
    throw new CliError(
      "scanning runs in a server's workers: use --server URL (a running server), not --data",
      ExitCode.Usage,
    );
  const server = opts.server ?? process.env.BERTH_SERVER;
  if (!server) throw new CliError("say where: --server URL (env BERTH_SERVER)", ExitCode.Usage);
  let url: URL;
  try {
    url = new URL(/^https?:\/\//.test(server) ? server : `http://${server}`);
  } catch {
    throw new CliError(`--server "${server}" is not a URL`, ExitCode.Usage);
  }
  return new ScanApi(url, await remoteCredentials(url, process.env));
}

const wantsJson = (command: Command) => command.optsWithGlobals().format === "json";

export type ScanTarget =
  | { kind: "project"; project: string }
  | { kind: "repository"; project: string; repository: string }
  | { kind: "artifact"; project: string; repository: string; reference: string };

/**
 * `team`, `team/app`, `team/app:1.0`, `team/app@sha256:…`, with or without a registry host in
 * front (`127.0.0.1:5000/team/app:1.0`: a first component with a dot, a colon or `localhost`).
 */
export function parseScanTarget(text: string): ScanTarget {
  let rest = text.trim().replace(/^docker:\/\//, "");
  const parts = rest.split("/");
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) rest = parts.slice(1).join("/");
  if (rest === "" || /\s/.test(rest))
    throw new CliError(`"${text}" is not an image, repository or project`, ExitCode.Usage);
  let reference: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at);
  } else {
    const colon = rest.lastIndexOf(":");
    if (colon > rest.lastIndexOf("/")) {
      reference = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  const project = rest.split("/")[0]!;
  if (!rest.includes("/")) {
    if (reference !== undefined)
      throw new CliError(`"${text}": a tag or digest needs a repository`, ExitCode.Usage);
    return { kind: "project", project };
  }
  return reference === undefined
    ? { kind: "repository", project, repository: rest }
    : { kind: "artifact", project, repository: rest, reference };
}

function scanPath(t: ScanTarget): string {
  if (t.kind === "project") return `/projects/${encodeURIComponent(t.project)}/scan`;
  const repo = `/projects/${encodeURIComponent(t.project)}/repositories/${encodeURIComponent(t.repository)}`;
  return t.kind === "repository"
    ? `${repo}/scan`
    : `${repo}/artifacts/${encodeURIComponent(t.reference)}/scan`;
}

function countsLine(r: ScanReportView): string {
  if (r.status !== "done") return r.error ? `${r.status}: ${r.error}` : r.status;
  const c = r.counts ?? {};
  return `critical ${c.CRITICAL ?? 0}, high ${c.HIGH ?? 0}, medium ${c.MEDIUM ?? 0}, low ${c.LOW ?? 0}, unknown ${c.UNKNOWN ?? 0} (${r.fixableTotal ?? 0} fixable)`;
}

const FINAL_JOB = new Set(["succeeded", "failed", "cancelled"]);

async function waitForJobs(api: ScanApi, jobs: number[]): Promise<Map<number, string>> {
  const states = new Map<number, string>();
  for (const id of jobs) {
    for (;;) {
      const job = await api.call<{ state: string }>("GET", `/jobs/${id}`);
      if (FINAL_JOB.has(job.state)) {
        states.set(id, job.state);
        break;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return states;
}

function registerScan(admin: Command): void {
  admin
    .command("scan <target>")
    .description(
      "scan an image (PROJECT/REPO:TAG or @DIGEST), every image of a repository (PROJECT/REPO) or of a project (PROJECT) in the server",
    )
    .option("--wait", "wait for the scans to finish and print their results (exit 3 if one failed)")
    .action(async (text: string, _opts: unknown, command: Command) => {
      const target = parseScanTarget(text);
      const api = await openApi(command);
      const requested = await api.call<ScanRequested>("POST", scanPath(target), {});
      const wait = (command.opts() as { wait?: boolean }).wait === true;
      if (!wait) {
        if (wantsJson(command)) return printJson(requested);
        printLines([
          `${requested.jobs.length} scan(s) queued${requested.alreadyQueued.length ? `, ${requested.alreadyQueued.length} already queued` : ""}${requested.unsupported.length ? `, ${requested.unsupported.length} not scannable` : ""}`,
          ...requested.jobs.map((j) => `  ${j.digest} job ${j.job}`),
        ]);
        return;
      }
      // The scans this request queued, and those already running for an earlier request.
      const awaited = [...requested.jobs, ...(requested.waiting ?? [])];
      const states = await waitForJobs(
        api,
        awaited.map((j) => j.job),
      );
      const reports: (ScanReportView & { repository: string })[] = [];
      // Each job names its repository (a project scan spans many): no lookup, however many.
      for (const j of awaited) {
        const path = scanPath({
          kind: "artifact",
          project: target.project,
          repository: j.repository,
          reference: j.digest,
        });
        reports.push({
          ...(await api.call<ScanReportView>("GET", path)),
          repository: j.repository,
        });
      }
      if (wantsJson(command)) printJson({ ...requested, reports });
      else
        printLines([
          renderTable(
            ["ARTIFACT", "STATUS", "FINDINGS"],
            reports.map((r) => [
              `${r.repository}@${r.digest.slice(0, 19)}`,
              r.status,
              countsLine(r),
            ]),
          ),
        ]);
      if ([...states.values()].some((s) => s !== "succeeded")) process.exitCode = ExitCode.Failure;
    });
}

function registerScanPolicy(admin: Command): void {
  const policy = admin
    .command("scan-policy")
    .description("per-project scanning: scan on push and pull prevention");
  const print = (command: Command, p: Record<string, unknown>) => {
    if (wantsJson(command)) return printJson(p);
    printLines([
      `project ${p.project}: scan on push ${p.scanOnPush ? "on" : "off"}; pulls refused at ${p.preventSeverity ?? "no severity"}${p.preventUnscanned ? "; unscanned images refused" : ""}`,
    ]);
  };
  policy
    .command("set <project>")
    .description("change a project's scan policy (flags not given stay as they are)")
    .option("--scan-on-push", "scan every image pushed to the project")
    .option("--no-scan-on-push", "do not scan on push")
    .option(
      "--prevent-severity <level>",
      "refuse pulls of images with a vulnerability at or above low|medium|high|critical (none: never)",
    )
    .option("--prevent-unscanned", "refuse pulls of images that have not been scanned")
    .option("--no-prevent-unscanned", "let unscanned images be pulled")
    .action(async (project: string, _o: unknown, command: Command) => {
      const o = command.opts() as {
        scanOnPush?: boolean;
        preventSeverity?: string;
        preventUnscanned?: boolean;
      };
      // commander sets the negatable flags' default (true) even when not given: send only given ones.
      const given = (name: string) => command.getOptionValueSource(name) === "cli";
      const body: Record<string, unknown> = {};
      if (given("scanOnPush")) body.scanOnPush = o.scanOnPush;
      if (given("preventUnscanned")) body.preventUnscanned = o.preventUnscanned;
      if (o.preventSeverity !== undefined)
        body.preventSeverity =
          o.preventSeverity.toLowerCase() === "none" ? null : o.preventSeverity;
      const api = await openApi(command);
      print(
        command,
        await api.call("PUT", `/projects/${encodeURIComponent(project)}/scan-policy`, body),
      );
    });
  policy
    .command("show <project>")
    .description("print a project's scan policy")
    .action(async (project: string, _o: unknown, command: Command) => {
      const api = await openApi(command);
      print(command, await api.call("GET", `/projects/${encodeURIComponent(project)}/scan-policy`));
    });
}

interface AllowlistRow {
  cve: string;
  expiresAt: string | null;
  expired: boolean;
  reason: string | null;
  createdBy: string;
}

function allowlistPath(
  system: boolean,
  args: string[],
  want: number,
): { path: string; rest: string[] } {
  if (system) {
    if (args.length !== want)
      throw new CliError(
        `with --system give ${want === 0 ? "no project" : "only the CVE"}`,
        ExitCode.Usage,
      );
    return { path: "/system/cve-allowlist", rest: args };
  }
  if (args.length !== want + 1)
    throw new CliError(
      `give PROJECT${want ? " CVE" : ""} (or --system${want ? " CVE" : ""})`,
      ExitCode.Usage,
    );
  return {
    path: `/projects/${encodeURIComponent(args[0]!)}/cve-allowlist`,
    rest: args.slice(1),
  };
}

function registerAllowlist(admin: Command): void {
  const list = admin
    .command("allowlist")
    .description("CVE allowlists (per project, or system-wide with --system) for pull prevention");
  list
    .command("add <args...>")
    .description("allowlist a vulnerability id: add PROJECT CVE, or add --system CVE")
    .option("--system", "the system-wide list (system administrators)")
    .option("--expires <date>", "stop applying after this date (e.g. 2026-12-31)")
    .option("--reason <text>", "why it is accepted")
    .action(async (args: string[], _o: unknown, command: Command) => {
      const o = command.opts() as { system?: boolean; expires?: string; reason?: string };
      const { path, rest } = allowlistPath(o.system === true, args, 1);
      if (o.expires !== undefined && Number.isNaN(Date.parse(o.expires)))
        throw new CliError(
          `--expires "${o.expires}" is not a date such as 2026-12-31`,
          ExitCode.Usage,
        );
      const api = await openApi(command);
      const row = await api.call<AllowlistRow>("POST", path, {
        cve: rest[0],
        ...(o.expires ? { expires: o.expires } : {}),
        ...(o.reason ? { reason: o.reason } : {}),
      });
      if (wantsJson(command)) return printJson(row);
      printLines([
        `${row.cve} allowlisted${row.expiresAt ? ` until ${row.expiresAt}` : ""}${row.expired ? " (already expired: it does not apply)" : ""}`,
      ]);
    });
  list
    .command("ls [project]")
    .description("list a project's allowlist, or the system's with --system")
    .option("--system", "the system-wide list")
    .action(async (project: string | undefined, _o: unknown, command: Command) => {
      const o = command.opts() as { system?: boolean };
      const { path } = allowlistPath(o.system === true, project ? [project] : [], 0);
      const api = await openApi(command);
      const rows = await api.call<AllowlistRow[]>("GET", path);
      if (wantsJson(command)) return printJson(rows);
      printLines([
        renderTable(
          ["CVE", "EXPIRES", "REASON", "BY"],
          rows.map((r) => [
            r.cve,
            r.expiresAt ? `${r.expiresAt}${r.expired ? " (expired)" : ""}` : "never",
            r.reason ?? "",
            r.createdBy,
          ]),
        ),
      ]);
    });
  list
    .command("rm <args...>")
    .description("remove a vulnerability id: rm PROJECT CVE, or rm --system CVE")
    .option("--system", "the system-wide list")
    .action(async (args: string[], _o: unknown, command: Command) => {
      const o = command.opts() as { system?: boolean };
      const { path, rest } = allowlistPath(o.system === true, args, 1);
      const api = await openApi(command);
      await api.call("DELETE", `${path}/${encodeURIComponent(rest[0]!)}`);
      if (wantsJson(command)) return printJson({ removed: rest[0] });
      printLines([`${rest[0]} removed`]);
    });
}

export function registerScanCommands(admin: Command): void {
  registerScan(admin);
  registerScanPolicy(admin);
  registerAllowlist(admin);
}
