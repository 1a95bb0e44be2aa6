// Runs one RUN step inside a stage's root filesystem, isolated from the host: util-linux
// `unshare` gives it new mount, PID, UTS and IPC namespaces (and a network namespace with
// `--network none`); inside, /dev is bind-mounted from the host, cache and secret mounts are
// bound in, and a second `unshare --root --wd --mount-proc --setuid --setgid` enters the root
// as the step's user with a fresh /proc. Mounts live only in the step's namespace, so the
// root directory on disk never sees them and they never reach a layer.
// Needs root (CI) or a host that allows the namespaces; when unshare is missing or refuses,
// the error names what is missing. Never runs anything on the host outside the sandbox.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";

export class SandboxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SandboxError";
  }
}

export interface SandboxMount {
  /** Host path bound in. */
  readonly source: string;
  /** Absolute path inside the root. */
  readonly target: string;
  readonly readonly: boolean;
}

export interface SandboxRun {
  readonly root: string;
  readonly argv: readonly string[];
  readonly env: readonly string[];
  readonly workdir: string;
  readonly uid: number;
  readonly gid: number;
  readonly network: "default" | "none";
  readonly mounts: readonly SandboxMount[];
  /** Receives the step's stdout and stderr as they come. */
  readonly onOutput?: (chunk: Buffer) => void;
}

export interface SandboxResult {
  readonly code: number;
  /** The last lines of output (for the error of a failed step). */
  readonly tail: string;
}

function findUnshare(): string {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    try {
      accessSync(`${dir}/unshare`, constants.X_OK);
      return `${dir}/unshare`;
    } catch {
      // next
    }
  }
  throw new SandboxError(
    "RUN needs util-linux's unshare (Debian package util-linux) to isolate the step; it was not found",
  );
}

function quote(word: string): string {
  return `'${word.replace(/'/g, "'\\''")}'`;
}

/** The host-side shell script that sets up mounts in the new namespace and enters the root. */
export function sandboxScript(run: SandboxRun, unshare: string): string {
  const root = run.root;
  const lines = ["set -e", `mount --rbind /dev ${quote(`${root}/dev`)}`];
  for (const m of run.mounts) {
    const target = quote(`${root}${m.target}`);
    lines.push(`mount --bind ${quote(m.source)} ${target}`);
    if (m.readonly) lines.push(`mount -o remount,bind,ro ${target}`);
  }
  const enter = [
    unshare,
    `--root=${root}`,
    `--wd=${run.workdir}`,
    "--mount-proc",
    "--setgid",
    String(run.gid),
    "--setuid",
    String(run.uid),
    "--",
    ...run.argv,
  ];
  lines.push(`exec ${enter.map(quote).join(" ")}`);
  return lines.join("\n");
}

export function runInSandbox(run: SandboxRun): Promise<SandboxResult> {
  const unshare = findUnshare();
  const args = ["--mount", "--uts", "--ipc", "--pid", "--fork"];
  if (run.network === "none") args.push("--net");
  args.push("--", "/bin/sh", "-c", sandboxScript(run, unshare));
  return new Promise((resolve, reject) => {
    const child = spawn(unshare, args, {
      env: Object.fromEntries(
        run.env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
      ),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let tail = "";
    const collect = (chunk: Buffer) => {
      run.onOutput?.(chunk);
      tail = (tail + chunk.toString("utf8")).slice(-4000);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.once("error", (err) =>
      reject(new SandboxError(`could not start unshare: ${err.message}`)),
    );
    child.once("close", (code, signal) => {
      if (/unshare failed: Operation not permitted|cannot open .*: Permission denied/.test(tail)) {
        reject(
          new SandboxError(
            "RUN could not create its namespaces (unshare: operation not permitted); run as root or on a host that allows unprivileged user namespaces",
          ),
        );
        return;
      }
      resolve({ code: code ?? (signal ? 128 : 1), tail: lastLines(tail, 20) });
    });
  });
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}
