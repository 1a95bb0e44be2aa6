// `berth admin`: operator commands for users, projects, members and robot accounts, against
// a running server (`--server URL`, signed in with BERTH_USERNAME/BERTH_PASSWORD or stored
// login credentials) or directly on a stopped server's data directory (`--data DIR`).
import type { Command } from "commander";
import { registerAuditCommand } from "./admin/audit.js";
import type { AdminBackend } from "./admin/backend.js";
import {
  registerMemberCommands,
  registerProjectCommands,
  registerRobotCommands,
  registerUserCommands,
} from "./admin/commands.js";
import { DirectBackend } from "./admin/direct.js";
import { registerEndpointCommands } from "./admin/endpoints.js";
import { registerFsckCommand } from "./admin/fsck.js";
import { registerGateCommands } from "./admin/gate.js";
import { registerJobCommands } from "./admin/jobs.js";
import {
  registerImmutableCommands,
  registerQuotaCommands,
  registerRetentionCommands,
} from "./admin/policy-commands.js";
import { RemoteBackend, remoteCredentials } from "./admin/remote.js";
import { registerReplicationCommands } from "./admin/replication.js";
import { registerScanCommands } from "./admin/scan.js";
import { registerTrashCommands } from "./admin/trash.js";
import { registerTrustCommands } from "./admin/trust.js";
import { registerWebhookCommands } from "./admin/webhooks.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption } from "./output.js";

interface AdminOptions {
  server?: string;
  data?: string;
  config?: string;
}

async function openBackend(command: Command): Promise<AdminBackend> {
  const opts = command.optsWithGlobals() as AdminOptions;
  const server = opts.server ?? (opts.data === undefined ? process.env.BERTH_SERVER : undefined);
  if (server && opts.data)
    throw new CliError("use either --server or --data, not both", ExitCode.Usage);
  if (server) {
    let url: URL;
    try {
      url = new URL(/^https?:\/\//.test(server) ? server : `http://${server}`);
    } catch {
      throw new CliError(`--server "${server}" is not a URL`, ExitCode.Usage);
    }
    return new RemoteBackend(url, await remoteCredentials(url, process.env));
  }
  const data = opts.data ?? process.env.BERTH_DATA;
  if (!data)
    throw new CliError(
      "say where: --server URL (running server) or --data DIR (stopped server)",
      ExitCode.Usage,
    );
  return DirectBackend.open(data, opts.config);
}

export function register(program: Command): void {
  const admin = program
    .command("admin")
    .description("manage users, projects, members and robot accounts")
    .option("--server <url>", "a running Berth server (env BERTH_SERVER)")
    .option("--data <dir>", "the data directory of a stopped server (env BERTH_DATA)")
    .option("-c, --config <file>", "server configuration file (with --data)")
    .addOption(formatOption());
  registerUserCommands(admin, openBackend);
  registerProjectCommands(admin, openBackend);
  registerMemberCommands(admin, openBackend);
  registerRobotCommands(admin, openBackend);
  registerTrustCommands(admin, openBackend);
  registerQuotaCommands(admin, openBackend);
  registerImmutableCommands(admin, openBackend);
  registerRetentionCommands(admin, openBackend);
  registerAuditCommand(admin, openBackend);
  registerJobCommands(admin);
  registerFsckCommand(admin);
  registerTrashCommands(admin);
  registerGateCommands(admin, openBackend);
  registerScanCommands(admin);
  registerWebhookCommands(admin);
  registerEndpointCommands(admin);
  registerReplicationCommands(admin);
}
