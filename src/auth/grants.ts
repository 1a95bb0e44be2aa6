// The token endpoint's core: given the scopes a client asked for and who it is, grant the
// intersection of what was asked and what the account may do. Unknown resource types and
// actions are dropped (never granted); `*` means every registry action the account has.
import type { Account } from "./accounts.js";
import type { Authorizer } from "./authorizer.js";
import { isRegistryAction, REGISTRY_ACTIONS } from "./permissions.js";
import type { Scope } from "./scope.js";

export async function grantScopes(
  requested: readonly Scope[],
  account: Account | undefined,
  authorizer: Authorizer,
): Promise<Scope[]> {
  const granted: Scope[] = [];
  for (const scope of requested) {
    if (scope.type === "registry" && scope.name === "catalog") {
      // Any signed-in account may ask for the catalog; the registry filters it per repository.
      if (account && scope.actions.includes("*")) granted.push({ ...scope, actions: ["*"] });
      continue;
    }
    if (scope.type !== "repository") continue;
    const wanted = scope.actions.includes("*")
      ? [...REGISTRY_ACTIONS]
      : scope.actions.filter(isRegistryAction);
    const allowed = await authorizer.repositoryActions(account, scope.name);
    const actions = wanted.filter((a) => allowed.includes(a));
    if (actions.length > 0) granted.push({ type: "repository", name: scope.name, actions });
  }
  return granted;
}
