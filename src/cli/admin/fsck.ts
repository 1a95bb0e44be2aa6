// `berth admin fsck [--repair] [--format json]` (docs/lifecycle.md): checks every blob's
// bytes and every metadata row, against a running server (`--server`: queued as a job of kind
// fsck and waited for; system administrators only) or a stopped server's data directory
// (`--data`: runs here). Exit codes CI relies on: 0 clean, 1 problems found (also after a
// repair that fixed them: the run found them), 2 bad usage, 3 the check could not run.
import type { Command } from "commander";
import type { JobView } from "../../api/routes/jobs.js";
import type { FsckReport } from "../../jobs/fsck.js";
import { CliError, ExitCode } from "../errors.js";
import { humanSize, printJson, printLines } from "../output.js";
import { openJobsBackend } from "./jobs.js";

function reportOf(job: JobView): FsckReport {
  if (job.state !== "succeeded") {
    throw new CliError(`fsck job ${job.id} ${job.state}${job.error ? `: ${job.error}` : ""}`);
  }
  return job.result as FsckReport;
}

function describe(job: JobView, report: FsckReport): string[] {
  const lines = [
    `fsck job ${job.id}: ${report.blobsChecked} blobs (${humanSize(report.bytesChecked)}), ${report.manifestsChecked} manifests checked`,
  ];
  for (const p of report.problems) lines.push(`${p.kind} ${p.subject}: ${p.message}`);
  const listed = report.problems.length;
  const total = Object.values(report.counts).reduce((t, n) => t + (n ?? 0), 0);
  if (total > listed) lines.push(`… and ${total - listed} more`);
  for (const a of report.actions) {
    const broken = a.brokenManifests.length
      ? ` (now broken, push again: ${a.brokenManifests.join(", ")})`
      : "";
    lines.push(`repaired: ${a.action} ${a.subject}${broken}`);
  }
  lines.push(report.clean ? "clean" : `${total} problems found`);
  return lines;
}

export function registerFsckCommand(admin: Command): void {
  admin
    .command("fsck")
    .description(
      "check that every blob hashes to its name and every row points at what exists (online); exit 1 when problems are found",
    )
    .option(
      "--repair",
      "also do the safe repairs: quarantine corrupt bytes, forget rows without bytes, remove orphan bytes and uploads",
    )
    .action(async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const repair = (command.opts() as { repair?: boolean }).repair === true;
      const backend = await openJobsBackend(command);
      try {
        const job = await backend.fsck({ repair });
        const report = reportOf(job);
        if (command.optsWithGlobals().format === "json") printJson({ job: job.id, ...report });
        else printLines(describe(job, report));
        if (!report.clean) process.exitCode = ExitCode.Findings;
      } finally {
        await backend.close();
      }
    });
}
