// `berth build [-f Dockerfile] [-t REF]… [--output DEST]… CONTEXT`: builds a Dockerfile into
// an OCI image without a daemon (src/build/), then pushes it to each `-t` reference and writes
// it to each `--output` (any transport `berth copy` accepts). Progress goes to stderr (one line
// per step, BuildKit's plain style); stdout carries only the result (text or --format json).
// Secrets given with --secret are read by RUN steps only; they are never printed or logged.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { BuildError, build } from "../build/builder.js";
import { ContextError } from "../build/context.js";
import { BuildStore, defaultCacheDir } from "../build/store.js";
import { rootlessPlan, subordinateRange, userNamespaceRefused } from "../build/userns.js";
import { type Platform, parsePlatform } from "../oci/index.js";
import { copyImage } from "../transport/copy.js";
import { hostPlatform, openImageDestination } from "../transport/index.js";
import { parseTransportSpec } from "../transport/spec.js";
import { progressFor } from "./build-progress.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson } from "./output.js";
import {
  addRegistryFlags,
  cliAction,
  collect,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";

interface BuildFlags extends RegistryFlags {
  file?: string;
  tag: string[];
  output: string[];
  target?: string;
  buildArg: string[];
  label: string[];
  platform?: string;
  cache?: boolean;
  secret: string[];
  network: string;
  progress: string;
  cacheDir?: string;
  format: string;
}

export function register(program: Command): void {
  const command = program
    .command("build")
    .description("build a Dockerfile into an OCI image without a daemon (reproducible digests)")
    .argument("<context>", "build context directory (COPY sources are relative to it)")
    .option("-f, --file <Dockerfile>", "the Dockerfile (default: CONTEXT/Dockerfile)")
    .option(
      "-t, --tag <ref>",
      "push the image to this registry reference (repeatable)",
      collect,
      [],
    )
    .option(
      "-o, --output <dest>",
      "also write it to oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE[:NAME:TAG] or docker://REF (repeatable)",
      collect,
      [],
    )
    .option("--target <stage>", "build this stage (and what it needs) instead of the last")
    .option("--build-arg <name=value>", "value of an ARG (repeatable)", collect, [])
    .option("--label <key=value>", "add a label to the image (repeatable)", collect, [])
    .option("--platform <os/arch[,…]>", "platform(s) to build; several write an image index")
    .option("--no-cache", "run every step, ignoring the layer cache")
    .option(
      "--secret <id=ID,src=FILE|env=VAR>",
      "a secret RUN --mount=type=secret reads (repeatable)",
      collect,
      [],
    )
    .option("--network <mode>", "network of RUN steps: default or none", "default")
    .option(
      "--progress <mode>",
      "progress on stderr: auto (tty on a terminal, else plain), plain, tty (live view) or quiet",
      "auto",
    )
    .option("--cache-dir <dir>", "build store and layer cache (default: ~/.cache/berth/build)")
    .addOption(formatOption())
    .addHelpText(
      "after",
      `
Reproducible: SOURCE_DATE_EPOCH (else the context's last git commit time, else 0) is the
image's created time and clamps every file time, so the same Dockerfile and context give
the same digest on every run.

Examples:
  berth build -t localhost:5000/team/app:1.0 .
  berth build --target builder --build-arg VERSION=2 --output oci:./app-layout:dev .
  SOURCE_DATE_EPOCH=1700000000 berth build --format json --output docker-archive:app.tar:app:1.0 ./app`,
    );
  addRegistryFlags(command).action(cliAction(runBuild));
}

async function runBuild(contextArg: string, flags: BuildFlags): Promise<void> {
  if (process.getuid?.() !== 0 && process.env[USERNS_MARK] !== "1") {
    process.exitCode = await rerunInUserNamespace();
    return;
  }
  const context = resolve(contextArg);
  const dockerfilePath = resolve(flags.file ?? `${context}/Dockerfile`);
  let dockerfileText: string;
  try {
    dockerfileText = await readFile(dockerfilePath, "utf8");
  } catch {
    throw new CliError(`cannot read the Dockerfile ${dockerfilePath}`, ExitCode.Usage);
  }
  for (const t of flags.tag) parseTransportSpec(t.startsWith("docker://") ? t : `docker://${t}`);
  for (const o of flags.output) parseTransportSpec(o);
  if (flags.network !== "default" && flags.network !== "none" && flags.network !== "host") {
    throw new CliError(
      `--network must be default, host or none, not "${flags.network}"`,
      ExitCode.Usage,
    );
  }
  const registry = registryOptionsFrom(flags);
  const store = await BuildStore.open(flags.cacheDir ?? defaultCacheDir());
  if (!["auto", "plain", "tty", "quiet"].includes(flags.progress))
    throw new CliError(
      `--progress must be auto, plain, tty or quiet, not "${flags.progress}"`,
      ExitCode.Usage,
    );
  const progress = progressFor(flags.progress, flags.format === "json");
  let result: Awaited<ReturnType<typeof build>>;
  try {
    result = await build({
      dockerfileText,
      context,
      store,
      target: flags.target,
      buildArgs: pairs("--build-arg", flags.buildArg),
      labels: pairs("--label", flags.label),
      platforms: platforms(flags.platform),
      noCache: flags.cache === false,
      secrets: await secrets(flags.secret, store),
      network: flags.network === "none" ? "none" : "default",
      epoch: sourceDateEpoch(context),
      sourceLabels: gitSourceLabels(context),
      registry,
      onEvent: progress.handle,
    });
  } catch (err) {
    progress.finish();
    if (err instanceof BuildError)
      throw new CliError(err.message, err.usage ? ExitCode.Usage : ExitCode.Failure);
    if (err instanceof ContextError) throw new CliError(err.message, ExitCode.Usage);
    throw err;
  }
  const destinations = [
    ...flags.tag.map((t) => (t.startsWith("docker://") ? t : `docker://${t}`)),
    ...flags.output,
  ];
  const source = store.source({
    mediaType: result.manifest.mediaType,
    digest: result.manifest.digest,
    size: result.manifest.bytes.length,
  });
  for (const destination of destinations) {
    const dest = await openImageDestination(destination, { registry });
    try {
      await copyImage(source, dest, { all: result.images.length > 1 });
    } catch (err) {
      if (dest.abort) await dest.abort();
      else await dest.close().catch(() => undefined);
      throw err;
    }
    await dest.close();
    progress.line(`wrote ${destination}`);
  }
  progress.finish();
  const summary = {
    digest: result.manifest.digest,
    mediaType: result.manifest.mediaType,
    images: result.images.map((i) => ({ platform: i.platform, digest: i.manifest.digest })),
    destinations,
    stepsRun: result.stepsRun,
    stepsCached: result.stepsCached,
  };
  if (flags.format === "json") printJson(summary);
  else {
    const where =
      destinations.length > 0
        ? destinations.join(", ")
        : "the build store only (use -t or --output)";
    process.stdout.write(`Built ${result.manifest.digest} → ${where}\n`);
  }
}

function pairs(flag: string, values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq <= 0) {
      // `--build-arg NAME` takes the value from the environment, as docker does.
      const fromEnv = flag === "--build-arg" ? process.env[v] : undefined;
      if (fromEnv === undefined)
        throw new CliError(`${flag} must be NAME=VALUE, not "${v}"`, ExitCode.Usage);
      out[v] = fromEnv;
      continue;
    }
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

function platforms(text: string | undefined): Platform[] {
  if (!text) return [hostPlatform()];
  try {
    return text.split(",").map((p) => parsePlatform(p.trim()));
  } catch (err) {
    throw new CliError(`--platform: ${(err as Error).message}`, ExitCode.Usage);
  }
}

async function secrets(values: string[], store: BuildStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const v of values) {
    const fields = new Map(
      v.split(",").map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]),
    );
    const id = fields.get("id");
    if (!id)
      throw new CliError(`--secret needs id=ID (got "${v.replace(/=.*/, "=…")}")`, ExitCode.Usage);
    const src = fields.get("src") ?? fields.get("source");
    const env = fields.get("env");
    if (src) {
      await readFile(src).catch(() => {
        throw new CliError(`--secret id=${id}: cannot read ${src}`, ExitCode.Usage);
      });
      out.set(id, resolve(src));
    } else if (env) {
      const value = process.env[env];
      if (value === undefined)
        throw new CliError(
          `--secret id=${id}: environment variable ${env} is not set`,
          ExitCode.Usage,
        );
      const file = store.tempPath("secret");
      await writeFile(file, value, { mode: 0o600 });
      process.once("exit", () => rmSync(file, { force: true }));
      out.set(id, file);
    } else throw new CliError(`--secret id=${id} needs src=FILE or env=VAR`, ExitCode.Usage);
  }
  return out;
}

/** Set in the environment of the build re-run inside its user namespace. */
const USERNS_MARK = "BERTH_BUILD_USERNS";

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/**
 * Rootless: runs this same `berth build` again inside a user namespace where the user is root
 * (and its subordinate ids are mapped), passing the terminal through; returns its exit code.
 */
async function rerunInUserNamespace(): Promise<number> {
  const uid = process.getuid?.() ?? -1;
  const name = userInfo().username;
  const executable = (file: string) => existsSync(`/usr/bin/${file}`) || existsSync(`/bin/${file}`);
  if (!executable("unshare")) {
    throw new CliError(
      "rootless berth build needs util-linux's unshare (Debian package util-linux) to create a user namespace; it was not found",
      ExitCode.Failure,
    );
  }
  const plan = rootlessPlan({
    uidRange: subordinateRange(readText("/etc/subuid"), name, uid),
    gidRange: subordinateRange(readText("/etc/subgid"), name, uid),
    hasNewuidmap: executable("newuidmap"),
    hasNewgidmap: executable("newgidmap"),
  });
  if (plan.limited) process.stderr.write(`berth build: warning: ${plan.limited}\n`);
  const argv = [...plan.unshareArgs, "--", process.execPath, ...process.argv.slice(1)];
  return new Promise((resolveCode, reject) => {
    const child = spawn("unshare", argv, {
      env: { ...process.env, [USERNS_MARK]: "1" },
      stdio: ["inherit", "inherit", "pipe"],
    });
    let stderr = "";
    let started = false;
    child.stderr.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      if (!started && /^unshare: /m.test(text)) stderr += text;
      else process.stderr.write(chunk);
      started = true;
    });
    child.once("error", (err) => reject(new CliError(err.message, ExitCode.Failure)));
    child.once("close", (code) => {
      if (stderr !== "") reject(new CliError(userNamespaceRefused(stderr), ExitCode.Failure));
      else resolveCode(code ?? ExitCode.Failure);
    });
  });
}

/** SOURCE_DATE_EPOCH, else the context's last git commit time, else 0. */
function sourceDateEpoch(context: string): number {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env !== undefined && env !== "") {
    if (!/^\d+$/.test(env))
      throw new CliError(`SOURCE_DATE_EPOCH must be whole seconds, not "${env}"`, ExitCode.Usage);
    return Number(env);
  }
  if (!inGitCheckout(context)) return 0;
  try {
    const out = execFileSync("git", ["-C", context, "log", "-1", "--format=%ct"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const seconds = Number(out.toString().trim());
    if (Number.isSafeInteger(seconds) && seconds > 0) return seconds;
  } catch {
    // not a git checkout
  }
  return 0;
}

/** True when `dir` or a parent holds `.git` (a stat per level; spares two git spawns). */
function inGitCheckout(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, ".git"))) return true;
    if (dirname(d) === d) return false;
  }
}

function git(context: string, args: string[]): string | undefined {
  if (!inGitCheckout(context)) return undefined;
  try {
    const out = execFileSync("git", ["-C", context, ...args], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    return out.toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * org.opencontainers.image.source and .revision from the context's git checkout, where it is
 * one: the origin remote (credentials removed) and the HEAD commit.
 */
function gitSourceLabels(context: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const revision = git(context, ["rev-parse", "--verify", "HEAD"]);
  if (revision && /^[0-9a-f]{40,64}$/.test(revision))
    labels["org.opencontainers.image.revision"] = revision;
  const remote = git(context, ["remote", "get-url", "origin"]);
  const source = remote ? publicSourceUrl(remote) : undefined;
  if (source) labels["org.opencontainers.image.source"] = source;
  return labels;
}

/** A remote URL as it may be published: user and password removed. */
export function publicSourceUrl(remote: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote)) {
    try {
      const url = new URL(remote);
      url.username = "";
      url.password = "";
      return url.toString();
    } catch {
      return undefined;
    }
  }
  // scp-like `git@host:org/repo.git`: the user is not a secret, but keep only host and path.
  const scp = /^(?:[^@/]+@)?([^:/]+):(.+)$/.exec(remote);
  return scp ? `ssh://${scp[1]}/${(scp[2] as string).replace(/^\/+/, "")}` : undefined;
}
