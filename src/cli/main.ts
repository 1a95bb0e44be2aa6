// Entry point of the `berth` command. Builds the commander program from one module per
// command (src/cli/<command>.ts, each exporting `register(program)`), runs it, and turns
// any error into one sentence on stderr and a stable exit code. Never prints a stack trace
// unless BERTH_DEBUG is set.
import { Command, CommanderError } from "commander";
import { CliError, ExitCode } from "./errors.js";

const program = new Command()
  .name("berth")
  .description(
    "Berth: a self-hosted OCI registry with Harbor-class management, and a CLI for images.",
  )
  .version("0.1.0")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();


function wantsJson(argv: string[]): boolean {
  const i = argv.indexOf("--format");
  return (i !== -1 && argv[i + 1] === "json") || argv.includes("--format=json");
}

async function main(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
      return;
    }
    const exitCode = err instanceof CliError ? err.exitCode : ExitCode.Failure;
    const message = err instanceof Error ? err.message : String(err);
    if (wantsJson(argv)) {
      process.stdout.write(`${JSON.stringify({ error: { message, exitCode } })}\n`);
    } else {
      process.stderr.write(`berth: ${message}\n`);
    }
    if (process.env.BERTH_DEBUG && err instanceof Error && err.stack) {
      process.stderr.write(`${err.stack}\n`);
    }
    process.exitCode = exitCode;
  }
}

await main(process.argv);
