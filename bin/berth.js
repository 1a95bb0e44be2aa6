#!/usr/bin/env node
// The `berth` executable. Runs the compiled CLI from dist/ when it is present and current
// (npm install runs `prepare`, which builds it); otherwise runs the TypeScript sources
// through tsx so a fresh checkout works without a build step.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const compiled = join(root, "dist", "cli", "main.js");
if (existsSync(compiled) && !process.env.BERTH_FROM_SOURCE) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(root, "src", "cli", "main.ts")).href);
}
