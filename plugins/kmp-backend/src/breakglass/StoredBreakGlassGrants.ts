import { RegisteredCluster } from '@kmp/plugin-kmp-common';
import { BreakGlassGrant, BreakGlassGrants } from '../broker/BrokerAuthorizer';
import { CallerIdentity } from '../broker/identity';
import { KubeRequestInfo } from '../broker/requestInfo';
import { BreakGlassStore } from './BreakGlassStore';

/**
 * The broker's view of break-glass: a person's approved, unexpired,
 * unrevoked grant on a cluster. A grant scoped to a namespace covers
 * requests in that namespace only (not cluster-scoped ones). Grants are
 * read from the database on every production write, so a revocation or an
 * expiry takes effect on the next request, on every backend instance.
 */
export class StoredBreakGlassGrants implements BreakGlassGrants {
  private constructor(private readonly store: BreakGlassStore) {}

  static create(options: { store: BreakGlassStore }) {
    return new StoredBreakGlassGrants(options.store);
  }

  async activeGrant(
    identity: CallerIdentity,
    cluster: RegisteredCluster,
    info?: KubeRequestInfo,
  ): Promise<BreakGlassGrant | undefined> {
    // Break-glass is for people; services change production through GitOps.
    if (identity.kind !== 'user') return undefined;
    const grants = await this.store.activeGrants(identity.ref, cluster.name);
    const grant = grants.find(
      g => !g.namespace || g.namespace === info?.namespace,
    );
    return grant ? { id: grant.id, expiresAt: grant.expiresAt! } : undefined;
  }
}
