import { createPermission } from '@backstage/plugin-permission-common';

/**
 * Resource type of permissions that apply to one registered cluster.
 *
 * @public
 */
export const KMP_CLUSTER_RESOURCE_TYPE = 'kmp-cluster';

/** @public */
export const kmpClusterReadPermission = createPermission({
  name: 'kmp.cluster.read',
  attributes: { action: 'read' },
  resourceType: KMP_CLUSTER_RESOURCE_TYPE,
});

/** @public */
export const kmpClusterRegisterPermission = createPermission({
  name: 'kmp.cluster.register',
  attributes: { action: 'create' },
});

/** @public */
export const kmpClusterUpdatePermission = createPermission({
  name: 'kmp.cluster.update',
  attributes: { action: 'update' },
  resourceType: KMP_CLUSTER_RESOURCE_TYPE,
});

/** @public */
export const kmpClusterDecommissionPermission = createPermission({
  name: 'kmp.cluster.decommission',
  attributes: { action: 'delete' },
  resourceType: KMP_CLUSTER_RESOURCE_TYPE,
});

/**
 * Reading through the access broker (get, list, watch, logs).
 *
 * @public
 */
export const kmpClusterAccessReadPermission = createPermission({
  name: 'kmp.cluster.access.read',
  attributes: { action: 'read' },
  resourceType: KMP_CLUSTER_RESOURCE_TYPE,
});

/**
 * Writing through the access broker (create, update, patch, delete, exec).
 *
 * @public
 */
export const kmpClusterAccessWritePermission = createPermission({
  name: 'kmp.cluster.access.write',
  attributes: { action: 'update' },
  resourceType: KMP_CLUSTER_RESOURCE_TYPE,
});

/** @public */
export const kmpKubeconfigIssuePermission = createPermission({
  name: 'kmp.kubeconfig.issue',
  attributes: { action: 'create' },
  resourceType: KMP_CLUSTER_RESOURCE_TYPE,
});

/** @public */
export const kmpEnvironmentGroupReadPermission = createPermission({
  name: 'kmp.environment-group.read',
  attributes: { action: 'read' },
});

/** @public */
export const kmpAuditReadPermission = createPermission({
  name: 'kmp.audit.read',
  attributes: { action: 'read' },
});

/** @public */
export const kmpPolicyReadPermission = createPermission({
  name: 'kmp.policy.read',
  attributes: { action: 'read' },
});

/** @public */
export const kmpPolicyManagePermission = createPermission({
  name: 'kmp.policy.manage',
  attributes: { action: 'update' },
});

/** @public */
export const kmpBreakGlassRequestPermission = createPermission({
  name: 'kmp.break-glass.request',
  attributes: { action: 'create' },
  resourceType: KMP_CLUSTER_RESOURCE_TYPE,
});

/** @public */
export const kmpBreakGlassApprovePermission = createPermission({
  name: 'kmp.break-glass.approve',
  attributes: { action: 'update' },
});

/**
 * Every KMP permission, for registration with the permission framework.
 *
 * @public
 */
export const kmpPermissions = [
  kmpClusterReadPermission,
  kmpClusterRegisterPermission,
  kmpClusterUpdatePermission,
  kmpClusterDecommissionPermission,
  kmpClusterAccessReadPermission,
  kmpClusterAccessWritePermission,
  kmpKubeconfigIssuePermission,
  kmpEnvironmentGroupReadPermission,
  kmpAuditReadPermission,
  kmpPolicyReadPermission,
  kmpPolicyManagePermission,
  kmpBreakGlassRequestPermission,
  kmpBreakGlassApprovePermission,
];
