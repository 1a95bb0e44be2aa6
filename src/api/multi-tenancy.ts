// Composition of multi-tenancy for `startServer`: one AuthSystem per process (users, tokens,
// projects, robots, audit), given to the registry as its AccessController and push
// admission, subscribed to registry events for the audit log, and serving the token
// endpoint and the management API as Fastify plugins. server.ts calls this; nothing else.
import type { Kysely } from "kysely";
import { adminPasswordFile } from "../auth/admin-password-file.js";
import { Management } from "../auth/management.js";
import {
  type AuthLog,
  type AuthSettings,
  type AuthSystem,
  createAuthSystem,
} from "../auth/system.js";
import { createEndpoints, registryClientFor } from "../endpoints/index.js";
import { RegistryScanning } from "../jobs/scan-jobs.js";
import { registerTrashPurge } from "../jobs/trash-purge.js";
import type { AuthTables } from "../meta/auth-schema.js";
import { gatePolicyStore } from "../meta/gate-policies.js";
import { GateAdmission } from "../policy/gate-admission.js";
import { ImmutableTags } from "../policy/immutable-tags.js";
import { PushAdmission } from "../policy/push-admission.js";
import { jobSchedules, registerRetentionJobs } from "../policy/retention-jobs.js";
import { PolicyService } from "../policy/service.js";
import { TrustAdmission, type TrustAuditSink } from "../policy/trust-admission.js";
import { VulnerabilityAdmission } from "../policy/vulnerability-admission.js";
import { createProxyCache } from "../proxy/index.js";
import { composeAdmissions } from "../registry/admission.js";
import { createReplication } from "../replication/index.js";
import type { ServerBase, StartServerOptions } from "../server.js";
import { webUi } from "../web-ui.js";
import { createWebhooks } from "../webhooks/index.js";
import { metaBrowseView } from "./browse-view.js";
import { managementApi } from "./index.js";
import { auditRegistryEvents, auditTrashPurge } from "./registry-audit.js";
import { MetaRegistryView } from "./registry-view.js";

export interface MultiTenancyOptions {
  readonly settings: AuthSettings;
  /** BERTH_ADMIN_PASSWORD: the first administrator's password (else a random one, shown once). */
  readonly adminPassword?: string;
  readonly version: string;
}

export function multiTenancy(
  options: MultiTenancyOptions,
): Required<Pick<StartServerOptions, "access" | "admission" | "plugins" | "pullThrough">> {
  let system:
    | Promise<{
        auth: AuthSystem;
        view: MetaRegistryView;
        management: Management;
        policies: PolicyService;
        trust: TrustAdmission;
        scanning: RegistryScanning;
        vulnerabilities: VulnerabilityAdmission;
        webhooks: Awaited<ReturnType<typeof createWebhooks>>;
        endpoints: Awaited<ReturnType<typeof createEndpoints>>;
        proxy: ReturnType<typeof createProxyCache>;
        replication: Awaited<ReturnType<typeof createReplication>>;
      }>
    | undefined;
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
        // A generated password reaches the operator on stderr whatever the log level, and
        // stays in DATA/admin-password (0600) until it is changed.
        bootstrap: {
          passwordFile: adminPasswordFile(base.config.dataDir),
          announce: (message) => process.stderr.write(message),
        },
      });
      auditRegistryEvents(base.events, auth.audit);
      const view = new MetaRegistryView(base.db, base);
      const management = new Management(auth.store, auth.audit, auth.authorizer);
      const policies = new PolicyService(
        base.db,
        management,
        auth.audit,
        view.deletionServices(),
        jobSchedules(base.jobs),
      );
      await registerRetentionJobs(base.jobs, base.db, policies);
      await registerTrashPurge(
        base.jobs,
        base.db,
        base.config.trash.keepMs,
        auditTrashPurge(auth.audit),
      );
      const trust = new TrustAdmission({
        db: base.db,
        store: base.store,
        events: base.events,
        audit: trustAudit(auth.audit),
      });
      const scanning = new RegistryScanning(base);
      await scanning.register();
      const vulnerabilities = new VulnerabilityAdmission(base.db, auth.audit);
      const webhooks = await createWebhooks(base);
      const endpoints = await createEndpoints(base);
      const proxy = createProxyCache(base, endpoints.service);
      const replication = await createReplication(base, {
        get: (idOrName) => endpoints.service.get(idOrName),
        connect: (endpoint) => registryClientFor(endpoint),
        addUsage: (usage) => endpoints.service.addUsage(usage),
      });
      return {
        proxy,
        auth,
        view,
        management,
        policies,
        trust,
        scanning,
        vulnerabilities,
        webhooks,
        endpoints,
        replication,
      };
    })();
    return system;
  };
  return {
    access: async (base) => (await ensure(base)).auth.controller,
    pullThrough: async (base) => (await ensure(base)).proxy.cache,
    admission: async (base) => {
      const { auth, view, trust, vulnerabilities, proxy } = await ensure(base);
      const push = new PushAdmission(
        auth.store,
        view.accounting,
        auth.authorizer,
        auth.audit,
        options.settings.autoCreateProjects,
      ).releaseOnCommit(base.events);
      // The quality gate first: a refused image must not reserve quota.
      return composeAdmissions(
        proxy.readOnly,
        new GateAdmission(base.db, base.store, auth.audit),
        push,
        new ImmutableTags(base.db),
        trust,
        vulnerabilities,
      );
    },
    plugins: [
      async (app, ctx) => {
        const {
          auth,
          view,
          management,
          policies,
          trust,
          scanning,
          vulnerabilities,
          webhooks,
          endpoints,
          proxy,
          replication,
        } = await ensure(ctx);
        proxy.cache.bind(ctx);
        app.addHook("onClose", async () => proxy.cache.close());
        // Shutdown (after in-flight requests drained, before the database closes): write the
        // batched pull audit records.
        app.addHook("onClose", async () => auth.audit.close());
        await app.register(auth.tokenRoutes);
        await app.register(managementApi, {
          auth,
          management,
          registry: view,
          policies,
          version: options.version,
          trust,
          jobs: ctx.jobs.queue,
          gatePolicies: gatePolicyStore(ctx.db),
          scanning: { db: ctx.db, scanning, admission: vulnerabilities },
          browse: metaBrowseView(ctx.db, (repository) => trust.reader(repository)),
          routes: [webhooks.routes, endpoints.routes, proxy.routes, replication.routes],
          trash: {
            db: ctx.db,
            keepMs: ctx.config.trash.keepMs,
            jobs: ctx.jobs.queue,
            evict: (repository, digest) => ctx.manifestCache.evict(repository, digest),
          },
        });
        await app.register(webUi);
      },
    ],
  };
}

/** Refused (or, in report mode, reported) pulls go to the audit log. */
function trustAudit(audit: AuthSystem["audit"]): TrustAuditSink {
  return {
    refused: (e) =>
      audit.note({
        actor: e.principal,
        action: "pull",
        resourceType: "artifact",
        resource: `${e.repository}@${e.digest}`,
        project: e.project,
        outcome: e.mode === "enforce" ? "failure" : "success",
        detail: { policy: "trust", mode: e.mode, reason: e.reason },
      }),
  };
}
