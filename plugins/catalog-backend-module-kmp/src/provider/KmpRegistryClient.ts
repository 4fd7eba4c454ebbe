import { AuthService, DiscoveryService } from '@backstage/backend-plugin-api';
import { ResponseError } from '@backstage/errors';
import { EnvironmentGroup, RegisteredCluster } from '@kmp/plugin-kmp-common';

/** Reads the KMP registry's API with the catalog's service credentials. */
export class KmpRegistryClient {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly auth: AuthService,
  ) {}

  private async get<T>(path: string): Promise<T> {
    const baseUrl = await this.discovery.getBaseUrl('kmp');
    const { token } = await this.auth.getPluginRequestToken({
      onBehalfOf: await this.auth.getOwnServiceCredentials(),
      targetPluginId: 'kmp',
    });
    const response = await fetch(`${baseUrl}${path}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }

  async changesSince(revision: number, limit = 5000) {
    return this.get<{
      items: RegisteredCluster[];
      revision: number;
      currentRevision: number;
    }>(`/clusters/changes?since=${revision}&limit=${limit}`);
  }

  async environmentGroups(): Promise<EnvironmentGroup[]> {
    return (
      await this.get<{ items: EnvironmentGroup[] }>('/environment-groups')
    ).items;
  }

  async externalBaseUrl(): Promise<string> {
    return this.discovery.getExternalBaseUrl('kmp');
  }
}
