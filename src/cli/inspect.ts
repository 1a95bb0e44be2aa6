// `berth inspect IMG`: what an image is — digest, media type, platforms of an index, and for
// one platform: created, size, labels, env, entrypoint/cmd, user, layers with sizes. Reads
// manifests and the config only (never layers). Works on every transport.
import type { Command } from "commander";
import { alignHistory, formatPlatform, parseManifest } from "../oci/index.js";
import { openImageSource, resolveImage } from "../transport/index.js";
import { platformsOf } from "../transport/resolve.js";
import { formatOption, humanSize, printJson } from "./output.js";
import {
  addRegistryFlags,
  cliAction,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";

interface InspectFlags extends RegistryFlags {
  platform?: string;
  format: string;
}

export interface InspectReport {
  name: string;
  digest: string;
  mediaType: string;
  platforms?: string[];
  image: {
    digest: string;
    platform: string;
    created?: string;
    size: number;
    labels: Record<string, string>;
    env: string[];
    entrypoint: string[] | null;
    cmd: string[] | null;
    user: string;
    workingDir: string;
    layers: { digest: string; mediaType: string; size: number; createdBy?: string }[];
  };
}

export function register(program: Command): void {
  const command = program
    .command("inspect")
    .description("show an image's digest, platforms, config and layers")
    .argument("<image>", "REF, docker://REF, oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE")
    .option("--platform <os/arch[/variant]>", "which image of a multi-arch index to describe")
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExample:\n  berth inspect localhost:5000/app:1.0 --platform linux/arm64 --format json",
    );
  addRegistryFlags(command).action(
    cliAction(async (image: string, flags: InspectFlags) => {
      const source = await openImageSource(image, { registry: registryOptionsFrom(flags) });
      try {
        const report = await inspect(image, source, flags.platform);
        if (flags.format === "json") printJson(report);
        else process.stdout.write(renderInspect(report));
      } finally {
        await source.close();
      }
    }),
  );
}

async function inspect(
  name: string,
  source: Awaited<ReturnType<typeof openImageSource>>,
  platform: string | undefined,
): Promise<InspectReport> {
  const resolved = await resolveImage(source, { platform });
  const top = resolved.index?.manifest ?? resolved.manifest;
  const parsedTop = parseManifest(top.bytes, top.mediaType);
  const history = resolved.config.history ?? [];
  // Commands are attributed to layers only when history and layers agree (no guessing).
  const alignment = alignHistory(history, resolved.layers.length);
  const createdBy = (i: number): string | undefined => {
    const h = alignment.layerHistory[i];
    return alignment.warnings.length === 0 && h !== undefined ? history[h]?.created_by : undefined;
  };
  const cfg = resolved.config.config ?? {};
  return {
    name,
    digest: top.digest,
    mediaType: top.mediaType,
    platforms:
      parsedTop.kind === "index" ? platformsOf(parsedTop.index).map(formatPlatform) : undefined,
    image: {
      digest: resolved.manifest.digest,
      platform: formatPlatform(resolved.platform),
      created: resolved.config.created,
      size: resolved.image.config.size + resolved.layers.reduce((n, l) => n + l.size, 0),
      labels: cfg.Labels ?? {},
      env: cfg.Env ?? [],
      entrypoint: cfg.Entrypoint ?? null,
      cmd: cfg.Cmd ?? null,
      user: cfg.User ?? "",
      workingDir: cfg.WorkingDir ?? "",
      layers: resolved.layers.map((l, i) => ({
        digest: l.digest,
        mediaType: l.mediaType,
        size: l.size,
        createdBy: createdBy(i),
      })),
    },
  };
}

export function renderInspect(r: InspectReport): string {
  const lines: string[] = [];
  const field = (label: string, value: string) => lines.push(`${`${label}:`.padEnd(13)}${value}`);
  field("Name", r.name);
  field("Digest", r.digest);
  field("Media type", r.mediaType);
  if (r.platforms) {
    field("Platforms", r.platforms.join(", "));
    field("Image", `${r.image.digest} (${r.image.platform})`);
  } else {
    field("Platform", r.image.platform);
  }
  if (r.image.created) field("Created", r.image.created);
  field("Size", humanSize(r.image.size));
  field("User", r.image.user || "(root)");
  if (r.image.workingDir) field("Workdir", r.image.workingDir);
  field("Entrypoint", r.image.entrypoint ? JSON.stringify(r.image.entrypoint) : "(none)");
  field("Cmd", r.image.cmd ? JSON.stringify(r.image.cmd) : "(none)");
  lines.push("Env:");
  for (const e of r.image.env) lines.push(`  ${e}`);
  lines.push("Labels:");
  for (const [k, v] of Object.entries(r.image.labels)) lines.push(`  ${k}=${v}`);
  lines.push(`Layers (${r.image.layers.length}):`);
  for (const l of r.image.layers) {
    const by = l.createdBy ? `  ${l.createdBy.replace(/\s+/g, " ").slice(0, 80)}` : "";
    lines.push(`  ${l.digest}  ${humanSize(l.size).padStart(10)}${by}`);
  }
  return `${lines.join("\n")}\n`;
}
