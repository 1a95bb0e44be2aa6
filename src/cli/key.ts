// `berth key generate`: a cosign-compatible key pair (cosign.key encrypted with the password
// from COSIGN_PASSWORD or a prompt, cosign.pub). The private key file is created 0600 and
// never overwritten; nothing secret is printed.
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { generateKeyPair, keyFingerprint, loadPublicKey } from "../sign/keys.js";
import { CliError, ExitCode } from "./errors.js";
import { formatOption, printJson } from "./output.js";
import { cliAction } from "./registry-flags.js";
import { keyPassword } from "./signing-keys.js";

interface GenerateFlags {
  outputKeyPrefix: string;
  format: string;
}

function writeNew(path: string, text: string, mode: number): void {
  try {
    writeFileSync(path, text, { mode, flag: "wx" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST")
      throw new CliError(
        `${path} exists; remove it or pick another --output-key-prefix`,
        ExitCode.Usage,
      );
    throw new CliError(`cannot write ${path} (${code ?? "error"})`, ExitCode.Usage);
  }
}

export function register(program: Command): void {
  const key = program.command("key").description("manage signing keys (cosign's formats)");
  key
    .command("generate")
    .description("generate an ECDSA P-256 key pair: PREFIX.key (encrypted) and PREFIX.pub")
    .option("--output-key-prefix <prefix>", "file name prefix", "cosign")
    .addOption(formatOption())
    .addHelpText(
      "after",
      '\nThe password comes from COSIGN_PASSWORD, else a prompt. The files are cosign\'s own\nformats: "cosign verify --key cosign.pub" reads what "berth sign" writes.\n\nExample:\n  COSIGN_PASSWORD=secret berth key generate --output-key-prefix ci',
    )
    .action(
      cliAction(async (flags: GenerateFlags) => {
        const password = await keyPassword("Enter password for private key: ", true);
        const pair = generateKeyPair(password);
        const keyPath = `${flags.outputKeyPrefix}.key`;
        const pubPath = `${flags.outputKeyPrefix}.pub`;
        writeNew(keyPath, pair.privateKeyPem, 0o600);
        writeNew(pubPath, pair.publicKeyPem, 0o644);
        const fingerprint = keyFingerprint(loadPublicKey(pair.publicKeyPem));
        if (flags.format === "json") {
          printJson({ privateKey: keyPath, publicKey: pubPath, fingerprint });
          return;
        }
        process.stderr.write(
          `Private key written to ${keyPath}\nPublic key written to ${pubPath}\n`,
        );
        process.stdout.write(`${fingerprint}\n`);
      }),
    );
}
