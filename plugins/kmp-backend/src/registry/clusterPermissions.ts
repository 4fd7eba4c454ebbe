import {
  createPermissionResourceRef,
  createPermissionRule,
} from '@backstage/plugin-permission-node';
import { PermissionCriteria } from '@backstage/plugin-permission-common';
import {
  KMP_CLUSTER_RESOURCE_TYPE,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';
import { Knex } from 'knex';
import { z } from 'zod';

/** A database-side filter one cluster permission rule stands for. */
export type ClusterQuery = {
  column:
    | 'environment_group'
    | 'environment'
    | 'connectivity'
    | 'owner'
    | 'name'
    /** Clusters with a tenant namespace of one of the teams. */
    | 'tenant_team';
  values: string[];
};

/** Tenant namespaces observed per cluster by the refresh loop. */
export const CLUSTER_TENANTS = 'kmp_cluster_tenants';

/** The filter that matches no cluster (`name IN ()`). */
export const NO_CLUSTERS: ClusterQuery = { column: 'name', values: [] };

/** @public */
export const clusterPermissionResourceRef = createPermissionResourceRef<
  RegisteredCluster,
  ClusterQuery
>().with({ pluginId: 'kmp', resourceType: KMP_CLUSTER_RESOURCE_TYPE });

const isInEnvironmentGroup = createPermissionRule({
  name: 'IS_IN_ENVIRONMENT_GROUP',
  description:
    'Allow clusters that belong to one of the given environment groups',
  resourceRef: clusterPermissionResourceRef,
  paramsSchema: z.object({
    environmentGroups: z.array(z.string()).describe('Environment group names'),
  }),
  apply: (cluster, { environmentGroups }) =>
    environmentGroups.includes(cluster.environmentGroup),
  toQuery: ({ environmentGroups }) => ({
    column: 'environment_group',
    values: environmentGroups,
  }),
});

const hasEnvironment = createPermissionRule({
  name: 'HAS_ENVIRONMENT',
  description:
    'Allow clusters of the given environments (production, non-production, edge)',
  resourceRef: clusterPermissionResourceRef,
  paramsSchema: z.object({
    environments: z.array(z.string()).describe('Environment names'),
  }),
  apply: (cluster, { environments }) =>
    environments.includes(cluster.environment),
  toQuery: ({ environments }) => ({
    column: 'environment',
    values: environments,
  }),
});

const isOwnedBy = createPermissionRule({
  name: 'IS_CLUSTER_OWNER',
  description: 'Allow clusters owned by one of the given entity refs',
  resourceRef: clusterPermissionResourceRef,
  paramsSchema: z.object({
    owners: z.array(z.string()).describe('Owner entity refs'),
  }),
  apply: (cluster, { owners }) => owners.includes(cluster.owner),
  toQuery: ({ owners }) => ({ column: 'owner', values: owners }),
});

const isNamed = createPermissionRule({
  name: 'IS_CLUSTER',
  description: 'Allow the named clusters',
  resourceRef: clusterPermissionResourceRef,
  paramsSchema: z.object({
    names: z.array(z.string()).describe('Cluster names'),
  }),
  apply: (cluster, { names }) => names.includes(cluster.name),
  toQuery: ({ names }) => ({ column: 'name', values: names }),
});

/** @public */
export const clusterPermissionRules = {
  isInEnvironmentGroup,
  hasEnvironment,
  isOwnedBy,
  isNamed,
};

/**
 * Applies the filter of a conditional decision to a cluster query, so that
 * listing returns only what the caller may see, paged correctly.
 */
export function applyClusterCriteria(
  query: Knex.QueryBuilder,
  criteria: PermissionCriteria<ClusterQuery>,
): void {
  if ('allOf' in criteria) {
    query.where(q =>
      criteria.allOf.forEach(c => q.where(sub => applyClusterCriteria(sub, c))),
    );
  } else if ('anyOf' in criteria) {
    query.where(q =>
      criteria.anyOf.forEach(c =>
        q.orWhere(sub => applyClusterCriteria(sub, c)),
      ),
    );
  } else if ('not' in criteria) {
    query.whereNot(q => applyClusterCriteria(q, criteria.not));
  } else if (criteria.column === 'tenant_team') {
    const teams = criteria.values;
    query.whereIn('name', sub =>
      sub.select('cluster_name').from(CLUSTER_TENANTS).whereIn('team', teams),
    );
  } else {
    query.whereIn(criteria.column, criteria.values);
  }
}
