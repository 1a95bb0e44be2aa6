// What management routes that change state share: the system-administrator check of a
// request's caller, and an audit recorder bound to one resource type (who did what to which
// resource, from where). Used by the registry-endpoint, replication and webhook routes.
// Never: put a secret into an audit record (callers pass details without them).
import type { FastifyRequest } from "fastify";
import { type Caller, requireAdmin } from "./authn.js";
import { type ApiContext, callerOf } from "./context.js";

/** The request's caller, if a system administrator (401/403 otherwise). */
export async function adminCaller(request: FastifyRequest, ctx: ApiContext): Promise<Caller> {
  const caller = await callerOf(request, ctx);
  requireAdmin(caller);
  return caller;
}

export interface AuditScope {
  /** The project the resource belongs to (project-scoped resources). */
  readonly project?: string;
  readonly detail?: Record<string, unknown>;
}

export type AuditAction = (
  caller: Caller,
  action: string,
  resource: string,
  scope?: AuditScope,
) => Promise<void>;

/** Records audit entries of `resourceType` in the API's audit log. */
export function auditorOf(ctx: ApiContext, resourceType: string): AuditAction {
  return (caller, action, resource, scope = {}) =>
    ctx.auth.audit.record({
      actor: caller.principal,
      action,
      resourceType,
      resource,
      remoteAddress: caller.remoteAddress,
      ...(scope.project !== undefined ? { project: scope.project } : {}),
      ...(scope.detail ? { detail: scope.detail } : {}),
    });
}
