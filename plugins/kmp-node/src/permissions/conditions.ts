import { createConditionFactory } from '@backstage/plugin-permission-node';
import {
  AuthorizeResult,
  ConditionalPolicyDecision,
  PermissionCondition,
  PermissionCriteria,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import { KMP_CLUSTER_RESOURCE_TYPE } from '@kmp/plugin-kmp-common';
import { kmpClusterAccessRules as rules } from './rules';

/**
 * Condition factories of the `kmp-cluster` access rules, for permission
 * policies.
 *
 * @public
 */
export const kmpClusterConditions = {
  inEnvironmentGroups: createConditionFactory(rules.inEnvironmentGroups),
  inEnvironments: createConditionFactory(rules.inEnvironments),
  edgeCluster: createConditionFactory(rules.edgeCluster),
  hasTenantOfTeams: createConditionFactory(rules.hasTenantOfTeams),
  actionIn: createConditionFactory(rules.actionIn),
  namespaceOwnedByTeams: createConditionFactory(rules.namespaceOwnedByTeams),
  tenantNamespace: createConditionFactory(rules.tenantNamespace),
  discoveryRequest: createConditionFactory(rules.discoveryRequest),
  breakGlassActive: createConditionFactory(rules.breakGlassActive),
};

/** @public */
export type KmpClusterCriteria = PermissionCriteria<
  PermissionCondition<typeof KMP_CLUSTER_RESOURCE_TYPE>
>;

/**
 * A conditional decision on a `kmp-cluster` permission, evaluated by the
 * KMP backend.
 *
 * @public
 */
export function createKmpClusterConditionalDecision(
  permission: ResourcePermission<typeof KMP_CLUSTER_RESOURCE_TYPE>,
  conditions: KmpClusterCriteria,
): ConditionalPolicyDecision {
  return {
    result: AuthorizeResult.CONDITIONAL,
    pluginId: 'kmp',
    resourceType: permission.resourceType,
    conditions,
  };
}
