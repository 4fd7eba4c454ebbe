import { PermissionsRegistryService } from '@backstage/backend-plugin-api';
import {
  PolicyDecision,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import { createConditionAuthorizer } from '@backstage/plugin-permission-node';
import {
  KMP_CLUSTER_RESOURCE_TYPE,
  KMP_RULES,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';
import {
  KmpClusterAccessResource,
  kmpClusterAccessResourceRef,
  kmpClusterAccessRules,
} from '@kmp/plugin-kmp-node';
import { CallerIdentity, PersonaResolver } from './identity';

/**
 * What the broker and the GitOps publisher share when they decide access to
 * a cluster (`kmp.cluster.access.*`) on a conditional decision.
 */

/**
 * Applies a conditional decision to an access resource. Conditions may use
 * every rule registered for kmp-cluster (the registry's too), so the
 * plugin's registered ruleset resolves them; without a registry, KMP's own
 * access rules.
 */
export function accessConditionAuthorizer(
  permissionsRegistry: PermissionsRegistryService | undefined,
): (decision: PolicyDecision, resource: KmpClusterAccessResource) => boolean {
  return permissionsRegistry
    ? createConditionAuthorizer(
        permissionsRegistry.getPermissionRuleset(kmpClusterAccessResourceRef),
      )
    : createConditionAuthorizer(Object.values(kmpClusterAccessRules));
}

/** Rules whose outcome depends on the namespace's labels. */
const NAMESPACE_RULES = new RegExp(
  `"(${[
    kmpClusterAccessRules.namespaceOwnedByTeams.name,
    kmpClusterAccessRules.tenantNamespace.name,
  ].join('|')})"`,
);

/**
 * Whether the conditions look at the namespace's labels: only then is the
 * namespace read from the cluster (a platform engineer's do not).
 */
export function conditionsNeedNamespace(conditions: unknown): boolean {
  return NAMESPACE_RULES.test(JSON.stringify(conditions));
}

/**
 * The reason of an outright denial: KMP's policy denies only callers
 * without a persona in the cluster's environment group; another policy's
 * reasons are its own.
 */
export function denialReason(
  personas: PersonaResolver,
  identity: CallerIdentity,
  cluster: RegisteredCluster,
  permission: ResourcePermission<typeof KMP_CLUSTER_RESOURCE_TYPE>,
): string {
  return identity.kind === 'user' &&
    personas.personasOf(identity, cluster.environmentGroup).length === 0
    ? KMP_RULES.noPersona(cluster.environmentGroup)
    : `${permission.name} is not granted on cluster ${cluster.name}`;
}
