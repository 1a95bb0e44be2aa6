// `berth delete IMG`: safe deletes against any OCI registry.
// - `REPO:TAG` removes that tag only (OCI 1.1 tag delete: `DELETE /v2/<name>/manifests/<tag>`);
//   the manifest and its other tags stay.
// - `REPO@DIGEST` removes the manifest with every tag pointing at it; Berth also removes its
//   referrers (signatures, SBOMs) and refuses when an index in the repository lists it.
// - `--dry-run` deletes nothing and prints what would go: for a digest, the tags pointing at
//   it, its referrers (recursively) and the indexes that list it (which make Berth refuse).
// - `--force` deletes a manifest an index lists, through Berth's management API
//   (`?force=true`; the /v2/ API never forces), with the same credentials.
import type { Command } from "commander";
import { fileCredentialResolver } from "../client/credentials.js";
import { RegistryError } from "../client/errors.js";
import type { RegistryClient } from "../client/registry-client.js";
import { isIndexMediaType, projectOf } from "../oci/index.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson } from "./output.js";
import { addRegistryFlags, cliAction, type RegistryFlags } from "./registry-flags.js";
import { clientFor, registryReference } from "./registry-ref.js";

interface DeleteFlags extends RegistryFlags {
  format: string;
  dryRun?: boolean;
  force?: boolean;
}

interface Preview {
  image: string;
  kind: "tag" | "manifest";
  digest: string;
  /** Tags removed. */
  tags: string[];
  /** Referrers removed with the manifest (Berth; other registries may keep them). */
  referrers: string[];
  /** Indexes in the repository listing the manifest: the delete is refused unless forced. */
  listedBy: string[];
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
  return out;
}

async function previewManifest(
  client: RegistryClient,
  repo: string,
  digest: string,
): Promise<Pick<Preview, "tags" | "referrers" | "listedBy">> {
  const tags = await client.listTags(repo).catch(() => [] as string[]);
  const heads = await mapLimit(tags, 8, async (tag) => ({
    tag,
    head: await client.headManifest(repo, tag),
  }));
  const pointing = heads.filter((h) => h.head?.digest === digest).map((h) => h.tag);
  const referrers: string[] = [];
  const queue = [digest];
  while (queue.length > 0) {
    const subject = queue.shift() as string;
    for (const d of await client.referrers(repo, subject).catch(() => [])) {
      if (!referrers.includes(d.digest) && d.digest !== digest) {
        referrers.push(d.digest);
        queue.push(d.digest);
      }
    }
  }
  const indexes = [
    ...new Set(
      heads
        .filter((h) => h.head && isIndexMediaType(h.head.mediaType) && h.head.digest !== digest)
        .map((h) => h.head?.digest as string),
    ),
  ];
  const listedBy: string[] = [];
  for (const index of indexes) {
    const fetched = await client.getManifest(repo, index);
    const parsed = JSON.parse(fetched.bytes.toString("utf8")) as {
      manifests?: { digest?: string }[];
    };
    if (parsed.manifests?.some((m) => m.digest === digest)) listedBy.push(index);
  }
  return { tags: pointing, referrers, listedBy };
}

function scheme(registry: string, flags: RegistryFlags): string {
  const host = registry.replace(/:\d+$/, "");
  const loopback = host === "localhost" || host === "[::1]" || /^127\./.test(host);
  return flags.plainHttp || loopback ? "http" : "https";
}

/** DELETE through Berth's management API with ?force=true. */
async function forceDelete(registry: string, repo: string, digest: string, flags: RegistryFlags) {
  let credential: { username: string; password: string } | undefined;
  if (flags.creds) {
    const colon = flags.creds.indexOf(":");
    credential = { username: flags.creds.slice(0, colon), password: flags.creds.slice(colon + 1) };
  } else credential = (await fileCredentialResolver(flags.authfile)(registry)) ?? undefined;
  const url =
    `${scheme(registry, flags)}://${registry}/api/v1/projects/${encodeURIComponent(projectOf(repo))}` +
    `/repositories/${encodeURIComponent(repo)}/artifacts/${encodeURIComponent(digest)}?force=true`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: "DELETE",
      headers: credential
        ? {
            authorization: `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`,
          }
        : {},
    });
  } catch (err) {
    throw new CliError(
      `cannot reach ${registry}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (res.status === 204) return;
  const text = await res.text();
  let message = `forced delete failed with HTTP ${res.status} (--force needs a Berth registry's management API)`;
  try {
    const parsed = JSON.parse(text) as { errors?: { message?: string }[] };
    if (parsed.errors?.[0]?.message) message = parsed.errors[0].message;
  } catch {
    // keep the generic message
  }
  throw new CliError(message);
}

export function register(program: Command): void {
  const command = program
    .command("delete")
    .alias("rm")
    .description("delete a tag (REPO:TAG) or a manifest (REPO@DIGEST) from a registry")
    .argument("<image>", "registry image, e.g. localhost:5000/app:1.0 or …@sha256:…")
    .option("--dry-run", "delete nothing; print what would go")
    .option("--force", "delete a manifest even if an index lists it (Berth's management API)")
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nREPO:TAG removes only that tag; REPO@DIGEST removes the manifest, every tag on it and\n" +
        "(on Berth) its referrers. A manifest that an index in the repository lists is refused\n" +
        "unless --force.\n\nExamples:\n  berth delete localhost:5000/team/app:old\n" +
        "  berth delete --dry-run localhost:5000/team/app@sha256:…",
    );
  addRegistryFlags(command).action(
    cliAction(async (image: string, flags: DeleteFlags) => {
      const ref = registryReference(image);
      if (ref.digest && ref.tag)
        throw new CliError("give either a tag or a digest, not both", ExitCode.Usage);
      const client = clientFor(ref, flags);
      try {
        const reference = ref.digest ?? ref.tag ?? "latest";
        const head = await client.headManifest(ref.repository, reference);
        if (!head) throw new RegistryError("not-found", `${image} not found`);
        const kind = ref.digest ? "manifest" : "tag";
        if (flags.force && kind === "tag")
          throw new CliError("--force applies to REPO@DIGEST deletes only", ExitCode.Usage);
        const preview: Preview =
          kind === "tag"
            ? { image, kind, digest: head.digest, tags: [reference], referrers: [], listedBy: [] }
            : {
                image,
                kind,
                digest: head.digest,
                ...(flags.dryRun
                  ? await previewManifest(client, ref.repository, head.digest)
                  : { tags: [], referrers: [], listedBy: [] }),
              };
        if (flags.dryRun) {
          if (flags.format === "json") printJson({ dryRun: true, ...preview });
          else process.stdout.write(describe(preview, true));
          return;
        }
        if (flags.force) await forceDelete(ref.registry, ref.repository, head.digest, flags);
        else if (kind === "tag")
          await deleteTagOnly(client, ref.registry, ref.repository, reference, head.digest);
        else await client.deleteManifest(ref.repository, reference);
        if (flags.format === "json") printJson({ deleted: image, kind, digest: head.digest });
        else if (kind === "tag")
          process.stdout.write(`Deleted tag ${image} (the manifest ${head.digest} stays)\n`);
        else process.stdout.write(`Deleted ${image}\n`);
      } finally {
        await client.close();
      }
    }),
  );
}

/**
 * OCI 1.1 tag delete. A registry without it (CNCF distribution 2.x answers 400
 * DIGEST_INVALID, others 405/UNSUPPORTED) gets a clear error: falling back to deleting the
 * manifest would silently remove every other tag on it.
 */
async function deleteTagOnly(
  client: ReturnType<typeof clientFor>,
  registry: string,
  repo: string,
  tag: string,
  digest: string,
): Promise<void> {
  try {
    await client.deleteManifest(repo, tag);
  } catch (err) {
    const unsupported =
      err instanceof RegistryError &&
      (err.code === "DIGEST_INVALID" || err.code === "UNSUPPORTED" || err.status === 405);
    if (!unsupported) throw err;
    throw new CliError(
      `${registry} cannot delete a tag on its own (OCI 1.1 tag delete); "berth delete ${registry}/${repo}@${digest}" deletes the manifest and every tag on it`,
      ExitCode.Failure,
    );
  }
}

function describe(p: Preview, dry: boolean): string {
  const verb = dry ? "would delete" : "deleted";
  if (p.kind === "tag") return `${verb} tag ${p.image} (the manifest ${p.digest} stays)\n`;
  const lines = [`${verb} manifest ${p.digest}`];
  for (const t of p.tags) lines.push(`  tag ${t}`);
  for (const r of p.referrers) lines.push(`  referrer ${r}`);
  for (const i of p.listedBy)
    lines.push(`  refused: listed by index ${i} (delete the index first, or use --force)`);
  return `${lines.join("\n")}\n`;
}
