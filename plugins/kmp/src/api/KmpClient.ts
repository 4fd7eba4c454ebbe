import { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import { EnvironmentGroup, RegisteredCluster } from '@kmp/plugin-kmp-common';
import { ClusterListQuery, ClusterSummary, KmpApi, KmpHealth } from './KmpApi';

/**
 * Default {@link KmpApi} implementation over the discovery and fetch APIs.
 *
 * @public
 */
export class KmpClient implements KmpApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
  }

  async getHealth(): Promise<KmpHealth> {
    return this.request<KmpHealth>('/health', { okStatuses: [503] });
  }

  async listEnvironmentGroups(): Promise<{ items: EnvironmentGroup[] }> {
    return this.request('/environment-groups');
  }

  async listClusters(
    query: ClusterListQuery = {},
  ): Promise<{ items: RegisteredCluster[]; totalCount: number }> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === '') continue;
      for (const v of Array.isArray(value) ? value : [value]) {
        params.append(key, String(v));
      }
    }
    const search = params.toString();
    return this.request(`/clusters${search ? `?${search}` : ''}`);
  }

  async getClusterSummary(): Promise<ClusterSummary> {
    return this.request('/clusters/summary');
  }

  private async request<T>(
    path: string,
    options?: { init?: RequestInit; okStatuses?: number[] },
  ): Promise<T> {
    const baseUrl = await this.discoveryApi.getBaseUrl('kmp');
    const response = await this.fetchApi.fetch(
      `${baseUrl}${path}`,
      options?.init,
    );
    if (!response.ok && !options?.okStatuses?.includes(response.status)) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }
}
