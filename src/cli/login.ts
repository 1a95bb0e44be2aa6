// `berth login REGISTRY`: verify credentials against the registry (Basic or the Bearer token
// flow) first, then store them where docker and podman read them. Passwords come from --password-stdin, -p, or a hidden
// prompt on a TTY; they are never printed.
import type { Command } from "commander";
import { type Credential, storeCredential } from "../client/credentials.js";
import { RegistryError } from "../client/errors.js";
import { RegistryClient } from "../client/registry-client.js";
import { CliError, ExitCode } from "./errors.js";
import { prompt } from "./prompt.js";
import {
  addRegistryFlags,
  cliAction,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";

interface LoginFlags extends RegistryFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

export function register(program: Command): void {
  const login = program
    .command("login")
    .description("log in to a registry (stored where docker and podman look)")
    .argument("<registry>", "host[:port], e.g. registry.example.com or localhost:5000")
    .option("-u, --username <user>", "user name")
    .option("-p, --password <password>", "password (prefer --password-stdin)")
    .option("--password-stdin", "read the password from stdin")
    .addHelpText(
      "after",
      '\nExample:\n  echo "$TOKEN" | berth login registry.example.com -u ci-bot --password-stdin\n\nCredentials go to --authfile, else $REGISTRY_AUTH_FILE, else ~/.docker/config.json\n(its credsStore/credHelpers helper when configured).',
    );
  addRegistryFlags(login).action(cliAction(doLogin));
}

export function normalizeRegistry(text: string): string {
  const host = text.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  if (host === "") throw new CliError(`"${text}" is not a registry host`, ExitCode.Usage);
  return ["index.docker.io", "registry-1.docker.io"].includes(host) ? "docker.io" : host;
}

async function doLogin(registry: string, flags: LoginFlags): Promise<void> {
  const host = normalizeRegistry(registry);
  const credential = await askCredential(flags);
  const client = new RegistryClient(host, {
    ...registryOptionsFrom(flags),
    credentials: async () => credential,
  });
  try {
    await client.ping();
  } catch (err) {
    if (err instanceof RegistryError && err.kind === "unauthorized") {
      throw new CliError(
        `Login to ${host} failed: wrong username or password for ${credential.username}.`,
        ExitCode.Failure,
      );
    }
    throw err;
  } finally {
    await client.close();
  }
  const where = await storeCredential(host, credential, flags.authfile);
  process.stdout.write(`Login Succeeded (credentials for ${host} saved in ${where})\n`);
}

async function askCredential(flags: LoginFlags): Promise<Credential> {
  let username = flags.username;
  let password = flags.password;
  if (flags.passwordStdin) {
    if (password) throw new CliError("use either --password or --password-stdin", ExitCode.Usage);
    password = (await readAll(process.stdin)).replace(/\r?\n$/, "");
  }
  if (!username) {
    if (!process.stdin.isTTY)
      throw new CliError("give --username (stdin is not a terminal)", ExitCode.Usage);
    username = (await prompt("Username: ", false)).trim();
  }
  if (password === undefined) {
    if (!process.stdin.isTTY)
      throw new CliError("give --password-stdin (stdin is not a terminal)", ExitCode.Usage);
    password = (await prompt("Password: ", true)).trim();
  }
  if (!username || !password)
    throw new CliError("username and password must not be empty", ExitCode.Usage);
  return { username, password };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += chunk.toString();
  return text;
}
