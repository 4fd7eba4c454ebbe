import { PermissionCriteria } from '@backstage/plugin-permission-common';
import { createPermissionRule } from '@backstage/plugin-permission-node';
import {
  EDGE_CONNECTIVITIES,
  hasTenantOfTeams as hasTenantOfTeamsCheck,
  isEdgeCluster,
  kmpActionSchema,
} from '@kmp/plugin-kmp-common';
import { z } from 'zod';
import { KmpClusterQuery, kmpClusterAccessResourceRef } from './resource';

/**
 * A cluster loaded by name (no request: the permission backend evaluating
 * `authorize` with a resourceRef, or a cluster listing) stands for the
 * cluster as a whole: a rule about the request matches it when the caller
 * may do some of it somewhere on the cluster. The broker always evaluates
 * with the request, so per-request decisions are exact.
 */
const EVERY_CLUSTER: PermissionCriteria<KmpClusterQuery> = {
  not: { column: 'name', values: [] },
};

const inEnvironmentGroups = createPermissionRule({
  name: 'KMP_IN_ENVIRONMENT_GROUPS',
  description: 'Allow clusters of the given environment groups',
  resourceRef: kmpClusterAccessResourceRef,
  paramsSchema: z.object({
    environmentGroups: z.array(z.string()).describe('Environment group names'),
  }),
  apply: (resource, { environmentGroups }) =>
    environmentGroups.includes(resource.environmentGroup),
  toQuery: ({ environmentGroups }) => ({
    column: 'environment_group',
    values: environmentGroups,
  }),
});

const inEnvironments = createPermissionRule({
  name: 'KMP_IN_ENVIRONMENTS',
  description:
    'Allow clusters of the given environments (production, non-production, edge)',
  resourceRef: kmpClusterAccessResourceRef,
  paramsSchema: z.object({
    environments: z.array(z.string()).describe('Environment names'),
  }),
  apply: (resource, { environments }) =>
    environments.includes(resource.environment),
  toQuery: ({ environments }) => ({
    column: 'environment',
    values: environments,
  }),
});

const edgeCluster = createPermissionRule({
  name: 'KMP_EDGE_CLUSTER',
  description:
    'Allow edge clusters: those of edge environment groups, and those reached through an edge agent',
  resourceRef: kmpClusterAccessResourceRef,
  apply: resource => isEdgeCluster(resource),
  toQuery: (): PermissionCriteria<KmpClusterQuery> => ({
    anyOf: [
      { column: 'environment', values: ['edge'] },
      { column: 'connectivity', values: [...EDGE_CONNECTIVITIES] },
    ],
  }),
});

const hasTenantOfTeams = createPermissionRule({
  name: 'KMP_HAS_TENANT_OF_TEAMS',
  description:
    'Allow clusters where one of the given teams has a tenant namespace (as the registry last observed)',
  resourceRef: kmpClusterAccessResourceRef,
  paramsSchema: z.object({
    teams: z.array(z.string()).describe('Team (group) names'),
  }),
  apply: (resource, { teams }) => hasTenantOfTeamsCheck(resource, teams),
  toQuery: ({ teams }) => ({ column: 'tenant_team', values: teams }),
});

const actionIn = createPermissionRule({
  name: 'KMP_ACTION_IN',
  description:
    'Allow broker requests whose action (read, logs, exec, restart, scale, write, …) is one of the given ones',
  resourceRef: kmpClusterAccessResourceRef,
  paramsSchema: z.object({
    actions: z.array(kmpActionSchema).describe('KMP actions'),
  }),
  apply: (resource, { actions }) =>
    !resource.request || actions.includes(resource.request.action),
  toQuery: () => EVERY_CLUSTER,
});

const namespaceOwnedByTeams = createPermissionRule({
  name: 'KMP_NAMESPACE_OWNED_BY_TEAMS',
  description:
    'Allow broker requests in tenant namespaces whose kmp.backstage.io/team label names one of the given teams',
  resourceRef: kmpClusterAccessResourceRef,
  paramsSchema: z.object({
    teams: z.array(z.string()).describe('Team (group) names'),
  }),
  apply: (resource, { teams }) => {
    const request = resource.request;
    if (!request) return true;
    return (
      !!request.namespace &&
      !request.systemNamespace &&
      !!request.namespaceTeam &&
      teams.includes(request.namespaceTeam)
    );
  },
  toQuery: () => EVERY_CLUSTER,
});

const tenantNamespace = createPermissionRule({
  name: 'KMP_TENANT_NAMESPACE',
  description:
    'Allow broker requests in tenant namespaces (labelled with a team, not a system namespace)',
  resourceRef: kmpClusterAccessResourceRef,
  apply: resource => {
    const request = resource.request;
    if (!request) return true;
    return (
      !!request.namespace && !request.systemNamespace && !!request.namespaceTeam
    );
  },
  toQuery: () => EVERY_CLUSTER,
});

const discoveryRequest = createPermissionRule({
  name: 'KMP_DISCOVERY_REQUEST',
  description:
    'Allow broker requests that only discover the API or ask about the caller (/api, /apis, /version, self-subject reviews)',
  resourceRef: kmpClusterAccessResourceRef,
  apply: resource => !resource.request || !!resource.request.discovery,
  toQuery: () => EVERY_CLUSTER,
});

const breakGlassActive = createPermissionRule({
  name: 'KMP_BREAK_GLASS_ACTIVE',
  description:
    'Allow broker requests covered by an approved, unexpired break-glass grant of the caller',
  resourceRef: kmpClusterAccessResourceRef,
  // A cluster as a whole holds no grant.
  apply: resource => !!resource.request?.breakGlass,
  toQuery: (): KmpClusterQuery => ({ column: 'name', values: [] }),
});

/**
 * The permission rules of the persona RBAC mapper for `kmp-cluster`
 * resources. The KMP backend registers them; the persona policy builds
 * its conditions from them.
 *
 * @public
 */
export const kmpClusterAccessRules = {
  inEnvironmentGroups,
  inEnvironments,
  edgeCluster,
  hasTenantOfTeams,
  actionIn,
  namespaceOwnedByTeams,
  tenantNamespace,
  discoveryRequest,
  breakGlassActive,
};
