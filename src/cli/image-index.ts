// `berth index create TARGET SRC…` and `berth index annotate TARGET`: make a multi-arch image
// from per-platform images (each source's platform read from its config; a source that is
// already an index contributes all its entries), copying their content into TARGET's
// repository first, like `docker buildx imagetools create`; then edit annotations or
// platforms of an existing index, like `docker manifest annotate`.
import type { Command } from "commander";
import {
  type Descriptor,
  digestOf,
  type ImageIndex,
  MediaType,
  parseManifest,
  parsePlatform,
} from "../oci/index.js";
import { copyImage } from "../transport/copy.js";
import { openImageDestination, openImageSource, resolveImage } from "../transport/index.js";
import type { ImageDestination, ManifestBytes } from "../transport/types.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson } from "./output.js";
import {
  addRegistryFlags,
  cliAction,
  collect,
  EXIT_CODES_HELP,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";

interface CreateFlags extends RegistryFlags {
  annotation?: string[];
  format: string;
}

interface AnnotateFlags extends RegistryFlags {
  annotation?: string[];
  manifest?: string;
  forPlatform?: string;
  setPlatform?: string;
  format: string;
}

export function register(program: Command): void {
  const index = program
    .command("index")
    .description("create and edit multi-arch images (image indexes)")
    .addHelpText(
      "after",
      "\nExamples:\n  berth index create localhost:5000/app:1.0 localhost:5000/app:1.0-amd64 localhost:5000/app:1.0-arm64\n  berth index annotate localhost:5000/app:1.0 --annotation org.opencontainers.image.version=1.0\n\nRun `berth index create --help` or `berth index annotate --help` for their options.",
    )
    .addHelpText("after", EXIT_CODES_HELP);
  const create = index
    .command("create")
    .description("make a multi-arch image from per-platform images")
    .argument("<target>", "where to write the index, e.g. localhost:5000/app:1.0 or oci:DIR:TAG")
    .argument("<sources...>", "per-platform images (their platform is read from their config)")
    .option("--annotation <key=value>", "annotation on the index (repeatable)", collect, [])
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExample:\n  berth index create localhost:5000/app:1.0 localhost:5000/app:1.0-amd64 localhost:5000/app:1.0-arm64 \\\n    --annotation org.opencontainers.image.source=https://example.com/app",
    );
  addRegistryFlags(create).action(cliAction(createIndex));

  const annotate = index
    .command("annotate")
    .description("set annotations or a platform on an index or one of its entries")
    .argument("<target>", "the index, e.g. localhost:5000/app:1.0 or oci:DIR:TAG")
    .option(
      "--annotation <key=value>",
      "annotation to set (repeatable; key= removes it)",
      collect,
      [],
    )
    .option("--manifest <digest>", "edit this entry instead of the index itself")
    .option("--for-platform <os/arch[/variant]>", "edit the entry of this platform")
    .option("--set-platform <os/arch[/variant]>", "set the selected entry's platform")
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExample:\n  berth index annotate localhost:5000/app:1.0 --for-platform linux/arm64 --set-platform linux/arm64/v8",
    );
  addRegistryFlags(annotate).action(cliAction(annotateIndex));
}

export function parseAnnotations(pairs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliError(`annotation "${pair}" must be key=value`, ExitCode.Usage);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

async function createIndex(target: string, sources: string[], flags: CreateFlags): Promise<void> {
  const annotations = parseAnnotations(flags.annotation);
  const registry = registryOptionsFrom(flags);
  const dest = await openImageDestination(target, { registry });
  if (dest.acceptsIndex === false) {
    throw new CliError(`${target} cannot hold a multi-arch image`, ExitCode.Usage);
  }
  try {
    const entries: Descriptor[] = [];
    for (const spec of sources) entries.push(...(await contribute(spec, dest, registry)));
    const allDocker = entries.every((e) => e.mediaType === MediaType.DockerManifest);
    const useDockerList = allDocker && Object.keys(annotations).length === 0;
    const doc: ImageIndex = {
      schemaVersion: 2,
      mediaType: useDockerList ? MediaType.DockerManifestList : MediaType.OciIndex,
      manifests: entries,
    };
    if (Object.keys(annotations).length > 0) doc.annotations = annotations;
    const bytes = Buffer.from(JSON.stringify(doc));
    const manifest: ManifestBytes = {
      bytes,
      digest: digestOf(bytes),
      mediaType: doc.mediaType as string,
    };
    await dest.putManifest(manifest, undefined, "top");
    await dest.close();
    const platforms = entries.map((e) =>
      e.platform
        ? `${e.platform.os}/${e.platform.architecture}${e.platform.variant ? `/${e.platform.variant}` : ""}`
        : "?",
    );
    if (flags.format === "json")
      printJson({
        target,
        digest: manifest.digest,
        mediaType: manifest.mediaType,
        manifests: entries,
      });
    else
      process.stdout.write(`Created ${target} (${manifest.digest}) for ${platforms.join(", ")}\n`);
  } catch (err) {
    await dest.abort?.();
    throw err;
  }
}

/** Copies one source into the destination and returns its index entries. */
async function contribute(
  spec: string,
  dest: ImageDestination,
  registry: ReturnType<typeof registryOptionsFrom>,
): Promise<Descriptor[]> {
  const source = await openImageSource(spec, { registry });
  try {
    const top = await source.getManifest();
    const parsed = parseManifest(top.bytes, top.mediaType);
    if (parsed.kind === "index") {
      await copyImage(source, dest, { all: true, placement: "child" });
      return parsed.index.manifests;
    }
    const resolved = await resolveImage(source);
    await copyImage(source, dest, { placement: "child" });
    const platform = { ...resolved.platform };
    if (resolved.config["os.version"]) platform["os.version"] = resolved.config["os.version"];
    return [{ mediaType: top.mediaType, digest: top.digest, size: top.bytes.length, platform }];
  } finally {
    await source.close();
  }
}

async function annotateIndex(target: string, flags: AnnotateFlags): Promise<void> {
  const registry = registryOptionsFrom(flags);
  const source = await openImageSource(target, { registry });
  let top: ManifestBytes;
  try {
    top = await source.getManifest();
  } finally {
    await source.close();
  }
  const parsed = parseManifest(top.bytes, top.mediaType);
  if (parsed.kind !== "index")
    throw new CliError(`${target} is a single image, not an index`, ExitCode.Usage);
  const doc = JSON.parse(top.bytes.toString("utf8")) as ImageIndex;
  const changes = parseAnnotations(flags.annotation);
  const selecting = flags.manifest !== undefined || flags.forPlatform !== undefined;
  if (selecting) {
    const wanted = flags.forPlatform ? parsePlatform(flags.forPlatform) : undefined;
    const entry = doc.manifests.find((m) =>
      flags.manifest
        ? m.digest === flags.manifest
        : m.platform?.os === wanted?.os &&
          m.platform?.architecture === wanted?.architecture &&
          (wanted?.variant === undefined || m.platform?.variant === wanted.variant),
    );
    if (!entry)
      throw new CliError(
        `${target} has no entry ${flags.manifest ?? flags.forPlatform}`,
        ExitCode.Usage,
      );
    entry.annotations = applyAnnotations(entry.annotations, changes);
    if (flags.setPlatform)
      entry.platform = { ...entry.platform, ...parsePlatform(flags.setPlatform) };
  } else {
    if (flags.setPlatform)
      throw new CliError("--set-platform needs --manifest or --for-platform", ExitCode.Usage);
    doc.annotations = applyAnnotations(doc.annotations, changes);
  }
  if (
    doc.mediaType === MediaType.DockerManifestList &&
    (doc.annotations || doc.manifests.some((m) => m.annotations))
  ) {
    doc.mediaType = MediaType.OciIndex;
  }
  const bytes = Buffer.from(JSON.stringify(doc));
  const manifest: ManifestBytes = {
    bytes,
    digest: digestOf(bytes),
    mediaType: doc.mediaType ?? MediaType.OciIndex,
  };
  const dest = await openImageDestination(target, { registry });
  await dest.putManifest(manifest, undefined, "top");
  await dest.close();
  if (flags.format === "json") printJson({ target, digest: manifest.digest, previous: top.digest });
  else process.stdout.write(`Updated ${target} (${manifest.digest})\n`);
}

function applyAnnotations(
  current: Record<string, string> | undefined,
  changes: Record<string, string>,
): Record<string, string> | undefined {
  const next = { ...current };
  for (const [k, v] of Object.entries(changes)) {
    if (v === "") delete next[k];
    else next[k] = v;
  }
  return Object.keys(next).length > 0 ? next : undefined;
}
