// `berth build`'s engine: a Dockerfile (parsed by the same parser `berth lint` uses) and a
// context directory become an OCI image in the build store, without a daemon. Stages run in
// order, only those the target needs; FROM pulls through any transport (or `scratch`, or an
// earlier stage); COPY/ADD make reproducible layers from the context or another stage; RUN
// runs in an isolated root filesystem (sandbox.ts) and its changes become a layer; the other
// instructions edit the image config. Every step leaves a history entry as BuildKit writes
// it. RUN steps are cached by the filesystem they start from (the diff ids), their argv,
// environment, user, workdir, network and mounts; `noCache` skips the lookup.
// Reproducible: one epoch (SOURCE_DATE_EPOCH) is the created time and clamps every file time.
// Never lets a secret reach a layer, the history or the config.
import { createHash } from "node:crypto";
import {
  chmod,
  copyFile,
  cp,
  lstat,
  mkdir,
  readdir,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { basename, join } from "node:path";
import picomatch from "picomatch";
import { expand, type Scope } from "../lint/expand.js";
import {
  buildModel,
  type DockerfileModel,
  type InstructionInfo,
  type Stage,
} from "../lint/model.js";
import {
  formatPlatform,
  type HistoryEntry,
  type ImageConfig,
  MediaType,
  type Platform,
} from "../oci/index.js";
import { copyImage } from "../transport/copy.js";
import { openImageSource, type RegistryOptions, resolveImage } from "../transport/index.js";
import { parseTransportSpec, unknownTransportOf } from "../transport/spec.js";
import type { ManifestBytes } from "../transport/types.js";
import { extractArchive, isTarArchive } from "./archive.js";
import { ensureForeignRun } from "./binfmt.js";
import { BuildContext, ContextError, joinImage } from "./context.js";
import { type Heredoc, heredocWord, linesAfterFirst, parseHeredocs } from "./heredoc.js";
import {
  commandArgv,
  copyFlags,
  createdBy,
  DockerfileError,
  envMap,
  exposedPorts,
  jsonForm,
  parseHealthcheck,
  resolveWorkdir,
  runHistoryText,
  setEnv,
  splitWords,
  withoutFlags,
} from "./instructions.js";
import { type LayerFile, orderedEntries, writeLayer } from "./layer-writer.js";
import { fetchToFile, isGitSource, isUrlSource, urlFileName } from "./remote.js";
import {
  cleanImagePath,
  diffSnapshots,
  entryOf,
  RootfsError,
  resolveInRoot,
  resolveUser,
  snapshot,
  treeEntries,
  userHome,
} from "./rootfs.js";
import { runInSandbox, SandboxError, type SandboxMount } from "./sandbox.js";
import { DEFAULT_PATH, imageManifest, StageState } from "./stage.js";
import type { StatCache } from "./stat-cache.js";
import { type BuildStore, cacheKey } from "./store.js";
import { processWord } from "./word.js";

export class BuildError extends Error {
  /** True when the Dockerfile, the context or the options are at fault (not the build). */
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
    this.name = "BuildError";
  }
}

export type BuildEvent =
  | {
      kind: "step";
      platform: string;
      stage: string;
      step: string;
      line: number;
      cached: boolean;
      ms: number;
      layer: boolean;
    }
  /** A step begins (its `step` event follows when it ends). */
  | { kind: "start"; platform: string; stage: string; step: string; line: number }
  | { kind: "pull"; image: string; digest: string }
  | { kind: "output"; chunk: Buffer }
  | { kind: "warning"; message: string };

export interface BuildOptions {
  readonly dockerfileText: string;
  readonly context: string;
  readonly store: BuildStore;
  readonly target?: string;
  readonly buildArgs?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Labels known about the source (org.opencontainers.image.source/revision from the
   * context's git checkout): they replace the base's, the stage's LABEL and `labels` win.
   */
  readonly sourceLabels?: Readonly<Record<string, string>>;
  readonly platforms: readonly Platform[];
  readonly noCache?: boolean;
  /** Secret id → host file holding it. */
  readonly secrets?: ReadonlyMap<string, string>;
  readonly network?: "default" | "none";
  /** Seconds since the epoch: created time and the clamp for every file time. */
  readonly epoch: number;
  readonly registry?: RegistryOptions;
  readonly onEvent?: (event: BuildEvent) => void;
}

export interface BuiltImage {
  readonly platform: string;
  readonly manifest: ManifestBytes;
  readonly config: ImageConfig;
}

export interface BuildResult {
  /** The top manifest: the image, or an index when several platforms were built. */
  readonly manifest: ManifestBytes;
  readonly images: readonly BuiltImage[];
  readonly stepsRun: number;
  readonly stepsCached: number;
}

export async function build(options: BuildOptions): Promise<BuildResult> {
  const model = buildModel(options.dockerfileText);
  if (model.stages.length === 0)
    throw new BuildError("the Dockerfile has no FROM instruction", true);
  const context = await BuildContext.open(options.context);
  const images: BuiltImage[] = [];
  const counters = { run: 0, cached: 0 };
  for (const platform of options.platforms) {
    const run = new PlatformBuild(model, context, options, platform, counters);
    images.push(await run.build());
  }
  await (await options.store.statCache()).save();
  if (images.length === 1) {
    const [image] = images as [BuiltImage];
    return {
      manifest: image.manifest,
      images,
      stepsRun: counters.run,
      stepsCached: counters.cached,
    };
  }
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: images.map((i) => ({
        mediaType: i.manifest.mediaType,
        digest: i.manifest.digest,
        size: i.manifest.bytes.length,
        platform: platformOf(i.config),
      })),
    }),
  );
  const manifest = await options.store.putManifest(index, MediaType.OciIndex);
  return { manifest, images, stepsRun: counters.run, stepsCached: counters.cached };
}

function platformOf(config: ImageConfig): Platform {
  const p: Platform = { architecture: config.architecture, os: config.os };
  if (config.variant) p.variant = config.variant;
  return p;
}

function hostArch(): string {
  const map: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" };
  return map[process.arch] ?? process.arch;
}

class PlatformBuild {
  private readonly globals = new Map<string, string | undefined>();
  private readonly states = new Map<number, StageState>();
  private readonly usedArgs = new Set<string>();
  private readonly created: string;
  /** Temp copies a RUN step's bind mounts made (removed when the step ends). */
  private readonly runTemps: string[] = [];
  /** Images COPY --from read that are not stages (their root filesystems are removed after). */
  private readonly extra: StageState[] = [];

  constructor(
    private readonly model: DockerfileModel,
    private readonly context: BuildContext,
    private readonly options: BuildOptions,
    private readonly platform: Platform,
    private readonly counters: { run: number; cached: number },
  ) {
    this.created = new Date(options.epoch * 1000).toISOString().replace(".000Z", "Z");
    const target = formatPlatform(platform);
    const buildPlatform = `linux/${hostArch()}`;
    const auto: Record<string, string> = {
      TARGETPLATFORM: target,
      TARGETOS: platform.os,
      TARGETARCH: platform.architecture,
      TARGETVARIANT: platform.variant ?? "",
      BUILDPLATFORM: buildPlatform,
      BUILDOS: "linux",
      BUILDARCH: hostArch(),
      BUILDVARIANT: "",
    };
    for (const [k, v] of Object.entries(auto)) this.globals.set(k, v);
    for (const info of model.instructions) {
      if (info.stage !== -1 || info.keyword !== "ARG") continue;
      for (const p of info.properties) {
        const given = this.buildArg(p.name);
        this.globals.set(
          p.name,
          given ?? (p.rawValue === null ? undefined : this.word(p.rawValue, this.globals)),
        );
      }
    }
  }

  async build(): Promise<BuiltImage> {
    try {
      const target = this.targetStage();
      for (const index of this.neededStages(target)) {
        this.states.set(index, await this.runStage(this.model.stages[index] as Stage));
      }
      this.warnUnusedArgs();
      return await this.finish(this.states.get(target) as StageState);
    } finally {
      for (const s of [...this.states.values(), ...this.extra]) {
        if (s.rootfs) await rm(s.rootfs, { recursive: true, force: true }).catch(() => undefined);
      }
    }
  }

  private buildArg(name: string): string | undefined {
    const value = this.options.buildArgs?.[name];
    if (value !== undefined) this.usedArgs.add(name);
    return value;
  }

  private warnUnusedArgs(): void {
    for (const name of Object.keys(this.options.buildArgs ?? {})) {
      if (!this.usedArgs.has(name)) {
        this.options.onEvent?.({
          kind: "warning",
          message: `build argument ${name} was given but no ARG declares it`,
        });
      }
    }
  }

  /** A raw ENV/ARG/LABEL name or value processed as BuildKit does (quotes, escapes, `$`). */
  private word(raw: string, scope: Scope): string {
    return processWord(raw, scope, this.model.escape);
  }

  private expand(text: string, scope: Scope): string {
    return expand(text, scope, this.model.escape).value;
  }

  private targetStage(): number {
    const target = this.options.target;
    if (target === undefined) return this.model.stages.length - 1;
    const found = this.model.stages.findIndex((s) => s.name === target.toLowerCase());
    if (found === -1) {
      const names = this.model.stages
        .map((s) => s.name)
        .filter(Boolean)
        .join(", ");
      throw new BuildError(
        `--target ${target}: no stage of that name (stages: ${names || "none are named"})`,
        true,
      );
    }
    return found;
  }

  /** The stage's index for a `--from`/FROM name, or undefined when it names an image. */
  private stageRef(name: string, before: number): number | undefined {
    const lower = name.toLowerCase();
    const byName = this.model.stages.findIndex((s, i) => i < before && s.name === lower);
    if (byName !== -1) return byName;
    if (/^\d+$/.test(name) && Number(name) < before) return Number(name);
    return undefined;
  }

  private neededStages(target: number): number[] {
    const needed = new Set<number>();
    const visit = (index: number) => {
      if (needed.has(index)) return;
      needed.add(index);
      const stage = this.model.stages[index] as Stage;
      const from = this.stageRef(this.expand(stage.from.args[0]?.value ?? "", this.globals), index);
      if (from !== undefined) visit(from);
      for (const info of stage.instructions) {
        for (const f of info.flags) {
          const ref =
            f.name === "from"
              ? f.value
              : f.name === "mount"
                ? /(?:^|,)from=([^,]+)/.exec(f.value ?? "")?.[1]
                : undefined;
          if (!ref) continue;
          const dep = this.stageRef(this.expand(ref, this.globals), index);
          if (dep !== undefined) visit(dep);
        }
      }
    };
    visit(target);
    return [...needed].sort((a, b) => a - b);
  }

  /** The physical lines after an instruction's first line: where its heredoc bodies are. */
  private bodyLines(info: InstructionInfo): string[] {
    const lines = this.model.lines.slice(info.span.line - 1, info.span.endLine);
    return linesAfterFirst(lines, this.model.escape);
  }

  private stageLabel(stage: Stage): string {
    return stage.name ?? `stage-${stage.index}`;
  }

  private async runStage(stage: Stage): Promise<StageState> {
    const started = Date.now();
    this.started(stage, stage.from, `FROM ${stage.from.argsText}`);
    const state = await this.fromStage(stage);
    this.event(stage, stage.from, `FROM ${stage.from.argsText}`, false, started, false);
    await this.runTriggers(stage, state);
    for (const info of stage.instructions) {
      const t = Date.now();
      this.started(stage, info, `${info.keyword} ${info.argsText}`);
      const { cached, layer } = await this.step(state, info);
      if (layer) cached ? this.counters.cached++ : this.counters.run++;
      this.event(stage, info, `${info.keyword} ${info.argsText}`, cached, t, layer);
    }
    return state;
  }

  /**
   * The base's ONBUILD triggers, run right after FROM in the order they were recorded, as
   * Docker does; they are not passed on (the new image records only its own ONBUILDs).
   */
  private async runTriggers(stage: Stage, state: StageState): Promise<void> {
    const triggers = state.runtime.OnBuild ?? [];
    delete state.runtime.OnBuild;
    for (const trigger of triggers) {
      const info = buildModel(`FROM scratch\n${trigger}\n`).stages[0]?.instructions[0];
      const fail = (message: string, usage: boolean) =>
        this.fail(stage.from, `ONBUILD trigger "${trigger}" of the base image: ${message}`, usage);
      if (!info) throw fail("not an instruction", true);
      if (["FROM", "ONBUILD", "MAINTAINER"].includes(info.keyword) || info.run?.heredoc)
        throw fail(`${info.keyword} is not allowed as an ONBUILD trigger`, true);
      const t = Date.now();
      this.started(stage, stage.from, `ONBUILD ${trigger}`);
      let result: { cached: boolean; layer: boolean };
      try {
        result = await this.dispatch(state, info);
      } catch (err) {
        const usage =
          err instanceof BuildError
            ? err.usage
            : err instanceof DockerfileError || err instanceof ContextError;
        throw fail((err as Error).message.replace(/^Dockerfile line \d+ \(\w+\): /, ""), usage);
      }
      if (result.layer) result.cached ? this.counters.cached++ : this.counters.run++;
      this.event(stage, stage.from, `ONBUILD ${trigger}`, result.cached, t, result.layer);
    }
  }

  private started(stage: Stage, info: InstructionInfo, step: string): void {
    this.options.onEvent?.({
      kind: "start",
      platform: formatPlatform(this.platform),
      stage: this.stageLabel(stage),
      step: shortStep(step),
      line: info.span.line,
    });
  }

  private event(
    stage: Stage,
    info: InstructionInfo,
    step: string,
    cached: boolean,
    started: number,
    layer: boolean,
  ): void {
    this.options.onEvent?.({
      kind: "step",
      platform: formatPlatform(this.platform),
      stage: this.stageLabel(stage),
      step: shortStep(step),
      line: info.span.line,
      cached,
      ms: Date.now() - started,
      layer,
    });
  }

  private async fromStage(stage: Stage): Promise<StageState> {
    const image = this.expand(stage.from.args[0]?.value ?? "", this.globals);
    if (image === "") throw this.fail(stage.from, "FROM names no image", true);
    const platformFlag = stage.from.flags.find((f) => f.name === "platform")?.value;
    const platform = platformFlag
      ? parsePlatformText(this.expand(platformFlag, this.globals))
      : this.platform;
    const parent = this.stageRef(image, stage.index);
    if (parent !== undefined)
      return (this.states.get(parent) as StageState).derive(stage.index, stage.name);
    if (image.toLowerCase() === "scratch")
      return new StageState(stage.index, stage.name, platform, undefined, [], undefined);
    return this.pullStage(stage.index, stage.name, image, platform, stage.from);
  }

  private async pullStage(
    index: number,
    name: string | null,
    image: string,
    platform: Platform,
    info: InstructionInfo,
  ): Promise<StageState> {
    const spec = transportOf(image);
    const source = await openImageSource(spec, { registry: this.options.registry });
    try {
      const dest = await this.options.store.destination();
      const copied = await copyImage(source, dest, {
        platform: formatPlatform(platform),
        placement: "child",
      });
      const size = (await stat(this.options.store.blobFile(copied.digest))).size;
      const local = this.options.store.source({
        mediaType: copied.mediaType,
        digest: copied.digest,
        size,
      });
      const resolved = await resolveImage(local);
      const got = platformOf(resolved.config);
      if (got.architecture !== platform.architecture || got.os !== platform.os) {
        throw this.fail(
          info,
          `base image ${image} is ${formatPlatform(got)}, not ${formatPlatform(platform)}`,
        );
      }
      this.options.onEvent?.({ kind: "pull", image, digest: copied.digest });
      return new StageState(index, name, platform, resolved.config, resolved.layers, {
        name: image,
        digest: copied.digest,
      });
    } catch (err) {
      if (err instanceof BuildError) throw err;
      throw this.fail(info, `cannot pull base image ${image}: ${(err as Error).message}`);
    } finally {
      await source.close();
    }
  }

  private fail(info: InstructionInfo, message: string, usage = false): BuildError {
    return new BuildError(`Dockerfile line ${info.span.line} (${info.keyword}): ${message}`, usage);
  }

  /** Variables an instruction of the stage sees: its ARGs, then ENV (which wins). */
  private scope(state: StageState): Map<string, string | undefined> {
    const scope = new Map<string, string | undefined>(state.args);
    for (const [k, v] of envMap(state.runtime)) scope.set(k, v);
    return scope;
  }

  private history(info: InstructionInfo, text: string, layer: boolean): HistoryEntry {
    return { created: this.created, created_by: createdBy(info.keyword, text, layer) };
  }

  private async step(
    state: StageState,
    info: InstructionInfo,
  ): Promise<{ cached: boolean; layer: boolean }> {
    try {
      return await this.dispatch(state, info);
    } catch (err) {
      if (err instanceof BuildError) throw err;
      const usage =
        err instanceof DockerfileError || err instanceof ContextError || err instanceof RootfsError;
      throw this.fail(info, (err as Error).message, usage);
    }
  }

  private async dispatch(
    state: StageState,
    info: InstructionInfo,
  ): Promise<{ cached: boolean; layer: boolean }> {
    const scope = this.scope(state);
    const rest = withoutFlags(info.argsText);
    const meta = (text: string) => {
      state.addHistory(this.history(info, text, false));
      return { cached: false, layer: false };
    };
    switch (info.keyword) {
      case "ARG":
        for (const p of info.properties) {
          const given = this.buildArg(p.name);
          const value =
            given ??
            (p.rawValue !== null
              ? this.word(p.rawValue, scope)
              : this.globals.has(p.name)
                ? this.globals.get(p.name)
                : undefined);
          state.args.set(p.name, value);
        }
        return { cached: false, layer: false };
      case "ENV": {
        const pairs = info.properties.map((p): [string, string] => [
          p.name,
          this.word(p.rawValue ?? "", scope),
        ]);
        if (pairs.length === 0) throw new DockerfileError("ENV needs NAME=value");
        setEnv(state.runtime, pairs);
        return meta(pairs.map(([k, v]) => `${k}=${v}`).join(" "));
      }
      case "LABEL": {
        const labels = { ...(state.runtime.Labels ?? {}) };
        const pairs = info.properties.map((p): [string, string] => [
          this.word(p.rawName, scope),
          this.word(p.rawValue ?? "", scope),
        ]);
        for (const [k, v] of pairs) {
          labels[k] = v;
          state.ownLabels.add(k);
        }
        state.runtime.Labels = labels;
        return meta(pairs.map(([k, v]) => `${k}=${v}`).join(" "));
      }
      case "MAINTAINER":
        return meta(rest);
      case "WORKDIR": {
        const dir = resolveWorkdir(state.runtime.WorkingDir, this.expand(rest, scope));
        state.runtime.WorkingDir = dir;
        state.knownDirs.add(cleanImagePath(dir));
        return meta(dir);
      }
      case "USER": {
        const user = this.expand(rest, scope);
        if (user === "") throw new DockerfileError("USER needs a user name or uid");
        state.runtime.User = user;
        return meta(user);
      }
      case "EXPOSE": {
        const ports = exposedPorts(splitWords(this.expand(rest, scope)));
        state.runtime.ExposedPorts = { ...(state.runtime.ExposedPorts ?? {}) };
        for (const p of ports) state.runtime.ExposedPorts[p] = {};
        return meta(ports.join(" "));
      }
      case "VOLUME": {
        const paths = jsonForm(rest) ?? splitWords(this.expand(rest, scope));
        state.runtime.Volumes = { ...(state.runtime.Volumes ?? {}) };
        for (const p of paths) state.runtime.Volumes[p] = {};
        return meta(JSON.stringify(paths));
      }
      case "STOPSIGNAL":
        state.runtime.StopSignal = this.expand(rest, scope);
        return meta(state.runtime.StopSignal);
      case "SHELL": {
        const shell = jsonForm(rest);
        if (!shell || shell.length === 0)
          throw new DockerfileError('SHELL needs the JSON form, e.g. SHELL ["/bin/bash", "-c"]');
        state.shell = shell;
        state.runtime.Shell = shell;
        return meta(JSON.stringify(shell));
      }
      case "CMD": {
        state.runtime.Cmd = commandArgv(rest, state.shell);
        state.cmdSet = true;
        return meta(JSON.stringify(state.runtime.Cmd));
      }
      case "ENTRYPOINT": {
        state.runtime.Entrypoint = commandArgv(rest, state.shell);
        if (!state.cmdSet) state.runtime.Cmd = null;
        return meta(JSON.stringify(state.runtime.Entrypoint));
      }
      case "HEALTHCHECK": {
        const check = parseHealthcheck(info.flags, info.argsText);
        state.runtime.Healthcheck = check;
        return meta(info.argsText);
      }
      case "ONBUILD":
        state.runtime.OnBuild = [...(state.runtime.OnBuild ?? []), rest];
        return meta(rest);
      case "COPY":
      case "ADD":
        return { cached: await this.copy(state, info, scope), layer: true };
      case "RUN":
        return { cached: await this.run(state, info, scope), layer: true };
      default:
        throw new DockerfileError(`unknown instruction ${info.keyword}`);
    }
  }

  // ---- COPY / ADD ----

  private async copy(state: StageState, info: InstructionInfo, scope: Scope): Promise<boolean> {
    const flags = copyFlags(info.keyword, info.flags);
    const rest = withoutFlags(info.argsText);
    const json = jsonForm(rest);
    const heredocs = json ? [] : parseHeredocs(rest.split(/\s+/), this.bodyLines(info));
    const isHeredoc = (w: string) => heredocs.length > 0 && /^<<-?[A-Za-z_]/.test(w);
    const words = (json ?? splitWords(rest, this.model.escape)).map((w) =>
      isHeredoc(w) ? w : this.expand(w, scope),
    );
    if (words.length < 2)
      throw new DockerfileError(`${info.keyword} needs at least one source and a destination`);
    const destText = words[words.length - 1] as string;
    const sources = words.slice(0, -1);
    const urls = info.keyword === "ADD" ? sources.filter(isUrlSource) : [];
    const locals = sources.filter((s) => !urls.includes(s) && !isHeredoc(s));
    if (info.keyword === "ADD" && locals.some(isGitSource)) {
      throw new DockerfileError(
        "ADD of a git repository is not supported by berth build; clone it in a RUN step or COPY it from the context",
      );
    }
    if (flags.checksum !== undefined && (urls.length !== 1 || sources.length !== 1))
      throw new DockerfileError("ADD --checksum needs exactly one http(s) source");
    const dest = destText.startsWith("/")
      ? destText
      : `${resolveWorkdir(state.runtime.WorkingDir, ".")}/${destText}`;
    const destPath = cleanImagePath(dest);
    const text = [
      ...info.flags.map((f) => `--${f.name}${f.value === null ? "" : `=${f.value}`}`),
      ...words,
    ].join(" ");
    const entry = this.history(info, text, true);
    const platform = formatPlatform(this.platform);
    // --link: the layer is made on its own and rebased, so it does not depend on the layers
    // below it: a changed base reuses it (same bytes, same digest), as BuildKit does.
    const parentIds = flags.link ? ["link"] : state.diffIds;
    const fromStage =
      flags.from !== undefined
        ? await this.copySourceStage(state, info, this.expand(flags.from, scope))
        : undefined;
    if (fromStage) {
      const key = cacheKey(["COPY", platform, ...parentIds, "from", ...fromStage.diffIds, text]);
      if (await this.reuse(state, key, entry)) return true;
    }
    const fromRoot = fromStage ? await fromStage.materialise(this.options.store) : undefined;
    const chownRoot =
      flags.chown && /[^\d:]/.test(flags.chown)
        ? await state.materialise(this.options.store)
        : undefined;
    const owner = flags.chown
      ? await resolveUser(chownRoot, this.expand(flags.chown, scope))
      : undefined;
    const matches = fromRoot
      ? await matchInRoot(fromRoot, sources)
      : await this.matchContext(locals);
    const destIsDir =
      destText.endsWith("/") || destText === "." || matches.length > 1 || sources.length > 1;
    if (matches.length > 1 && !destIsDir)
      throw new DockerfileError(
        `${info.keyword} with several sources needs a destination ending in /`,
      );
    const temp = this.options.store.tempPath("add");
    try {
      return await this.copyFiles(state, info, {
        flags,
        text,
        entry,
        fromStage,
        fromRoot,
        owner,
        matches,
        urls,
        heredocs,
        scope,
        destPath,
        destIsDir,
        temp,
      });
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  /** COPY/ADD's second half: the layer entries, the cache lookup and the layer. */
  private async copyFiles(
    state: StageState,
    info: InstructionInfo,
    c: {
      flags: ReturnType<typeof copyFlags>;
      text: string;
      entry: HistoryEntry;
      fromStage: StageState | undefined;
      fromRoot: string | undefined;
      owner: { uid: number; gid: number } | undefined;
      matches: { path: string; host: string; isDirectory: boolean }[];
      urls: string[];
      heredocs: Heredoc[];
      scope: Scope;
      destPath: string;
      destIsDir: boolean;
      temp: string;
    },
  ): Promise<boolean> {
    const { flags, text, entry, fromStage, fromRoot, owner, matches, destPath, destIsDir } = c;
    const platform = formatPlatform(this.platform);
    const parentIds = flags.link ? ["link"] : state.diffIds;
    /** Entries that keep their own owners (an unpacked archive's, a stage's). */
    const keepOwner = new Set<LayerFile>();
    let files: LayerFile[] = [];
    let n = 0;
    for (const m of matches) {
      if (m.isDirectory) {
        files.push(
          ...(fromRoot
            ? await treeEntries(m.host, destPath)
            : await this.context.directoryEntries(m.path, destPath)),
        );
        if ((owner || flags.chmod !== undefined) && !state.knownDirs.has(destPath))
          files.push({ path: destPath, type: "directory", mode: 0o755, uid: 0, gid: 0, mtime: 0 });
      } else if (info.keyword === "ADD" && !fromRoot && (await isTarArchive(m.host))) {
        const unpacked = await extractArchive(m.host, destPath, join(c.temp, `archive-${n++}`));
        for (const f of unpacked) keepOwner.add(f);
        files.push(...unpacked);
      } else {
        const target = destIsDir ? joinImage(destPath, basename(m.path)) : destPath;
        files.push(
          fromRoot
            ? await entryOf(m.host, target, await lstat(m.host))
            : await this.context.entry(m.path, target),
        );
      }
    }
    if (c.urls.length > 0 || c.heredocs.length > 0)
      await mkdir(c.temp, { recursive: true, mode: 0o700 });
    for (const doc of c.heredocs) {
      const source = join(c.temp, `heredoc-${n++}`);
      const content = doc.expand ? this.expand(doc.content, c.scope) : doc.content;
      await writeFile(source, content, { mode: 0o600 });
      files.push({
        path: destIsDir ? joinImage(destPath, doc.name) : destPath,
        type: "file",
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        source,
        size: Buffer.byteLength(content),
      });
    }
    for (const url of c.urls) {
      const source = join(c.temp, `url-${n++}`);
      const fetched = await fetchToFile(url, source, { checksum: flags.checksum });
      files.push({
        path: destIsDir ? joinImage(destPath, urlFileName(url)) : destPath,
        type: "file",
        mode: 0o600,
        uid: 0,
        gid: 0,
        mtime: fetched.lastModified ?? 0,
        source,
        size: fetched.size,
      });
    }
    files = files
      .filter((f) => f.path !== "")
      .map((f) => ({
        ...f,
        uid: owner ? owner.uid : fromRoot || keepOwner.has(f) ? f.uid : 0,
        gid: owner ? owner.gid : fromRoot || keepOwner.has(f) ? f.gid : 0,
        mode: flags.chmod !== undefined && f.type !== "symlink" ? flags.chmod : f.mode,
      }));
    const key = fromStage
      ? cacheKey(["COPY", platform, ...parentIds, "from", ...fromStage.diffIds, text])
      : cacheKey([
          "COPY",
          platform,
          ...parentIds,
          text,
          await filesDigest(files, this.options.epoch, await this.options.store.statCache()),
        ]);
    if (!fromStage && (await this.reuse(state, key, entry))) return true;
    const layer = await writeLayer(this.options.store, files, this.options.epoch);
    await this.options.store.putCached(key, layer);
    state.addLayer(layer.layer, layer.diffId, entry);
    if (state.rootfs) await state.materialise(this.options.store);
    return false;
  }

  /** Adds the cached layer of `key` to the stage when there is one (and --no-cache is off). */
  private async reuse(state: StageState, key: string, entry: HistoryEntry): Promise<boolean> {
    if (this.options.noCache) return false;
    const cached = await this.options.store.getCached(key);
    if (!cached) return false;
    state.addLayer(cached.layer, cached.diffId, entry);
    if (state.rootfs) await state.materialise(this.options.store);
    return true;
  }

  private async matchContext(
    sources: string[],
  ): Promise<{ path: string; host: string; isDirectory: boolean }[]> {
    const out: { path: string; host: string; isDirectory: boolean }[] = [];
    for (const s of sources) {
      for (const m of await this.context.match(s))
        out.push({ ...m, host: join(this.context.root, m.path) });
    }
    return out;
  }

  /** The root filesystem COPY --from reads: an earlier stage's, or an image's. */
  private async copySourceStage(
    state: StageState,
    info: InstructionInfo,
    from: string,
  ): Promise<StageState> {
    const ref = this.stageRef(from, state.index);
    if (ref !== undefined) {
      const source = this.states.get(ref);
      if (!source) throw new DockerfileError(`--from=${from}: stage was not built`);
      return source;
    }
    if (from === "" || this.model.stages.some((s) => s.name === from.toLowerCase())) {
      throw new DockerfileError(
        `--from=${from} names a later stage or nothing; COPY --from reads earlier stages or images`,
      );
    }
    const image = await this.pullStage(-1 - this.extra.length, null, from, this.platform, info);
    this.extra.push(image);
    return image;
  }

  // ---- RUN ----

  private async run(state: StageState, info: InstructionInfo, scope: Scope): Promise<boolean> {
    const script = this.runScript(state, info);
    const argv = script.argv;
    const env = envMap(state.runtime);
    const argPairs: [string, string][] = [];
    for (const [k, v] of state.args) {
      if (v === undefined || env.has(k)) continue;
      argPairs.push([k, v]);
    }
    const runEnv = new Map(env);
    for (const [k, v] of argPairs) runEnv.set(k, v);
    if (!runEnv.has("PATH")) runEnv.set("PATH", DEFAULT_PATH);
    const mounts = [...(await this.runMounts(state, info, scope)), ...script.mounts];
    const network = this.runNetwork(info);
    const user = state.runtime.User || "0";
    const workdir = state.runtime.WorkingDir || "/";
    const key = cacheKey([
      "RUN",
      formatPlatform(this.platform),
      ...state.diffIds,
      JSON.stringify(argv),
      JSON.stringify([...runEnv].sort()),
      user,
      workdir,
      network,
      JSON.stringify(mounts.map((m) => m.key)),
    ]);
    const historyText = runHistoryText(
      argv,
      argPairs.sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    if (!this.options.noCache) {
      const cached = await this.options.store.getCached(key);
      if (cached) {
        state.addLayer(cached.layer, cached.diffId, this.history(info, historyText, true));
        return true;
      }
    }
    this.checkRunPlatform();
    const root = await state.materialise(this.options.store);
    const ids = await resolveUser(root, user);
    for (const dir of ["dev", "proc"])
      await mkdir(join(root, dir), { recursive: true, mode: 0o755 });
    for (const f of script.files) await writeFile(f.path, f.content, { mode: 0o755 });
    const resolved: { mount: SandboxMount; kind: string }[] = [];
    for (const m of mounts) resolved.push({ mount: await m.resolve(), kind: m.kind });
    const created = await this.prepareMounts(root, resolved);
    const before = await snapshot(root);
    await mkdir(await resolveInRoot(root, workdir, true), { recursive: true });
    // As runc and buildah do: a step without HOME gets the user's home from /etc/passwd.
    const stepEnv = new Map(runEnv);
    if (!stepEnv.has("HOME")) stepEnv.set("HOME", await userHome(root, ids.uid));
    const result = await runInSandbox({
      root,
      argv,
      env: [...stepEnv].map(([k, v]) => `${k}=${v}`),
      workdir,
      uid: ids.uid,
      gid: ids.gid,
      network,
      mounts: resolved.map((m) => m.mount),
      onOutput: (chunk) => this.options.onEvent?.({ kind: "output", chunk }),
    }).finally(() =>
      Promise.all(
        [...script.files.map((f) => f.path), ...this.runTemps.splice(0)].map((p) =>
          rm(p, { recursive: true, force: true }),
        ),
      ),
    );
    if (result.code !== 0) {
      throw this.fail(
        info,
        `RUN ${info.argsText} exited ${result.code}${result.tail ? `:\n${result.tail}` : ""}`,
      );
    }
    const after = await snapshot(root);
    const files = await diffSnapshots(root, before, after);
    const layer = await writeLayer(this.options.store, files, this.options.epoch);
    for (const path of created.reverse()) await rm(path, { recursive: true, force: true });
    state.addLayer(layer.layer, layer.diffId, this.history(info, historyText, true));
    state.markApplied();
    await this.options.store.putCached(key, layer);
    return false;
  }

  /**
   * RUN's argv, as BuildKit makes it: the exec form as is; a lone heredoc (`RUN <<EOF`) is the
   * shell's script, or, when it starts with `#!`, a file mounted read-only and executed; any
   * other shell form (heredocs included, `RUN python3 <<EOF`) goes whole to the SHELL.
   */
  private runScript(
    state: StageState,
    info: InstructionInfo,
  ): {
    argv: string[];
    mounts: RunMount[];
    files: { path: string; content: string }[];
  } {
    if (info.execForm) return { argv: [...info.execForm], mounts: [], files: [] };
    const script = withoutFlags(info.run?.script ?? info.argsText);
    if (!info.run?.heredoc) return { argv: [...state.shell, script], mounts: [], files: [] };
    const first = withoutFlags(info.argsText).trim();
    const docs = parseHeredocs(first.split(/\s+/), this.bodyLines(info));
    const lone = heredocWord(first);
    if (!lone || docs.length !== 1)
      return { argv: [...state.shell, script], mounts: [], files: [] };
    const body = (docs[0] as Heredoc).content;
    if (!body.startsWith("#!")) return { argv: [...state.shell, body], mounts: [], files: [] };
    const target = `/run/heredoc/${lone.name}`;
    const path = this.options.store.tempPath("heredoc");
    return {
      argv: [target],
      mounts: [
        fixedMount(
          "file",
          `heredoc:${lone.name}:${createHash("sha256").update(body).digest("hex")}`,
          {
            source: path,
            target,
            readonly: true,
          },
        ),
      ],
      files: [{ path, content: body }],
    };
  }

  private checkRunPlatform(): void {
    if (this.platform.architecture === hostArch()) return;
    try {
      ensureForeignRun(this.platform.architecture);
    } catch (err) {
      throw new SandboxError(`on this ${hostArch()} host: ${(err as Error).message}`);
    }
  }

  private runNetwork(info: InstructionInfo): "default" | "none" {
    const flag =
      info.flags.find((f) => f.name === "network")?.value ?? this.options.network ?? "default";
    if (flag !== "default" && flag !== "none" && flag !== "host")
      throw new DockerfileError(`RUN --network=${flag}: use default, host or none`);
    return flag === "none" ? "none" : "default";
  }

  /** RUN's --mount flags: what each binds in (resolved only when the step runs) and its cache key. */
  private async runMounts(
    state: StageState,
    info: InstructionInfo,
    scope: Scope,
  ): Promise<RunMount[]> {
    const out: RunMount[] = [];
    for (const f of info.flags) {
      if (f.name !== "mount") continue;
      const fields = mountFields(f.value ?? "", (v) => this.expand(v, scope));
      const type = fields.get("type") ?? "bind";
      const target = fields.get("target") ?? fields.get("dst") ?? fields.get("destination");
      if (type === "secret") {
        const id = fields.get("id") ?? (target ? basename(target) : undefined);
        if (!id) throw new DockerfileError("RUN --mount=type=secret needs id=");
        const file = this.options.secrets?.get(id);
        if (!file) {
          if (fields.get("required") === "true")
            throw new DockerfileError(`secret ${id} is required: pass --secret id=${id},src=FILE`);
          continue;
        }
        out.push(
          fixedMount("secret", `secret:${id}:${target ?? ""}`, {
            source: file,
            target: target ?? `/run/secrets/${id}`,
            readonly: true,
          }),
        );
      } else if (type === "cache") {
        if (!target) throw new DockerfileError("RUN --mount=type=cache needs target=");
        const id = fields.get("id") ?? target;
        const dir = join(this.options.store.directory, "mounts", cacheKey(["cache", id]));
        out.push(
          fixedMount("cache", `cache:${id}:${target}`, { source: dir, target, readonly: false }),
        );
      } else if (type === "bind") {
        if (!target) throw new DockerfileError("RUN --mount=type=bind needs target=");
        out.push(await this.bindMount(state, info, fields, target));
      } else {
        throw new DockerfileError(
          `RUN --mount=type=${type} is not supported by berth build (bind, cache and secret are)`,
        );
      }
    }
    return out;
  }

  /**
   * `--mount=type=bind,target=…[,source=…][,from=stage|image][,rw]`: a directory or file of
   * the context (only what .dockerignore keeps, copied so the step can never change the
   * context) or of a stage's or image's root filesystem, read-only unless `rw` (writes are
   * then made to a copy and dropped, as BuildKit does). Never part of the layer.
   */
  private async bindMount(
    state: StageState,
    info: InstructionInfo,
    fields: Map<string, string>,
    target: string,
  ): Promise<RunMount> {
    const source = fields.get("source") ?? fields.get("src") ?? "/";
    const rw = ["rw", "readwrite"].some((k) => fields.get(k) === "true");
    const from = fields.get("from");
    const temp = () => {
      const path = this.options.store.tempPath("bind");
      this.runTemps.push(path);
      return path;
    };
    if (from === undefined) {
      const matches = await this.context.match(source);
      const [m] = matches;
      if (!m || matches.length > 1)
        throw new DockerfileError(`RUN --mount=type=bind: source=${source} must name one path`);
      const entries = m.isDirectory
        ? await this.context.directoryEntries(m.path, "")
        : [await this.context.entry(m.path, "")];
      const digest = await filesDigest(
        entries,
        this.options.epoch,
        await this.options.store.statCache(),
      );
      return {
        kind: "bind",
        key: `bind:context:${source}:${target}:${rw}:${digest}`,
        resolve: async () => {
          const copy = temp();
          await copyEntries(entries, copy, m.isDirectory);
          return { source: copy, target, readonly: !rw };
        },
      };
    }
    const stage = await this.copySourceStage(state, info, from);
    return {
      kind: "bind",
      key: `bind:from:${stage.diffIds.join(",")}:${source}:${target}:${rw}`,
      resolve: async () => {
        const root = await stage.materialise(this.options.store);
        const host = await resolveInRoot(root, source, true);
        if (!(await lstat(host).catch(() => undefined)))
          throw new DockerfileError(`RUN --mount=type=bind: ${source} does not exist in ${from}`);
        if (!rw) return { source: host, target, readonly: true };
        const copy = temp();
        await cp(host, copy, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
        return { source: copy, target, readonly: false };
      },
    };
  }

  /** Creates mount points (and cache directories); returns what it created in the root. */
  private async prepareMounts(
    root: string,
    mounts: { mount: SandboxMount; kind: string }[],
  ): Promise<string[]> {
    const created: string[] = [];
    for (const { mount, kind } of mounts) {
      if (kind === "cache") await mkdir(mount.source, { recursive: true, mode: 0o755 });
      const target = await resolveInRoot(root, mount.target, true);
      const missing = await firstMissing(root, target);
      const isFile =
        kind === "secret" ||
        kind === "file" ||
        (kind === "bind" && !(await stat(mount.source)).isDirectory());
      if (isFile) {
        await mkdir(join(target, ".."), { recursive: true });
        if (!(await lstat(target).catch(() => undefined)))
          await writeFile(target, "", { mode: 0o400 });
      } else {
        await mkdir(target, { recursive: true });
      }
      if (missing) created.push(missing);
    }
    return created;
  }

  // ---- the image ----

  private async finish(state: StageState): Promise<BuiltImage> {
    const labels: Record<string, string> = { ...(state.runtime.Labels ?? {}) };
    // The source labels describe this build, so they replace what the base said, but not
    // what this stage's LABEL says.
    for (const [k, v] of Object.entries(this.options.sourceLabels ?? {}))
      if (!state.ownLabels.has(k)) labels[k] = v;
    Object.assign(labels, this.options.labels ?? {});
    labels["org.opencontainers.image.created"] = this.created;
    if (state.baseImage) {
      labels["org.opencontainers.image.base.name"] = state.baseImage.name;
      labels["org.opencontainers.image.base.digest"] = state.baseImage.digest;
    }
    state.runtime.Labels = labels;
    const config = state.imageConfig(this.created);
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDesc = await this.options.store.putBytes(configBytes, MediaType.OciConfig);
    const manifest = await this.options.store.putManifest(
      imageManifest(configDesc, state.layers),
      MediaType.OciManifest,
    );
    return { platform: formatPlatform(this.platform), manifest, config };
  }
}

function shortStep(step: string): string {
  return step.length > 120 ? `${step.slice(0, 117)}...` : step;
}

/** A RUN --mount: its kind, its part of the step's cache key, and the mount it makes. */
interface RunMount {
  readonly kind: "secret" | "cache" | "bind" | "file";
  readonly key: string;
  resolve(): Promise<SandboxMount>;
}

function fixedMount(kind: RunMount["kind"], key: string, mount: SandboxMount): RunMount {
  return { kind, key, resolve: async () => mount };
}

/** `type=bind,source=x,rw` → fields (a bare word is `true`), values expanded. */
function mountFields(text: string, expandValue: (v: string) => string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    fields.set(
      eq === -1 ? part : part.slice(0, eq),
      eq === -1 ? "true" : expandValue(part.slice(eq + 1)),
    );
  }
  return fields;
}

/** Writes context entries (paths relative to the copy's root) as real files under `dest`. */
async function copyEntries(
  entries: readonly LayerFile[],
  dest: string,
  isDirectory: boolean,
): Promise<void> {
  if (!isDirectory) {
    const [file] = entries as [LayerFile];
    await copyFile(file.source as string, dest);
    await chmod(dest, file.mode);
    return;
  }
  await mkdir(dest, { recursive: true, mode: 0o755 });
  for (const f of orderedEntries(entries)) {
    const host = join(dest, f.path);
    if (f.type === "directory") await mkdir(host, { recursive: true, mode: f.mode });
    else if (f.type === "symlink") await symlink(f.linkname ?? "", host);
    else if (f.type === "file" && f.source) {
      await copyFile(f.source, host);
      await chmod(host, f.mode);
    }
  }
}

/** A digest over everything a COPY puts in its layer: metadata and each file's content. */
async function filesDigest(
  files: readonly LayerFile[],
  epoch: number,
  contents: StatCache,
): Promise<string> {
  const hash = createHash("sha256");
  for (const f of orderedEntries(files)) {
    const mtime = Math.min(Math.floor(f.mtime), epoch);
    hash.update(
      JSON.stringify([f.path, f.type, f.mode, f.uid, f.gid, mtime, f.linkname ?? "", f.size ?? 0]),
    );
    if (f.type === "file" && f.source) hash.update(await contents.digest(f.source));
    hash.update("\n");
  }
  return hash.digest("hex");
}

/** The topmost path of `target` (under `root`) that does not exist yet, if any. */
async function firstMissing(root: string, target: string): Promise<string | undefined> {
  let missing: string | undefined;
  for (let p = target; p.length > root.length; p = join(p, "..")) {
    if (await lstat(p).catch(() => undefined)) break;
    missing = p;
  }
  return missing;
}

async function matchInRoot(
  root: string,
  sources: string[],
): Promise<{ path: string; host: string; isDirectory: boolean }[]> {
  const out: { path: string; host: string; isDirectory: boolean }[] = [];
  for (const s of sources) {
    const clean = cleanImagePath(s);
    const slash = clean.lastIndexOf("/");
    const last = clean.slice(slash + 1);
    const paths: string[] = [];
    if (/[*?[]/.test(last)) {
      const dir = slash === -1 ? "" : clean.slice(0, slash);
      const isMatch = picomatch(last, { dot: true });
      const names = await readdir(await resolveInRoot(root, dir, true)).catch(() => []);
      for (const n of names.sort()) if (isMatch(n)) paths.push(dir === "" ? n : `${dir}/${n}`);
    } else paths.push(clean);
    if (paths.length === 0) throw new DockerfileError(`COPY --from source "${s}" matches nothing`);
    for (const path of paths) {
      const host = await resolveInRoot(root, path, true);
      const info = await lstat(host).catch(() => undefined);
      if (!info) throw new DockerfileError(`COPY --from source "/${path}" does not exist`);
      out.push({ path, host, isDirectory: info.isDirectory() });
    }
  }
  return out;
}

/** FROM's image text as a transport: any `berth copy` transport; a bare name is a registry. */
export function transportOf(image: string) {
  if (/^(oci|oci-archive|docker-archive):/.test(image) || image.startsWith("docker://"))
    return parseTransportSpec(image);
  if (unknownTransportOf(image) !== undefined) return parseTransportSpec(image);
  return parseTransportSpec(`docker://${image}`);
}

function parsePlatformText(text: string): Platform {
  const [os = "", architecture = "", variant] = text.split("/");
  if (os === "" || architecture === "")
    throw new DockerfileError(`--platform=${text}: use os/arch[/variant]`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

export { DockerfileError };
