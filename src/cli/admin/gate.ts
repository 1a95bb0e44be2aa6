// `berth admin gate set|show|rm PROJECT`: attach a quality-gate policy file to a project, show
// it, detach it. The registry then refuses pushes whose push-decidable rules fail (see
// docs/gate.md). Works against a running server (--server) or a data directory (--data).
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { CliError, ExitCode } from "../errors.js";
import { printJson } from "../output.js";
import { type BackendFactory, done, wantsJson, withBackend } from "./commands.js";

function readPolicyFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      `cannot read the policy ${path}: ${code === "ENOENT" ? "no such file" : (code ?? "unreadable")}`,
      ExitCode.Usage,
    );
  }
}

export function registerGateCommands(admin: Command, factory: BackendFactory): void {
  const gate = admin.command("gate").description("manage projects' quality-gate policies");
  gate
    .command("set <project> <file>")
    .description("attach a gate policy file (YAML or JSON) to a project, replacing any other")
    .action(
      withBackend(factory, async (backend, command, project, file) => {
        const row = await backend.setGatePolicy(project, readPolicyFile(file));
        const notAtPush = row.rules.filter((r) => !row.pushRules.includes(r));
        const pullRules = row.pullRules ?? [];
        const elsewhere = notAtPush.filter((r) => !pullRules.includes(r));
        done(
          command,
          `gate policy of ${project} set: enforced at push: ${row.pushRules.join(", ") || "none"}` +
            (notAtPush.length ? `; not decidable at push: ${notAtPush.join(", ")}` : "") +
            (pullRules.length ? `; enforced at pull once scanned: ${pullRules.join(", ")}` : "") +
            (elsewhere.length ? `; left to berth gate in CI: ${elsewhere.join(", ")}` : ""),
          row,
        );
      }),
    );
  gate
    .command("show <project>")
    .description("print a project's gate policy")
    .action(
      withBackend(factory, async (backend, command, project) => {
        const row = await backend.getGatePolicy(project);
        if (!row) throw new CliError(`project "${project}" has no gate policy`, ExitCode.Findings);
        if (wantsJson(command)) return printJson(row);
        process.stdout.write(row.policy.endsWith("\n") ? row.policy : `${row.policy}\n`);
        process.stderr.write(`set by ${row.updatedBy} at ${row.updatedAt}\n`);
      }),
    );
  gate
    .command("rm <project>")
    .description("detach a project's gate policy")
    .action(
      withBackend(factory, async (backend, command, project) => {
        await backend.deleteGatePolicy(project);
        done(command, `gate policy of ${project} removed`, { project });
      }),
    );
}
