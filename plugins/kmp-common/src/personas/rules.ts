import { Persona, PERSONA_INFO } from '../model/persona';

/**
 * The rules KMP names when it refuses something: in the Kubernetes Status
 * the broker answers, in the portal and in the audit event. One wording,
 * everywhere.
 *
 * @public
 */
export const KMP_RULES = {
  productionGitOps: 'production changes go through GitOps',
  productionReplicasInGit: 'production replica counts are declared in Git',
  productionSecrets:
    'Secret values in production are read only under an approved break-glass grant',
  productionExec:
    'exec, attach and port-forward in production only under an approved break-glass grant',
  developerProductionExec:
    'developers have no interactive access to production',
  developerProductionSecrets:
    'developers do not read Secret values in production',
  noSecrets: (persona: Persona) =>
    `${PERSONA_INFO[persona].title} persona does not read Secret values`,
  platformOnly:
    'clusters, profiles and policy bundles are managed by platform engineers',
  breakGlassProductionOnly:
    'break-glass is for production; non-production needs none',
  breakGlassApprovers:
    'break-glass is approved by ops and platform engineers of production',
  noPersona: (environmentGroup: string) =>
    `no KMP persona in environment group ${environmentGroup}`,
  edgeClustersOnly: (cluster: string) =>
    `edge operators see the edge clusters of their environment groups: cluster ${cluster} is not an edge cluster`,
  noTeamTenant: (cluster: string, teams: readonly string[]) =>
    teams.length === 0
      ? `developers see the clusters where their team has a tenant namespace: you belong to no team`
      : `developers see the clusters where their team has a tenant namespace: cluster ${cluster} has none of ${teams.join(
          ', ',
        )}`,
  namespaceOfTeam: (namespace: string, team: string) =>
    `namespace ${namespace} belongs to team ${team}`,
  namespaceWithoutTeam: (namespace: string) =>
    `namespace ${namespace} is not a tenant namespace (no kmp.backstage.io/team label)`,
  systemNamespaceReadOnly: (namespace: string, persona: Persona) =>
    `system namespace ${namespace} is read-only for the ${PERSONA_INFO[persona].title} persona`,
  systemNamespaceOutOfScope: (namespace: string) =>
    `system namespace ${namespace} is for ops and platform engineers`,
  developerClusterWide:
    "developers work in their team's namespaces: cluster-wide requests (all namespaces, namespaces, cluster-scoped resources) are for ops and platform engineers",
  clusterScopedChanges: 'cluster-scoped changes are for platform engineers',
} as const;
