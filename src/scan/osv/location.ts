// Where the vulnerability database lives: `--db-dir`, else BERTH_DB_DIR, else
// `${XDG_CACHE_HOME:-~/.cache}/berth/db`. Pure apart from reading the environment.
import { homedir } from "node:os";
import { join } from "node:path";

export const DB_FILE = "osv.sqlite";

export function resolveDbDir(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (option) return option;
  if (env.BERTH_DB_DIR) return env.BERTH_DB_DIR;
  const cache = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cache, "berth", "db");
}

export function dbFilePath(dir: string): string {
  return join(dir, DB_FILE);
}
