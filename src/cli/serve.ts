// `berth serve`: loads the configuration (file, BERTH_* environment, flags), starts the
// registry server and runs until SIGTERM/SIGINT, then drains in-flight requests and exits 0.
// SIGHUP reloads the TLS certificate and key (tls.cert / tls.key) without dropping anything.
// A bad setting stops start-up with one sentence naming the key (exit 2).
// The server's modules (fastify, kysely, sqlite, pino) are imported only when `serve` runs,
// so other commands do not pay for loading them.
import type { Command } from "commander";
import { CliError, ExitCode } from "./errors.js";

interface ServeOptions {
  config?: string;
  listen?: string;
  data?: string;
}

export function register(program: Command): void {
  program
    .command("serve")
    .description("run the registry server (OCI distribution API on /v2/)")
    .option("-c, --config <file>", "YAML or JSON configuration file")
    .option("-l, --listen <addr>", "address to listen on, host:port (default 127.0.0.1:5000)")
    .option("-d, --data <dir>", "data directory for blobs and metadata (default ./data)")
    .action(async (options: ServeOptions) => {
      await serve(options);
    });
}

async function serve(options: ServeOptions): Promise<void> {
  const { ConfigError, loadConfig } = await import("../config/config.js");
  const { startServer } = await import("../server.js");
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({
      file: options.config ?? process.env.BERTH_CONFIG,
      overrides: { listen: options.listen, data: options.data },
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, ExitCode.Usage);
    throw err;
  }
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer(config, await multiTenancyFor(config));
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, ExitCode.Usage);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new CliError(
        `cannot listen on ${config.listen}: address already in use`,
        ExitCode.Failure,
      );
    }
    if (code === "EACCES") {
      throw new CliError(
        `cannot listen on ${config.listen} or use ${config.dataDir}: permission denied`,
      );
    }
    throw err;
  }
  // What the server says about itself goes to its log (one format per stream; the
  // "listening on" record is written by startServer).
  const log = running.context.logger;
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log.info({ signal }, `${signal} received, draining requests`);
      running.close().then(resolve, (err) => {
        log.error({ err }, "shutdown failed");
        process.exitCode = ExitCode.Failure;
        resolve();
      });
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    // SIGHUP: re-read tls.cert/tls.key; new handshakes use them, open connections stay.
    process.on("SIGHUP", () => {
      running.reloadTls().then(
        (reloaded) =>
          process.stderr.write(
            reloaded
              ? "berth: SIGHUP received, TLS certificate reloaded\n"
              : "berth: SIGHUP received, nothing to reload (TLS is off)\n",
          ),
        (err) =>
          process.stderr.write(
            `berth: SIGHUP received, TLS reload failed, keeping the old certificate: ${err instanceof Error ? err.message : err}\n`,
          ),
      );
    });
  });
}

/** Token auth, projects and the management API unless `auth.mode` is `none` (docs/auth.md). */
async function multiTenancyFor(config: import("../config/config.js").BerthConfig) {
  if (config.auth.mode === "none") return {};
  const { multiTenancy } = await import("../api/multi-tenancy.js");
  const { authSettingsFrom } = await import("../auth/system.js");
  let settings: ReturnType<typeof authSettingsFrom>;
  try {
    settings = {
      ...authSettingsFrom(config.auth, process.env),
      scheme: config.tls.cert ? "https" : "http",
    };
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err), ExitCode.Usage);
  }
  return multiTenancy({
    settings,
    adminPassword: process.env.BERTH_ADMIN_PASSWORD,
    version: "0.1.0",
  });
}
