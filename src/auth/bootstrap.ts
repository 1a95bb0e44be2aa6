// First-start setup of the multi-tenancy data: the `admin` system administrator (password
// from BERTH_ADMIN_PASSWORD, else a random one printed ONCE to the log — there is no default
// password) and the public `library` project. Idempotent: does nothing while a system administrator exists
// (so `berth admin --data` may create users before the first start).
import { hashPassword, newSecret, passwordProblem } from "./passwords.js";
import { DEFAULT_PROJECT } from "./permissions.js";
import type { AuthStore } from "./store.js";

export interface BootstrapLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export async function bootstrapAuth(
  store: AuthStore,
  log: BootstrapLog,
  adminPassword: string | undefined,
): Promise<void> {
  if ((await store.countAdmins()) === 0 && !(await store.findUser("admin"))) {
    const given = adminPassword !== undefined && adminPassword !== "";
    if (given) {
      const problem = passwordProblem(adminPassword);
      if (problem) throw new Error(`BERTH_ADMIN_PASSWORD is not acceptable: ${problem}`);
    }
    const password = given ? adminPassword : newSecret().slice(0, 24);
    await store.createUser({
      username: "admin",
      passwordHash: await hashPassword(password),
      isAdmin: true,
    });
    if (given) {
      log.info("created system administrator 'admin' with the password from BERTH_ADMIN_PASSWORD");
    } else {
      log.warn(
        `created system administrator 'admin' with the generated password: ${password} ` +
          "(shown only this once; change it with `berth admin user passwd admin`)",
      );
    }
  }
  if (!(await store.findProject(DEFAULT_PROJECT))) {
    await store.createProject({ name: DEFAULT_PROJECT, isPublic: true, quotaBytes: null });
    log.info(`created public project '${DEFAULT_PROJECT}'`);
  }
}
