// Entry point of the `berth` command. Builds the commander program from one module per
// command (src/cli/<command>.ts, each exporting `register(program)`), runs it, and turns
// any error into one sentence on stderr and a stable exit code. Never prints a stack trace
// unless BERTH_DEBUG is set.
import { Command, CommanderError } from "commander";
import { register as registerAdmin } from "./admin.js";
import { register as registerAnalyze } from "./analyze.js";
import { register as registerCatalog } from "./catalog.js";
import { register as registerConfig } from "./config.js";
import { register as registerCopy } from "./copy.js";
import { register as registerDb } from "./db.js";
import { register as registerDelete } from "./delete.js";
import { register as registerDigest } from "./digest.js";
import { CliError, ExitCode } from "./errors.js";
import { register as registerImageIndex } from "./image-index.js";
import { register as registerInspect } from "./inspect.js";
import { register as registerLint } from "./lint.js";
import { register as registerLoad } from "./load.js";
import { register as registerLogin } from "./login.js";
import { register as registerLogout } from "./logout.js";
import { register as registerLs } from "./ls.js";
import { register as registerManifest } from "./manifest.js";
import { register as registerMirror } from "./mirror.js";
import { register as registerReferrers } from "./referrers.js";
import { register as registerSave } from "./save.js";
import { register as registerSbom } from "./sbom.js";
import { register as registerScan } from "./scan.js";
import { register as registerServe } from "./serve.js";
import { register as registerTag } from "./tag.js";

const program = new Command()
  .name("berth")
  .description(
    "Berth: a self-hosted OCI registry with Harbor-class management, and a CLI for images.",
  )
  .version("0.1.0")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

registerLint(program);

registerServe(program);
registerAnalyze(program);
registerScan(program);
registerSbom(program);
registerDb(program);
registerAdmin(program);
registerCopy(program);
registerInspect(program);
registerManifest(program);
registerConfig(program);
registerDigest(program);
registerLs(program);
registerCatalog(program);
registerTag(program);
registerDelete(program);
registerReferrers(program);
registerImageIndex(program);
registerSave(program);
registerLoad(program);
registerMirror(program);
registerLogin(program);
registerLogout(program);

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
