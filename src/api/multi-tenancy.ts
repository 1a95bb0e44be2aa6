// Composition of multi-tenancy for `startServer`: one AuthSystem per process (users, tokens,
// projects, robots, audit), given to the registry as its AccessController and push
// admission, subscribed to registry events for the audit log, and serving the token
// endpoint and the management API as Fastify plugins. server.ts calls this; nothing else.
import type { Kysely } from "kysely";
import { Management } from "../auth/management.js";
import { auditRegistryEvents, PushAdmission } from "../auth/registry-hooks.js";
import {
  type AuthLog,
  type AuthSettings,
  type AuthSystem,
  createAuthSystem,
} from "../auth/system.js";
import type { AuthTables } from "../meta/auth-schema.js";
import { gatePolicyStore } from "../meta/gate-policies.js";
import { GateAdmission } from "../policy/gate-admission.js";
import { allAdmissions } from "../registry/admission.js";
import type { ServerBase, StartServerOptions } from "../server.js";
import { managementApi } from "./index.js";
import { MetaRegistryView } from "./registry-view.js";

export interface MultiTenancyOptions {
  readonly settings: AuthSettings;
  /** BERTH_ADMIN_PASSWORD: the first administrator's password (else a random one is logged once). */
  readonly adminPassword?: string;
  readonly version: string;
}

export function multiTenancy(
  options: MultiTenancyOptions,
): Required<Pick<StartServerOptions, "access" | "admission" | "plugins">> {
  let system: Promise<{ auth: AuthSystem; view: MetaRegistryView }> | undefined;
  const ensure = (base: ServerBase) => {
    system ??= (async () => {
      const log: AuthLog = {
        info: (msg) => base.logger.info(msg),
        // Flushed at once: the generated admin password must reach the operator right away.
        warn: (msg) => {
          base.logger.warn(msg);
          base.logger.flush();
        },
        error: (obj, msg) => base.logger.error(obj, msg),
      };
      const auth = await createAuthSystem({
        db: base.db as unknown as Kysely<AuthTables>,
        dataDir: base.config.dataDir,
        settings: options.settings,
        log,
        adminPassword: options.adminPassword,
      });
      auditRegistryEvents(base.events, auth.audit);
      return { auth, view: new MetaRegistryView(base.db, base) };
    })();
    return system;
  };
  return {
    access: async (base) => (await ensure(base)).auth.controller,
    admission: async (base) => {
      const { auth, view } = await ensure(base);
      const push = new PushAdmission(
        auth.store,
        view,
        auth.authorizer,
        auth.audit,
        options.settings.autoCreateProjects,
      ).releaseOnCommit(base.events);
      // The quality gate first: a refused image must not reserve quota.
      return allAdmissions(new GateAdmission(base.db, base.store, auth.audit), push);
    },
    plugins: [
      async (app, ctx) => {
        const { auth, view } = await ensure(ctx);
        await app.register(auth.tokenRoutes);
        await app.register(managementApi, {
          auth,
          management: new Management(auth.store, auth.audit, auth.authorizer),
          registry: view,
          version: options.version,
          gatePolicies: gatePolicyStore(ctx.db),
        });
      },
    ],
  };
}
