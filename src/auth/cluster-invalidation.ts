// Carries "account or permission state changed" between replicas: every
// Authorizer.invalidate() here is published on the database's cluster channel
// (src/meta/cluster.ts), and one published elsewhere runs invalidate() here, so the
// permission, account and decision caches (all following Authorizer.onInvalidate) of every
// replica drop their answers together. Each of those caches also bounds an entry's life to
// ACCOUNT_CACHE_MS, which covers the moments a replica cannot hear the channel.
// Never: re-publish an invalidation that came from another replica (they would echo forever).
import type { Cluster } from "../meta/index.js";
import type { Authorizer } from "./authorizer.js";

const TOPIC = "auth.invalidate";

export function shareInvalidations(
  authorizer: Authorizer,
  cluster: Cluster,
  onError: (err: unknown) => void = () => {},
): void {
  let fromCluster = false;
  authorizer.onInvalidate(() => {
    if (!fromCluster) cluster.publish({ topic: TOPIC, data: {} }).catch(onError);
  });
  const invalidateHere = () => {
    fromCluster = true;
    try {
      authorizer.invalidate();
    } finally {
      fromCluster = false;
    }
  };
  cluster.subscribe(TOPIC, invalidateHere);
  cluster.onReset(invalidateHere);
}
