// `berth load FILE.tar DEST`: pushes the images of a `docker save` / `skopeo copy
// docker-archive:` archive (or an OCI archive) to a registry or into an OCI layout. DEST
// naming: one image + DEST with a tag → exactly there; one image + a repository → that
// repository with the image's own tag; several images → DEST is a prefix and each
// RepoTags name goes under it (`DEST/<name>:<tag>`; an OCI layout gets `<name>:<tag>`).
import type { Command } from "commander";
import { parseImageReference } from "../oci/index.js";
import { ArchiveTree } from "../transport/blob-tree.js";
import { copyImage } from "../transport/copy.js";
import { DockerArchiveSource, readArchiveManifest } from "../transport/docker-archive-source.js";
import { openImageDestination } from "../transport/index.js";
import { OciLayoutSource, parseLayoutIndex, REF_NAME_ANNOTATION } from "../transport/oci-layout.js";
import { familiarName, parseTransportSpec, refuseShortName } from "../transport/spec.js";
import type { ImageSource } from "../transport/types.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson, TransferProgress } from "./output.js";
import {
  addRegistryFlags,
  cliAction,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";

interface LoadFlags extends RegistryFlags {
  quiet?: boolean;
  format: string;
}

interface ArchivedImage {
  /** `name:tag` names the archive gives the image (RepoTags or OCI ref names). */
  names: string[];
  open(): Promise<ImageSource>;
}

export function register(program: Command): void {
  const command = program
    .command("load")
    .description("push the images of a docker save / OCI archive to a registry or OCI layout")
    .argument("<archive>", "a tar written by docker save, podman save, skopeo or berth save")
    .argument("<destination>", "registry repository or prefix (localhost:5000/team), or oci:DIR")
    .option("-q, --quiet", "no progress bars")
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExamples:\n  berth load app.tar localhost:5000/team/app:1.0\n  berth load bundle.tar localhost:5000/mirror      # each image under the prefix\n  berth load bundle.tar oci:./layout",
    );
  addRegistryFlags(command).action(
    cliAction(async (archive: string, destination: string, flags: LoadFlags) => {
      const images = await archivedImages(archive);
      const targets = planTargets(images, destination);
      const registry = registryOptionsFrom(flags);
      const progress = new TransferProgress({ quiet: flags.quiet || flags.format === "json" });
      const loaded: { target: string; digest: string }[] = [];
      try {
        for (const { image, target } of targets) {
          const source = await image.open();
          const dest = await openImageDestination(target, { registry });
          try {
            // An archive's OCI view may hold a whole index: load it whole, digest kept.
            const result = await copyImage(source, dest, { all: true, onEvent: progress.handle });
            await dest.close();
            loaded.push({ target, digest: result.digest });
          } catch (err) {
            await dest.abort?.();
            throw err;
          } finally {
            await source.close();
          }
        }
      } finally {
        progress.stop();
      }
      if (flags.format === "json") printJson({ archive, loaded });
      else for (const l of loaded) process.stdout.write(`Loaded ${l.target} (${l.digest})\n`);
    }),
  );
}

async function archivedImages(file: string): Promise<ArchivedImage[]> {
  const tree = await ArchiveTree.open(file);
  if (await tree.exists("manifest.json")) {
    const entries = await readArchiveManifest(tree);
    return entries.map((entry, index) => ({
      names: entry.RepoTags,
      open: () => DockerArchiveSource.fromTree(tree, { index }, `docker-archive:${file}:@${index}`),
    }));
  }
  if (await tree.exists("index.json")) {
    const index = parseLayoutIndex(await tree.readSmall("index.json"), file);
    return index.manifests.map((m) => {
      const name = m.annotations?.[REF_NAME_ANNOTATION];
      return {
        names: name ? [name.includes(":") || name.includes("/") ? name : `image:${name}`] : [],
        open: () =>
          OciLayoutSource.open(tree, name, `oci-archive:${file}${name ? `:${name}` : ""}`),
      };
    });
  }
  throw new CliError(`${file} is neither a docker archive nor an OCI archive`, ExitCode.Usage);
}

function tagOf(name: string): string {
  const colon = name.lastIndexOf(":");
  return colon > name.lastIndexOf("/") ? name.slice(colon + 1) : "latest";
}

/** Destination string for each image of the archive (see the module header for the rules). */
export function planTargets(
  images: ArchivedImage[],
  destination: string,
): { image: ArchivedImage; target: string }[] {
  if (!destination.startsWith("oci:") && !destination.startsWith("docker://")) {
    refuseShortName(destination);
  }
  const spec = parseTransportSpec(
    destination.startsWith("oci:")
      ? destination
      : `docker://${destination.replace(/^docker:\/\//, "")}`,
  );
  const first = images[0];
  if (!first) throw new CliError("the archive holds no images", ExitCode.Usage);
  const namesTarget =
    spec.kind === "registry"
      ? (spec.reference.tag ?? spec.reference.digest)
      : spec.kind === "oci"
        ? spec.tag
        : undefined;
  if (namesTarget !== undefined) {
    if (images.length !== 1) {
      throw new CliError(
        `the archive holds ${images.length} images; give a repository prefix, not one image`,
        ExitCode.Usage,
      );
    }
    return [{ image: first, target: destination }];
  }
  if (spec.kind === "oci") {
    return images.flatMap((image) =>
      image.names.length === 0
        ? [{ image, target: destination }]
        : image.names.map((name) => ({
            image,
            target: `${destination}:${familiarName(parseImageReference(name))}`,
          })),
    );
  }
  if (spec.kind !== "registry")
    throw new CliError(`cannot load into ${destination}`, ExitCode.Usage);
  const prefix = destination.replace(/^docker:\/\//, "").replace(/\/+$/, "");
  if (images.length === 1) {
    const tags = first.names.length > 0 ? first.names.map(tagOf) : ["latest"];
    return tags.map((tag) => ({ image: first, target: `${prefix}:${tag}` }));
  }
  return images.flatMap((image) => {
    if (image.names.length === 0) {
      throw new CliError(
        "an image in the archive has no name; load it alone with :@N",
        ExitCode.Usage,
      );
    }
    return image.names.map((name) => {
      const ref = parseImageReference(name);
      const path =
        ref.registry === "docker.io" ? ref.repository.replace(/^library\//, "") : ref.repository;
      return { image, target: `${prefix}/${path}:${ref.tag ?? "latest"}` };
    });
  });
}
