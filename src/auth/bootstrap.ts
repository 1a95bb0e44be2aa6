// First-start setup of the multi-tenancy data: the `admin` system administrator (password
// from BERTH_ADMIN_PASSWORD, else a random one — there is no default password) and the public
// `library` project. Idempotent: does nothing while a system administrator exists (so
// `berth admin --data` may create users before the first start).
//
// A generated password is shown to the operator ONCE through `announce` (the server passes
// stderr, so it appears whatever the log level) and kept in a 0600 file (DATA/admin-password)
// until it is changed; it never goes into the log, which only says where to find it.
import {
  readAdminPasswordFile,
  removeAdminPasswordFile,
  writeAdminPasswordFile,
} from "./admin-password-file.js";
import { hashPassword, newSecret, passwordProblem, verifyPassword } from "./passwords.js";
import { DEFAULT_PROJECT } from "./permissions.js";
import type { AuthStore } from "./store.js";

export interface BootstrapLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface BootstrapOptions {
  /** Where a generated password is kept (mode 0600) until it is changed. */
  readonly passwordFile?: string;
  /** Shows the generated password to the operator once, whatever the log level (default stderr). */
  readonly announce?: (message: string) => void;
}

export async function bootstrapAuth(
  store: AuthStore,
  log: BootstrapLog,
  adminPassword: string | undefined,
  options: BootstrapOptions = {},
): Promise<void> {
  const { passwordFile, announce } = options;
  if ((await store.countAdmins()) === 0 && !(await store.findUser("admin"))) {
    const given = adminPassword !== undefined && adminPassword !== "";
    if (given) {
      const problem = passwordProblem(adminPassword);
      if (problem) throw new Error(`BERTH_ADMIN_PASSWORD is not acceptable: ${problem}`);
    }
    const password = given ? adminPassword : newSecret().slice(0, 24);
    if (!given && passwordFile) await writeAdminPasswordFile(passwordFile, password);
    const hash = await hashPassword(password);
    const created = await unlessCreatedElsewhere(
      () => store.createUser({ username: "admin", passwordHash: hash, isAdmin: true }),
      async () => (await store.findUser("admin")) !== undefined,
    );
    if (!created) {
      // Another replica sharing the database created it first: its password stands.
      log.info("system administrator 'admin' was created by another replica");
      if (passwordFile) await forgetChangedPassword(store, passwordFile, log);
    } else if (given) {
      log.info("created system administrator 'admin' with the password from BERTH_ADMIN_PASSWORD");
    } else {
      const kept = passwordFile
        ? ` and kept in ${passwordFile} (mode 0600) until it is changed`
        : "";
      const change = "change it with `berth admin user passwd admin --password-stdin`";
      (announce ?? ((message: string) => process.stderr.write(message)))(
        `berth: created system administrator 'admin' with the generated password: ${password}\n` +
          `berth: this is shown only once${kept}; ${change}\n`,
      );
      log.warn(
        `created system administrator 'admin' with a generated password (printed on stderr${kept})`,
      );
    }
  } else if (passwordFile) {
    await forgetChangedPassword(store, passwordFile, log);
  }
  if (!(await store.findProject(DEFAULT_PROJECT))) {
    const created = await unlessCreatedElsewhere(
      () => store.createProject({ name: DEFAULT_PROJECT, isPublic: true, quotaBytes: null }),
      async () => (await store.findProject(DEFAULT_PROJECT)) !== undefined,
    );
    if (created) log.info(`created public project '${DEFAULT_PROJECT}'`);
  }
}

/**
 * Runs `create`; when it fails because another replica sharing the database created the same
 * row meanwhile (`exists` is then true), returns false instead of failing the start-up.
 */
async function unlessCreatedElsewhere(
  create: () => Promise<unknown>,
  exists: () => Promise<boolean>,
): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (err) {
    if (await exists()) return false;
    throw err;
  }
}

/** Deletes the kept generated password once it no longer opens the `admin` account. */
async function forgetChangedPassword(
  store: AuthStore,
  passwordFile: string,
  log: BootstrapLog,
): Promise<void> {
  const kept = await readAdminPasswordFile(passwordFile);
  if (kept === undefined) return;
  if (await verifyPassword(await store.passwordHashOf("admin"), kept)) return;
  await removeAdminPasswordFile(passwordFile);
  log.info(`removed ${passwordFile}: the generated administrator password was changed`);
}
