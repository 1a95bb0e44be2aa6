// Asks the AccessController before a registry operation and turns a refusal into the spec's
// error: 401 UNAUTHORIZED with the controller's `WWW-Authenticate` challenge, 403 DENIED, or
// 429 TOOMANYREQUESTS with `Retry-After` (a locked login).
// Routes never decide access themselves.
import type { AccessTarget, Principal, RepositoryAction } from "../auth/access.js";
import type { RegistryCall, RegistryContext } from "./context.js";
import { RegistryError } from "./errors.js";

export async function authorize(
  ctx: RegistryContext,
  call: RegistryCall,
  target: AccessTarget,
): Promise<Principal> {
  const decision = await ctx.access.check({
    headers: call.req.headers,
    remoteAddress: call.remoteAddress,
    target,
  });
  if (decision.allowed) return decision.principal;
  const detail = accessDetail(target);
  if (decision.status === 429) {
    throw new RegistryError("TOOMANYREQUESTS", decision.message, {
      headers: { "Retry-After": String(decision.retryAfterSeconds) },
    });
  }
  if (decision.status === 401) {
    const headers: Record<string, string> = {};
    if (decision.challenge) headers["WWW-Authenticate"] = decision.challenge;
    throw new RegistryError("UNAUTHORIZED", decision.message || "authentication required", {
      detail,
      headers,
    });
  }
  throw new RegistryError(
    "DENIED",
    decision.message || "requested access to the resource is denied",
    {
      detail,
    },
  );
}

export function repositoryTarget(repository: string, ...actions: RepositoryAction[]): AccessTarget {
  return { kind: "repository", repository, actions };
}

function accessDetail(target: AccessTarget): unknown {
  switch (target.kind) {
    case "registry":
      return undefined;
    case "catalog":
      return [{ Type: "registry", Name: "catalog", Action: "*" }];
    case "repository":
      return target.actions.map((Action) => ({
        Type: "repository",
        Name: target.repository,
        Action,
      }));
  }
}
