import { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import { EnvironmentGroup } from '@kmp/plugin-kmp-common';
import { KmpApi, KmpHealth } from './KmpApi';

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
