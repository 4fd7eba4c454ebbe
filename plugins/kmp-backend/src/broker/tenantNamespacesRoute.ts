import { NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import { kmpClusterAccessReadPermission } from '@kmp/plugin-kmp-common';
import { NamespaceDirectory } from '../personas/NamespaceDirectory';
import { ClusterStore } from '../registry/ClusterStore';
import { RouteGuard } from '../service/RouteGuard';
import { KmpDomainContext } from '../types';
import { BrokerConfig } from './config';
import { identify } from './identity';

/** The name of a group entity ref (`group:default/team-payments` → `team-payments`). */
function teamOf(ref: string): string | undefined {
  const match = /^group:(?:[^/]+\/)?(.+)$/i.exec(ref);
  return match?.[1];
}

/**
 * `GET /clusters/{name}/tenant-namespaces`: the caller's teams' tenant
 * namespaces on a cluster (labelled `kmp.backstage.io/team` with one of
 * the caller's groups). Developers may not list namespaces through the
 * broker; this is how the portal finds theirs, whatever their names, read
 * with the registry's credential and limited to the caller's own teams.
 */
export function mountTenantNamespacesRoute(
  ctx: KmpDomainContext,
  deps: {
    clusters: ClusterStore;
    namespaces: Pick<NamespaceDirectory, 'listTeamNamespaces'>;
    config: BrokerConfig;
  },
) {
  const { router, httpAuth, permissions, auditor, userInfo } = ctx;
  const guard = RouteGuard.create({ httpAuth, permissions, auditor });
  const gitops = new Set(deps.config.gitopsIdentities);

  router.get('/clusters/:name/tenant-namespaces', async (req, res) => {
    const { name } = req.params;
    const credentials = await guard.caller(req);
    await guard.authorizeCluster(
      credentials,
      kmpClusterAccessReadPermission,
      name,
    );
    const cluster = await deps.clusters.get(name);
    if (!cluster || cluster.lifecycleState === 'decommissioned') {
      throw new NotFoundError(`cluster '${name}' is not registered`);
    }
    const identity = await identify(credentials, userInfo, gitops);
    const teams = identity.groups
      .map(teamOf)
      .filter((t): t is string => Boolean(t));
    let items;
    try {
      items = await deps.namespaces.listTeamNamespaces(cluster, teams);
    } catch (error) {
      // An unreachable cluster is a state, not a crash.
      throw new ServiceUnavailableError(
        `the tenant namespaces of cluster '${name}' could not be read: ${
          (error as Error).message
        }`,
      );
    }
    res.json({ cluster: name, teams, items });
  });
}
