import { createPermissionResourceRef } from '@backstage/plugin-permission-node';
import {
  Connectivity,
  Environment,
  KMP_CLUSTER_RESOURCE_TYPE,
  KmpAccessRequest,
} from '@kmp/plugin-kmp-common';

/**
 * The resource of `kmp-cluster` permissions as the access rules see it: a
 * cluster (name, environment group, environment) and, when the broker asks,
 * the request made to it (action, namespace, the namespace's team label,
 * break-glass). A registered cluster loaded by name carries no request and
 * stands for the cluster as a whole ("may the caller read/write somewhere
 * on it?", as the kubeconfig route asks); the broker decides each request
 * with its request.
 *
 * @public
 */
export interface KmpClusterAccessResource {
  name: string;
  environmentGroup: string;
  environment: Environment;
  /** How KMP reaches it; tells edge clusters of groups marked production. */
  connectivity?: Connectivity;
  /** Tenant namespaces the registry observed on the cluster, with their team. */
  tenants?: ReadonlyArray<{ namespace: string; team: string }>;
  request?: KmpAccessRequest;
}

/**
 * The database filter a `kmp-cluster` rule stands for when clusters are
 * listed (the registry's query shape).
 *
 * @public
 */
export type KmpClusterQuery = {
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

/** @public */
export const kmpClusterAccessResourceRef = createPermissionResourceRef<
  KmpClusterAccessResource,
  KmpClusterQuery
>().with({ pluginId: 'kmp', resourceType: KMP_CLUSTER_RESOURCE_TYPE });
