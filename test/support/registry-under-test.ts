// The registry the interop, crash and concurrency tests talk to. Berth by default; with
// BERTH_TEST_TARGET=docker-registry the same tests run against the reference registry
// (CNCF distribution 2.8), which is how the tests themselves are validated: a test that fails
// against the reference for a reason other than a feature it lacks is a wrong test. Known and
// expected against distribution 2.8: no referrers API / OCI-Subject header; tag lists unsorted
// and `n`/`last` paging off; an upload whose in-flight chunk was cut by kill -9 is not resumable
// (its signed _state offset no longer matches the bytes on disk: BLOB_UPLOAD_INVALID);
// and, intermittently, the 20-client storm: distribution answers a HEAD for a blob another
// client is committing with 500, and skopeo gives up ("failed to read from destination").
// It must never pick a target silently: printRegistryLogOnFailure names it, with its log.
import { beforeEach, onTestFailed } from "vitest";
import { type BerthProcess, startBerth } from "./berth-process.js";
import { type ReferenceRegistry, startReferenceRegistry } from "./reference-registry.js";

export type TargetKind = "berth" | "docker-registry";

export interface RegistryUnderTest {
  kind: TargetKind;
  url: string;
  host: string;
  pid: number;
  dataDir: string;
  output(): string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
  removeData(): Promise<void>;
}

export function targetKind(): TargetKind {
  const value = process.env.BERTH_TEST_TARGET ?? "berth";
  if (value !== "berth" && value !== "docker-registry") {
    throw new Error(`BERTH_TEST_TARGET must be "berth" or "docker-registry", not "${value}"`);
  }
  return value;
}

function wrap(kind: TargetKind, server: BerthProcess | ReferenceRegistry): RegistryUnderTest {
  return {
    kind,
    url: server.url,
    host: server.host,
    pid: server.pid,
    dataDir: server.dataDir,
    output: server.output,
    stop: () => server.stop(),
    kill9: () => server.kill9(),
    removeData: () => server.removeData(),
  };
}

/** Starts the registry under test; `dataDir` restarts it on existing data (kept on stop). */
export async function startRegistryUnderTest(
  options: { dataDir?: string; keepData?: boolean } = {},
): Promise<RegistryUnderTest> {
  const kind = targetKind();
  if (kind === "docker-registry") return wrap(kind, await startReferenceRegistry(options));
  return wrap(kind, await startBerth(options));
}

/**
 * In a describe block: when a test fails, print the last lines of the registry's own log (and
 * which target it was), so a failure against Berth says what Berth said.
 */
export function printRegistryLogOnFailure(
  current: () => { output(): string; kind?: string } | undefined,
): void {
  let lastPrinted = "";
  beforeEach(() => {
    onTestFailed(() => {
      const server = current();
      const output = server?.output() ?? "";
      if (!server || output === lastPrinted) return;
      lastPrinted = output;
      process.stderr.write(
        `\n--- ${server.kind ?? "server"} log (tail) ---\n${output.slice(-6_000)}\n---\n`,
      );
    });
  });
}
