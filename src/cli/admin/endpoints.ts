// `berth admin endpoint add|ls|show|update|rm|test` (docs/registries.md): the registry
// endpoints replication and proxy-cache projects connect to, against a running server
// (system administrators; the server seals passwords with its key, so there is no `--data`
// mode). A password is given with --creds USER:PASS or --username U --password-stdin, and is
// never printed back.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { EndpointView } from "../../endpoints/api.js";
import type { PingResult } from "../../endpoints/service.js";
import { ENDPOINT_TYPES } from "../../meta/endpoints.js";
import { CliError, ExitCode } from "../errors.js";
import { printJson, renderTable } from "../output.js";
import { adminJson, ManagementClient } from "./api-client.js";
import { readStdin } from "./commands.js";

interface EndpointFlags {
  url?: string;
  type?: string;
  creds?: string;
  username?: string;
  passwordStdin?: boolean;
  noCreds?: boolean;
  insecure?: boolean;
  secure?: boolean;
  caFile?: string;
  noCa?: boolean;
  description?: string;
  test?: boolean;
}

const base = "/api/v1/registries";
const one = (name: string) => `${base}/${encodeURIComponent(name)}`;
const open = (command: Command) => ManagementClient.open(command, "registry endpoints");

/** The API body for the flags given (only those given, for an update). */
async function bodyOf(opts: EndpointFlags): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {};
  if (opts.url !== undefined) body.url = opts.url;
  if (opts.type !== undefined) body.type = opts.type;
  if (opts.creds !== undefined && opts.username !== undefined)
    throw new CliError("use either --creds or --username, not both", ExitCode.Usage);
  if (opts.creds !== undefined) {
    const colon = opts.creds.indexOf(":");
    if (colon <= 0) throw new CliError("--creds is USER:PASSWORD", ExitCode.Usage);
    body.username = opts.creds.slice(0, colon);
    body.password = opts.creds.slice(colon + 1);
  }
  if (opts.username !== undefined) {
    body.username = opts.username;
    if (opts.passwordStdin) body.password = await readStdin();
  } else if (opts.passwordStdin) {
    throw new CliError("--password-stdin needs --username", ExitCode.Usage);
  }
  if (opts.noCreds) body.username = null;
  if (opts.insecure) body.insecure = true;
  if (opts.secure) body.insecure = false;
  if (opts.caFile !== undefined) {
    try {
      body.caCert = await readFile(opts.caFile, "utf8");
    } catch (err) {
      throw new CliError(`cannot read --ca-file ${opts.caFile}: ${(err as Error).message}`);
    }
  }
  if (opts.noCa) body.caCert = null;
  if (opts.description !== undefined) body.description = opts.description;
  return body;
}

function rows(list: EndpointView[]): string {
  return renderTable(
    ["NAME", "TYPE", "URL", "USERNAME", "TLS", "DESCRIPTION"],
    list.map((e) => [
      e.name,
      e.type,
      e.url,
      e.username ?? "",
      e.url.startsWith("http:")
        ? "plain http"
        : e.insecure
          ? "not verified"
          : e.caCert
            ? "own CA"
            : "verified",
      e.description,
    ]),
  );
}

function printPing(name: string, result: PingResult): void {
  process.stdout.write(
    result.ok
      ? `endpoint ${name} is reachable: ${result.message} (${result.durationMs} ms)\n`
      : `endpoint ${name} failed the connection test: ${result.message}\n`,
  );
}

function withConnectionFlags(command: Command): Command {
  return command
    .option("--type <type>", `kind of registry: ${ENDPOINT_TYPES.join(", ")}`)
    .option(
      "--creds <user:password>",
      "credentials (visible in the process list; see --password-stdin)",
    )
    .option("--username <user>", "username, with --password-stdin")
    .option("--password-stdin", "read the password from standard input")
    .option("--insecure", "do not verify the registry's TLS certificate")
    .option("--ca-file <pem>", "trust this CA certificate (PEM) for the registry")
    .option("--description <text>", "what the endpoint is for");
}

export function registerEndpointCommands(admin: Command): void {
  const endpoint = admin
    .command("endpoint")
    .description("remote registries for replication and proxy-cache projects (docs/registries.md)");

  withConnectionFlags(
    endpoint
      .command("add <name>")
      .description("add a registry endpoint (its password is stored encrypted)")
      .requiredOption("--url <url>", "https://host[:port] (or http:// for a plain-HTTP registry)"),
  )
    .option("--test", "run the connection test after adding it (exit 3 when it fails)")
    .addHelpText(
      "after",
      "\nExample:\n  berth admin --server http://127.0.0.1:5000 endpoint add hub --url https://registry-1.docker.io --type docker-hub",
    )
    .action(async (name: string, opts: EndpointFlags, command: Command) => {
      const body = { name, ...(await bodyOf(opts)) };
      const client = await open(command);
      const made = await client.call<EndpointView>("POST", base, body);
      const ping = opts.test
        ? await client.call<PingResult>("POST", `${one(made.name)}/ping`)
        : undefined;
      if (ping && !ping.ok) process.exitCode = ExitCode.Failure;
      if (adminJson(command)) return printJson(ping ? { ...made, test: ping } : made);
      process.stdout.write(`endpoint ${made.name} added (${made.url})\n`);
      if (ping) printPing(made.name, ping);
    });

  withConnectionFlags(
    endpoint
      .command("update <name>")
      .description("change an endpoint's URL, credentials, TLS options or description")
      .option("--url <url>", "new URL"),
  )
    .option("--rename <new-name>", "new name")
    .option("--no-creds", "remove the credentials")
    .option("--secure", "verify the TLS certificate again")
    .option("--no-ca", "stop trusting the endpoint's own CA certificate")
    .action(
      async (
        name: string,
        opts: Omit<EndpointFlags, "creds"> & {
          rename?: string;
          creds?: string | false;
          ca?: boolean;
        },
        command: Command,
      ) => {
        const flags: EndpointFlags = {
          ...opts,
          creds: typeof opts.creds === "string" ? opts.creds : undefined,
          noCreds: opts.creds === false,
          noCa: opts.ca === false,
        };
        const body = await bodyOf(flags);
        if (opts.rename !== undefined) body.name = opts.rename;
        if (Object.keys(body).length === 0)
          throw new CliError("say what to change (see --help)", ExitCode.Usage);
        const client = await open(command);
        const updated = await client.call<EndpointView>("PATCH", one(name), body);
        if (adminJson(command)) return printJson(updated);
        process.stdout.write(`endpoint ${updated.name} updated\n`);
      },
    );

  endpoint
    .command("ls")
    .description("list the registry endpoints")
    .action(async (_opts: unknown, command: Command) => {
      const list = await (await open(command)).call<EndpointView[]>("GET", base);
      if (adminJson(command)) return printJson(list);
      process.stdout.write(list.length ? `${rows(list)}\n` : "no registry endpoints\n");
    });

  endpoint
    .command("show <name>")
    .description("show one endpoint (never its password)")
    .action(async (name: string, _opts: unknown, command: Command) => {
      const e = await (await open(command)).call<EndpointView>("GET", one(name));
      if (adminJson(command)) return printJson(e);
      process.stdout.write(`${rows([e])}\n`);
    });

  endpoint
    .command("rm <name>")
    .description("delete an endpoint no proxy project or replication rule uses")
    .action(async (name: string, _opts: unknown, command: Command) => {
      await (await open(command)).call("DELETE", one(name));
      if (adminJson(command)) return printJson({ removed: name });
      process.stdout.write(`endpoint ${name} removed\n`);
    });

  endpoint
    .command("test <name>")
    .description("connection test: GET /v2/ with the endpoint's credentials (exit 3 on failure)")
    .action(async (name: string, _opts: unknown, command: Command) => {
      const result = await (await open(command)).call<PingResult>("POST", `${one(name)}/ping`);
      if (!result.ok) process.exitCode = ExitCode.Failure;
      if (adminJson(command)) return printJson(result);
      printPing(name, result);
    });
}
