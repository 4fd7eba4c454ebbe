import { createApiRef } from '@backstage/core-plugin-api';
import { EnvironmentGroup, RegisteredCluster } from '@kmp/plugin-kmp-common';

/** @public */
export interface KmpHealth {
  status: 'ok' | 'unavailable';
  database: 'ok' | 'unavailable';
}

/** @public */
export interface ClusterListQuery {
  environment?: string[];
  environmentGroup?: string[];
  region?: string[];
  profile?: string[];
  state?: string[];
  connectivity?: string[];
  q?: string;
  orderBy?:
    | 'name'
    | 'environment'
    | 'environmentGroup'
    | 'region'
    | 'lifecycleState'
    | 'kubernetesVersion'
    | 'updatedAt';
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

/** @public */
export interface ClusterSummary {
  total: number;
  byLifecycleState: Record<string, number>;
  byEnvironment: Record<string, number>;
  byConnectivity: Record<string, number>;
}

/**
 * Client of the KMP backend (`/api/kmp`).
 *
 * @public
 */
export interface KmpApi {
  getHealth(): Promise<KmpHealth>;
  listEnvironmentGroups(): Promise<{ items: EnvironmentGroup[] }>;
  listClusters(
    query?: ClusterListQuery,
  ): Promise<{ items: RegisteredCluster[]; totalCount: number }>;
  getClusterSummary(): Promise<ClusterSummary>;
}

/** @public */
export const kmpApiRef = createApiRef<KmpApi>({ id: 'plugin.kmp.service' });
