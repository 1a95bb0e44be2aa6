// `npm run docs:config`: rewrites the settings table of docs/configuration.md from the
// settings' declarations (src/config/reference.ts). `--check` only reports whether the file
// is current (exit 1 when not), for CI. Touches nothing but docs/configuration.md.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { withGeneratedSettings } from "../src/config/reference.js";

const file = join(dirname(fileURLToPath(import.meta.url)), "..", "docs", "configuration.md");
const current = readFileSync(file, "utf8");
const generated = withGeneratedSettings(current);
if (process.argv.includes("--check")) {
  if (generated !== current) {
    process.stderr.write("docs/configuration.md is out of date: run `npm run docs:config`\n");
    process.exit(1);
  }
} else if (generated !== current) {
  writeFileSync(file, generated);
  process.stdout.write("docs/configuration.md: settings table regenerated\n");
} else {
  process.stdout.write("docs/configuration.md: already current\n");
}
