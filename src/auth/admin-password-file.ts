// The file that keeps a generated administrator password for the operator: `DATA/admin-password`,
// mode 0600, written atomically (temp file + fsync + rename) BEFORE the account is created,
// so a crash never leaves an account whose password nobody has. Once the password has been
// changed the file is stale and is deleted (checked at every start). It must never be written
// with wider permissions, and its content is never logged.
import { randomBytes } from "node:crypto";
import { open, readFile, rename, unlink } from "node:fs/promises";
import path from "node:path";

export const ADMIN_PASSWORD_FILE = "admin-password";

export function adminPasswordFile(dataDir: string): string {
  return path.join(dataDir, ADMIN_PASSWORD_FILE);
}

export async function writeAdminPasswordFile(file: string, password: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(tmp, "wx", 0o600);
  try {
    await handle.writeFile(`${password}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  const dir = await open(path.dirname(file), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** The password kept in the file, or undefined when there is none. */
export async function readAdminPasswordFile(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

export async function removeAdminPasswordFile(file: string): Promise<void> {
  await unlink(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}
