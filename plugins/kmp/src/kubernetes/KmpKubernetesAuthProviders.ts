import { IdentityApi } from '@backstage/core-plugin-api';
import {
  KubernetesAuthProvider,
  KubernetesAuthProvidersApi,
} from '@backstage/plugin-kubernetes-react';

type KubernetesRequestBody = Parameters<
  KubernetesAuthProvider['decorateRequestBodyForAuth']
>[0];

/**
 * The `kubernetes.io/auth-provider` of clusters that KMP publishes to the
 * catalog: their API server is the KMP access broker.
 *
 * @public
 */
export const KMP_KUBERNETES_AUTH_PROVIDER = 'kmp';

/**
 * The stock Kubernetes plugin's auth provider for clusters behind the KMP
 * broker: it hands the signed-in user's Backstage token to the Kubernetes
 * backend (as `auth.kmp` in object requests, and in the
 * `Backstage-Kubernetes-Authorization-kmp` header of proxy requests), whose
 * `kmp` auth strategy forwards it, on the user's behalf, to the broker —
 * so the broker reads the cluster as that person.
 *
 * @public
 */
export class KmpKubernetesAuthProvider implements KubernetesAuthProvider {
  constructor(private readonly identityApi: IdentityApi) {}

  async decorateRequestBodyForAuth(
    requestBody: KubernetesRequestBody,
  ): Promise<KubernetesRequestBody> {
    const { token } = await this.getCredentials();
    requestBody.auth = {
      ...requestBody.auth,
      [KMP_KUBERNETES_AUTH_PROVIDER]: token,
    };
    return requestBody;
  }

  async getCredentials(): Promise<{ token?: string }> {
    const { token } = await this.identityApi.getCredentials();
    return { token };
  }
}

/**
 * The Kubernetes plugin's auth providers with KMP's `kmp` provider added;
 * every other provider is answered by `fallback` (the stock
 * `KubernetesAuthProviders`).
 *
 * @public
 */
export class KmpKubernetesAuthProviders implements KubernetesAuthProvidersApi {
  private readonly kmp: KmpKubernetesAuthProvider;
  private readonly fallback: KubernetesAuthProvidersApi;

  constructor(options: {
    identityApi: IdentityApi;
    fallback: KubernetesAuthProvidersApi;
  }) {
    this.kmp = new KmpKubernetesAuthProvider(options.identityApi);
    this.fallback = options.fallback;
  }

  decorateRequestBodyForAuth(
    authProvider: string,
    requestBody: KubernetesRequestBody,
  ): Promise<KubernetesRequestBody> {
    return authProvider === KMP_KUBERNETES_AUTH_PROVIDER
      ? this.kmp.decorateRequestBodyForAuth(requestBody)
      : this.fallback.decorateRequestBodyForAuth(authProvider, requestBody);
  }

  getCredentials(authProvider: string): Promise<{ token?: string }> {
    return authProvider === KMP_KUBERNETES_AUTH_PROVIDER
      ? this.kmp.getCredentials()
      : this.fallback.getCredentials(authProvider);
  }
}
