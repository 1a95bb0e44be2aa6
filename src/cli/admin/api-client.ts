// A signed-in client of a running server's management API for `berth admin` commands that
// need one (`--server URL` or BERTH_SERVER; credentials as remote.ts finds them). Turns API
// errors into one CliError sentence (exit 2 for a 400, 1 otherwise). Never prints the password.
import type { Command } from "commander";
import { CliError, ExitCode } from "../errors.js";
import { remoteCredentials } from "./remote.js";

export class ManagementClient {
  private constructor(
    readonly server: URL,
    private readonly authorization: string,
  ) {}

  /** `what` names the feature for the "needs a running server" message. */
  static async open(command: Command, what: string): Promise<ManagementClient> {
    const opts = command.optsWithGlobals() as { server?: string; data?: string };
    if (opts.data)
      throw new CliError(`${what} needs a running server: use --server URL`, ExitCode.Usage);
    const server = opts.server ?? process.env.BERTH_SERVER;
    if (!server) throw new CliError("say where: --server URL (a running server)", ExitCode.Usage);
    let url: URL;
    try {
      url = new URL(/^https?:\/\//.test(server) ? server : `http://${server}`);
    } catch {
      throw new CliError(`--server "${server}" is not a URL`, ExitCode.Usage);
    }
    const c = await remoteCredentials(url, process.env);
    return new ManagementClient(
      url,
      `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`,
    );
  }

  /** Calls `/api/v1${path}`; the parsed JSON answer. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(`/api/v1${path}`, this.server), {
        method,
        headers: {
          authorization: this.authorization,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new CliError(`cannot reach ${this.server.origin}: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = `${method} ${path} failed with HTTP ${res.status}`;
      try {
        const parsed = JSON.parse(text) as { errors?: { message?: string }[] };
        if (parsed.errors?.[0]?.message) message = parsed.errors[0].message;
      } catch {
        // keep the generic message
      }
      throw new CliError(message, res.status === 400 ? ExitCode.Usage : ExitCode.Failure);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
