// The server's vulnerability database updater (`scan.dbRepository`): at start and then every
// `scan.dbUpdateInterval`, fetch the database artifact pushed with `berth db push` into
// `scan.dbDir`, with the same fetch/verify/install code the CLI runs (src/scan/db-artifact.ts):
// a HEAD per check, a download only when the digest changed, the old database kept whenever
// the new one fails verification. Readers (scans) pick the new file up by itself (the
// install renames a new inode into place).
//
// Why a per-process timer and not a cron row of the shared scheduler (scheduler.ts): the
// database directory is local state of each replica, while a shared schedule fires once
// across all replicas — only one of them would ever be updated. Each process updating its
// own copy costs one HEAD per interval.
// With `scan.dbRepositoryKey` a database without a signature by that key is refused (the
// current one stays); `scan.dbRepositoryCaFile` / `scan.dbRepositoryInsecure` are the TLS
// options of its registry.
// Never: throw out of the timer (a failed check is logged and retried at the next interval),
// log credentials, or run two checks at once in one process.
import type { KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { BerthConfig } from "../config/config.js";
import { parseImageReference } from "../oci/index.js";
import { ageOf, type FetchResult, fetchDatabase } from "../scan/db-artifact.js";
import { loadPublicKey } from "../sign/keys.js";
import { registryClient } from "../transport/registry.js";

export interface VulnDbUpdater {
  /** Runs one check now (the timer's own checks are skipped while one runs). */
  check(): Promise<FetchResult | undefined>;
  stop(): void;
}

export interface VulnDbUpdaterOptions {
  /** Called after a new database was installed. */
  readonly onUpdated?: (result: FetchResult) => void;
}

/** Starts the updater when `scan.dbRepository` is set; undefined otherwise. */
export function startVulnDbUpdater(
  scan: BerthConfig["scan"],
  logger: Logger,
  options: VulnDbUpdaterOptions = {},
): VulnDbUpdater | undefined {
  if (!scan.dbRepository) return undefined;
  const ref = parseImageReference(scan.dbRepository);
  const trustedKeys = scan.dbRepositoryKey ? [readTrustedKey(scan.dbRepositoryKey)] : undefined;
  const log = logger.child({ component: "vulndb-updater" });
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<FetchResult | undefined> | undefined;

  const once = async (): Promise<FetchResult | undefined> => {
    const client = registryClient(ref.registry, {
      authFile: scan.dbRepositoryAuthFile || undefined,
      ...(scan.dbRepositoryCaFile ? { caFiles: [scan.dbRepositoryCaFile] } : {}),
      ...(scan.dbRepositoryInsecure ? { insecure: true } : {}),
    });
    try {
      const result = await fetchDatabase(client, ref, scan.dbDir, { trustedKeys });
      const fields = {
        reference: result.reference,
        digest: result.digest,
        records: result.summary.totalRecords,
        importedAt: result.summary.importedAt,
        dir: scan.dbDir,
      };
      if (result.outcome === "updated") {
        log.info(
          fields,
          `vulnerability database updated from ${result.reference} (data ${ageOf(result.summary.importedAt)} old)`,
        );
        options.onUpdated?.(result);
      } else {
        log.debug(
          fields,
          `vulnerability database is current (data ${ageOf(result.summary.importedAt)} old)`,
        );
      }
      return result;
    } catch (err) {
      log.warn(
        { reference: scan.dbRepository, err: (err as Error).message },
        "vulnerability database update failed; the current database stays in use",
      );
      return undefined;
    } finally {
      await client.close();
    }
  };

  const check = (): Promise<FetchResult | undefined> => {
    running ??= once().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = () => {
    if (stopped || scan.dbUpdateIntervalMs <= 0) return;
    timer = setTimeout(() => {
      void check().finally(schedule);
    }, scan.dbUpdateIntervalMs);
    timer.unref();
  };

  void check().finally(schedule);
  return {
    check,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** The configured public key, or an error naming the setting (at start, not at each check). */
function readTrustedKey(path: string): KeyObject {
  try {
    return loadPublicKey(readFileSync(path, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      `scan.dbRepositoryKey: cannot use ${path} as a public key: ${code === "ENOENT" ? "no such file" : (err as Error).message}`,
    );
  }
}
