import { Connectivity } from '../model/cluster';
import { Environment } from '../model/common';
import { Persona } from '../model/persona';
import type { KmpAccessCheck } from './access';
import { PERSONAS_BY_PRIVILEGE } from './matrix';
import { KMP_RULES } from './rules';

/**
 * Which clusters of the environment groups a persona holds it sees
 * (PERSONAS.md, "Scope — which clusters"):
 *
 * - `environment-groups`: every cluster of those groups (ops, platform
 *   engineers);
 * - `team-tenants`: the clusters of those groups where the caller's team
 *   has a tenant namespace (developers). The registry's refresh loop
 *   records the namespaces labelled `kmp.backstage.io/team` per cluster; a
 *   cluster it has not observed has no known tenants;
 * - `edge-clusters`: only their edge clusters (edge operators).
 *
 * @public
 */
export type KmpClusterScope =
  | 'environment-groups'
  | 'team-tenants'
  | 'edge-clusters';

/** @public */
export const KMP_CLUSTER_SCOPE: Record<Persona, KmpClusterScope> = {
  developer: 'team-tenants',
  ops: 'environment-groups',
  'platform-engineer': 'environment-groups',
  'edge-operator': 'edge-clusters',
};

/**
 * Connectivities of clusters reached through an edge agent.
 *
 * @public
 */
export const EDGE_CONNECTIVITIES: readonly Connectivity[] = [
  'edge',
  'edge-async',
];

/**
 * An edge cluster: one of an edge environment group, or one reached through
 * an edge agent (which an edge group marked production has).
 *
 * @public
 */
export function isEdgeCluster(cluster: {
  environment: Environment;
  connectivity?: Connectivity;
}): boolean {
  return (
    cluster.environment === 'edge' ||
    (!!cluster.connectivity &&
      EDGE_CONNECTIVITIES.includes(cluster.connectivity))
  );
}

/**
 * Does one of the cluster's tenant namespaces belong to one of the teams?
 *
 * @public
 */
export function hasTenantOfTeams(
  cluster: { tenants?: ReadonlyArray<{ team: string }> },
  teams: readonly string[],
): boolean {
  return !!cluster.tenants?.some(t => teams.includes(t.team));
}

/**
 * May a caller with these personas in a cluster's environment group see the
 * cluster (its registry entry, the fleet list)? With the rule that refuses
 * it; the persona policy's `kmp.cluster.read` conditions decide the same.
 *
 * @public
 */
export function checkClusterVisibility(input: {
  /** The caller's personas in the cluster's environment group. */
  personas: readonly Persona[];
  /** The caller's teams (`teamsOf` their ownership refs). */
  teams: readonly string[];
  cluster: {
    name: string;
    environmentGroup: string;
    environment: Environment;
    connectivity?: Connectivity;
    tenants?: ReadonlyArray<{ team: string }>;
  };
}): KmpAccessCheck {
  const { cluster } = input;
  const personas = PERSONAS_BY_PRIVILEGE.filter(p =>
    input.personas.includes(p),
  );
  if (personas.length === 0) {
    return {
      allowed: false,
      reason: KMP_RULES.noPersona(cluster.environmentGroup),
    };
  }
  const sees = (scope: KmpClusterScope) => {
    switch (scope) {
      case 'environment-groups':
        return true;
      case 'team-tenants':
        return hasTenantOfTeams(cluster, input.teams);
      default:
        return isEdgeCluster(cluster);
    }
  };
  if (personas.some(p => sees(KMP_CLUSTER_SCOPE[p]))) {
    return { allowed: true };
  }
  // The rule of the most privileged persona held.
  return {
    allowed: false,
    reason:
      KMP_CLUSTER_SCOPE[personas[0]] === 'team-tenants'
        ? KMP_RULES.noTeamTenant(cluster.name, input.teams)
        : KMP_RULES.edgeClustersOnly(cluster.name),
  };
}
