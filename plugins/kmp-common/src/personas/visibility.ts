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
 *   engineers, and developers — see below);
 * - `edge-clusters`: only their edge clusters (edge operators).
 *
 * Developers see "clusters where their team has a tenant namespace". KMP
 * does not record tenant namespaces per cluster (they live on the clusters,
 * as `kmp.backstage.io/team` labels, read live), and a live read across the
 * fleet per request does not scale, so developers see every cluster of the
 * environment groups they are a developer in; on those clusters the broker
 * keeps them in their team's namespaces.
 *
 * @public
 */
export type KmpClusterScope = 'environment-groups' | 'edge-clusters';

/** @public */
export const KMP_CLUSTER_SCOPE: Record<Persona, KmpClusterScope> = {
  developer: 'environment-groups',
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
 * May a caller with these personas in a cluster's environment group see the
 * cluster (its registry entry, the fleet list)? With the rule that refuses
 * it; the persona policy's `kmp.cluster.read` conditions decide the same.
 *
 * @public
 */
export function checkClusterVisibility(input: {
  /** The caller's personas in the cluster's environment group. */
  personas: readonly Persona[];
  cluster: {
    name: string;
    environmentGroup: string;
    environment: Environment;
    connectivity?: Connectivity;
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
  const sees = personas.some(
    p =>
      KMP_CLUSTER_SCOPE[p] === 'environment-groups' || isEdgeCluster(cluster),
  );
  return sees
    ? { allowed: true }
    : { allowed: false, reason: KMP_RULES.edgeClustersOnly(cluster.name) };
}
