// An htpasswd file as a user source (drop-in for registry:2's `auth: htpasswd`): lines of
// `user:$2y$…` (bcrypt only, as distribution requires). Re-read when the file changes, so
// operators can edit it without restarting. Never logs hashes.
import { readFile, stat } from "node:fs/promises";

export function parseHtpasswd(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const hash = line.slice(colon + 1).trim();
    if (!/^\$2[aby]\$/.test(hash)) continue;
    users.set(line.slice(0, colon), hash);
  }
  return users;
}

export class HtpasswdFile {
  private users = new Map<string, string>();
  private mtimeMs = -1;

  constructor(readonly file: string) {}

  /** The bcrypt hash for `username`, or undefined when the file has no such user. */
  async hashFor(username: string): Promise<string | undefined> {
    await this.refresh();
    return this.users.get(username);
  }

  private async refresh(): Promise<void> {
    const info = await stat(this.file);
    if (info.mtimeMs === this.mtimeMs) return;
    this.users = parseHtpasswd(await readFile(this.file, "utf8"));
    this.mtimeMs = info.mtimeMs;
  }
}
