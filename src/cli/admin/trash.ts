// `berth admin trash ls|restore|purge` (docs/lifecycle.md), against a running server's
// management API (`--server URL`): list what deletions moved to the trash, restore an entry
// (the artifact with its tags and referrers, or a tag) by id, REPO@DIGEST or REPO:TAG, and
// purge now (a trash-purge job, waited for). `--format json` prints one JSON document: the
// API's shapes. Exit codes: 0 done, 2 bad usage, 3 refused or failed (e.g. a tag taken since).
import type { Command } from "commander";
import type { JobView } from "../../api/routes/jobs.js";
import type { TrashEntryView } from "../../api/routes/trash.js";
import type { TrashPurgeReport } from "../../jobs/trash-purge.js";
import { isValidRepositoryName, isValidTag } from "../../oci/reference.js";
import { CliError, ExitCode } from "../errors.js";
import { humanSize, printJson, printLines, renderTable } from "../output.js";
import { ManagementClient } from "./api-client.js";

export type TrashTarget =
  | { id: number }
  | { repository: string; digest: string }
  | { repository: string; tag: string };

const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** `12`, `REPO@DIGEST` or `REPO:TAG` (a repository of this server, no registry host). */
export function parseTrashTarget(text: string): TrashTarget {
  if (/^[1-9]\d{0,15}$/.test(text)) return { id: Number(text) };
  const at = text.indexOf("@");
  if (at > 0) {
    const repository = text.slice(0, at);
    const digest = text.slice(at + 1);
    if (isValidRepositoryName(repository) && DIGEST.test(digest)) return { repository, digest };
  } else {
    const colon = text.lastIndexOf(":");
    const repository = text.slice(0, colon);
    const tag = text.slice(colon + 1);
    if (colon > 0 && isValidRepositoryName(repository) && isValidTag(tag))
      return { repository, tag };
  }
  throw new CliError(
    `"${text}" is not a trash entry: give its id (berth admin trash ls), REPO@DIGEST or REPO:TAG`,
    ExitCode.Usage,
  );
}

interface Page<T> {
  items: T[];
  total: number;
}

/** The newest entry matching a REPO@DIGEST or REPO:TAG target, from the repository's list. */
export function pickEntry(entries: readonly TrashEntryView[], target: TrashTarget) {
  if ("id" in target) return entries.find((e) => e.id === target.id);
  if ("digest" in target)
    return entries.find((e) => e.kind === "artifact" && e.digest === target.digest);
  return (
    entries.find((e) => e.kind === "tag" && e.tag === target.tag) ??
    entries.find((e) => e.kind === "artifact" && e.tags.includes(target.tag))
  );
}

async function resolveId(client: ManagementClient, target: TrashTarget): Promise<number> {
  if ("id" in target) return target.id;
  const q = new URLSearchParams({ repository: target.repository, page_size: "100" });
  for (let page = 1; page <= 100; page++) {
    q.set("page", String(page));
    const list = await client.call<Page<TrashEntryView>>("GET", `/api/v1/trash?${q}`);
    const found = pickEntry(list.items, target);
    if (found) return found.id;
    if (page * 100 >= list.total) break;
  }
  const what =
    "digest" in target
      ? `${target.repository}@${target.digest}`
      : `${target.repository}:${target.tag}`;
  throw new CliError(
    `${what} is not in the trash (berth admin trash ls --repository ${target.repository})`,
  );
}

const json = (command: Command) => command.optsWithGlobals().format === "json";

function label(e: TrashEntryView): string {
  return e.kind === "tag" ? `${e.repository}:${e.tag}` : `${e.repository}@${e.digest}`;
}

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

export function registerTrashCommands(admin: Command): void {
  const trash = admin
    .command("trash")
    .description(
      "deleted artifacts and tags, restorable until purged (trash.keep, default 7 days; see docs/lifecycle.md)",
    );
  trash
    .command("ls")
    .description("list the trash, newest first")
    .option("--project <name>", "only this project's repositories")
    .option("--repository <name>", "only this repository")
    .option("--kind <kind>", "only artifact or tag entries")
    .option("--limit <n>", "at most this many, up to 100 (default 50)", "50")
    .action(async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const o = command.opts() as {
        project?: string;
        repository?: string;
        kind?: string;
        limit: string;
      };
      if (o.kind !== undefined && o.kind !== "artifact" && o.kind !== "tag")
        throw new CliError("--kind must be artifact or tag", ExitCode.Usage);
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        throw new CliError("--limit must be a number from 1 to 100", ExitCode.Usage);
      const client = await ManagementClient.open(command, "trash commands");
      const q = new URLSearchParams({ page_size: String(limit) });
      if (o.project) q.set("project", o.project);
      if (o.repository) q.set("repository", o.repository);
      if (o.kind) q.set("kind", o.kind);
      const list = await client.call<Page<TrashEntryView>>("GET", `/api/v1/trash?${q}`);
      if (json(command)) return printJson(list.items);
      printLines([
        renderTable(
          ["ID", "ENTRY", "TAGS", "SIZE", "REASON", "DELETED", "BY", "EXPIRES"],
          list.items.map((e) => [
            String(e.id),
            label(e),
            e.tags.join(",") || "-",
            humanSize(e.size),
            e.reason,
            e.deletedAt,
            e.deletedBy,
            e.expiresAt,
          ]),
        ),
        ...(list.total > list.items.length ? [`(${list.total} in all)`] : []),
      ]);
    });
  trash
    .command("restore <entry>")
    .description(
      "restore an entry (ID, REPO@DIGEST or REPO:TAG): the artifact with its tags and referrers, or the tag; refused if a tag now names another manifest",
    )
    .action(async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const target = parseTrashTarget(String(args[0]));
      const client = await ManagementClient.open(command, "trash commands");
      const id = await resolveId(client, target);
      const restored = await client.call<{
        entry: TrashEntryView;
        manifests: { digest: string; tags: string[] }[];
      }>("POST", `/api/v1/trash/${id}/restore`, {});
      if (json(command)) return printJson(restored);
      process.stderr.write(
        `restored ${label(restored.entry)}${restored.manifests.length > 1 ? ` with ${restored.manifests.length - 1} referrers` : ""}${restored.entry.tags.length ? ` (tags ${restored.entry.tags.join(", ")})` : ""}\n`,
      );
    });
  trash
    .command("purge [ids...]")
    .description(
      "remove entries for good now (system administrators): the expired ones, --all, or the ids given; GC then frees their blobs",
    )
    .option("--all", "every entry, expired or not")
    .action(async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const ids = (args[0] as string[] | undefined) ?? [];
      const all = (command.opts() as { all?: boolean }).all === true;
      if (all && ids.length > 0)
        throw new CliError("give either --all or ids, not both", ExitCode.Usage);
      for (const id of ids)
        if (!/^[1-9]\d{0,15}$/.test(id))
          throw new CliError(`"${id}" is not a trash entry id`, ExitCode.Usage);
      const client = await ManagementClient.open(command, "trash commands");
      let job = await client.call<JobView>("POST", "/api/v1/trash/purge", {
        ...(all ? { all: true } : {}),
        ...(ids.length > 0 ? { ids: ids.map(Number) } : {}),
      });
      while (!FINAL.has(job.state)) {
        await new Promise((r) => setTimeout(r, 300));
        job = await client.call<JobView>("GET", `/api/v1/jobs/${job.id}`);
      }
      if (job.state !== "succeeded")
        throw new CliError(
          `trash-purge job ${job.id} ${job.state}${job.error ? `: ${job.error}` : ""}`,
        );
      const report = job.result as TrashPurgeReport;
      if (json(command)) return printJson({ job: job.id, ...report });
      process.stderr.write(
        `purged ${report.purged} trash entries (${humanSize(report.bytes)}); the next garbage collection frees their blobs\n`,
      );
    });
}
