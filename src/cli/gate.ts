// `berth gate IMG --policy gate.yaml [--dockerfile F] [--format table|json|sarif|junit|html]`:
// the quality gate CI runs before an image may ship. Parses the policy (src/policy/gate.ts),
// gathers only the facts its rules need (src/cli/gate-facts.ts), evaluates with the one gate
// evaluator the registry also uses, and renders the verdict. Exit 0 pass, 1 fail, 2 error
// (bad policy, unreadable image or Dockerfile, missing vulnerability database, …).
import type { Command } from "commander";
import { evaluateGate, GatePolicyError, parseGatePolicy } from "../policy/gate.js";
import { GATE_FORMATS, type GateFormat, renderGate } from "../report/gate.js";
import { resolveDbDir } from "../scan/osv/location.js";
import { fetchLine, updateFromRepository } from "./db.js";
import { CliError, ExitCode } from "./errors.js";
import { checkGateInputs, gatherCliFacts, policyDirOf, readInput } from "./gate-facts.js";
import {
  addRegistryFlags,
  asCliError,
  collect,
  type RegistryFlags,
  registryOptionsFrom,
} from "./registry-flags.js";
import { writeOutput } from "./scan.js";
import { ttyProgress } from "./scan-progress.js";

interface GateFlags extends RegistryFlags {
  policy?: string;
  dockerfile?: string;
  format: string;
  output?: string;
  platform?: string;
  dbDir?: string;
  dbRepository?: string;
  dbKey?: string[];
}

const HELP_AFTER = `
The policy file (YAML or JSON) may hold these rules; docs/gate.md explains each:
  maxSize, maxUncompressedSize, requiredLabels, baseImages, vulnerabilities, signedBy,
  lint, efficiency, forbiddenPackages, forbiddenLicenses, maxBaseAge, platforms
Only the facts the policy's rules need are gathered: without a vulnerabilities rule no
vulnerability database is needed; lint needs --dockerfile; signedBy a registry image.

Examples:
  berth gate 127.0.0.1:5000/team/app:1.0 --policy gate.yaml
  berth gate oci:./layout:1.0 --policy gate.yaml --dockerfile Dockerfile --format junit -o gate.xml
  berth gate docker-archive:app.tar --policy gate.yaml --format html -o gate.html

Exit codes: 0 the gate passed, 1 a rule failed, 2 error (bad policy, unreadable image, …).`;

export function register(program: Command): void {
  const command = program
    .command("gate")
    .description("check an image against a quality-gate policy (size, CVEs, base, labels, …)")
    .argument("<image>", "REF, docker://REF, oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE")
    .option("--policy <file>", "the gate policy (YAML or JSON)")
    .option("--dockerfile <file>", "the Dockerfile the image was built from (for the lint rule)")
    .option("-f, --format <format>", `output: ${GATE_FORMATS.join(", ")}`, "table")
    .option("-o, --output <file>", "write the report to a file")
    .option("--platform <os/arch>", "the image of a multi-platform index to check")
    .option("--db-dir <dir>", "vulnerability database directory (for the vulnerabilities rule)")
    .option(
      "--db-repository <ref>",
      "first fetch the database from this OCI artifact (berth db push), when its digest changed",
    )
    .option(
      "--db-key <file>",
      "with --db-repository: require a signature by this cosign public key (repeatable)",
      collect,
      [],
    )
    .addHelpText("after", HELP_AFTER);
  addRegistryFlags(command).action(async (image: string, flags: GateFlags) => {
    try {
      await gate(image, flags);
    } catch (err) {
      const cli = asCliError(err);
      // Every error is exit 2 here: 1 means "the gate failed" and nothing else.
      throw cli.exitCode === ExitCode.Findings ? cli : new CliError(cli.message, ExitCode.Usage);
    }
  });
}

async function gate(image: string, flags: GateFlags): Promise<void> {
  if (!(GATE_FORMATS as readonly string[]).includes(flags.format)) {
    throw new CliError(
      `unknown format "${flags.format}" (use ${GATE_FORMATS.join(", ")})`,
      ExitCode.Usage,
    );
  }
  if (!flags.policy) throw new CliError("give --policy FILE", ExitCode.Usage);
  let policy: ReturnType<typeof parseGatePolicy>;
  try {
    policy = parseGatePolicy(readInput(flags.policy, "the policy"), flags.policy);
  } catch (err) {
    if (err instanceof GatePolicyError) throw new CliError(err.message, ExitCode.Usage);
    throw err;
  }
  const options = {
    platform: flags.platform,
    transport: { registry: registryOptionsFrom(flags) },
    policyDir: policyDirOf(flags.policy),
    dockerfile: flags.dockerfile
      ? { path: flags.dockerfile, text: readInput(flags.dockerfile, "the Dockerfile") }
      : undefined,
    dbDir: policy.vulnerabilities ? resolveDbDir(flags.dbDir) : "",
  };
  checkGateInputs(image, policy, options);
  if (policy.vulnerabilities && flags.dbRepository) {
    const fetched = await updateFromRepository(
      flags.dbRepository,
      options.dbDir,
      flags,
      false,
      flags.dbKey,
    );
    process.stderr.write(`berth: ${fetchLine(fetched, options.dbDir)}`);
  }
  const progress = ttyProgress();
  let facts: Awaited<ReturnType<typeof gatherCliFacts>>;
  try {
    facts = await gatherCliFacts(image, policy, {
      ...options,
      onProgress: (m) => progress.update(m),
    });
  } finally {
    progress.done();
  }
  const verdict = evaluateGate(policy, facts, { now: new Date() });
  writeOutput(renderGate(verdict, flags.format as GateFormat), flags.output);
  if (verdict.verdict === "fail") process.exitCode = ExitCode.Findings;
}
