import {
  AuthService,
  DiscoveryService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { AuthenticationError } from '@backstage/errors';
import { KubernetesRequestAuth } from '@backstage/plugin-kubernetes-common';
import {
  AuthenticationStrategy,
  AuthMetadata,
  ClusterDetails,
  KubernetesCredential,
} from '@backstage/plugin-kubernetes-node';

/** The `kubernetes.io/auth-provider` of clusters reached through the broker. */
export const KMP_AUTH_PROVIDER = 'kmp';

/** Where the broker's proxy lives under the KMP plugin's base URL. */
const PROXY_PATH = '/proxy/clusters/';

/**
 * The stock Kubernetes backend's auth strategy for clusters whose API server
 * is the KMP access broker. The frontend sends the signed-in user's
 * Backstage token as `auth.kmp` (request body) or in the
 * `Backstage-Kubernetes-Authorization-kmp` header (proxy endpoint); the
 * strategy authenticates it and exchanges it for a token addressed to the
 * `kmp` plugin on behalf of that user, so the broker authorises, impersonates
 * and audits the real person — never the Kubernetes plugin's own service
 * identity.
 *
 * Without a user token there is no credential (the request fails for that
 * cluster): falling back to the plugin's service identity would let anybody
 * who may read the Kubernetes plugin see what that identity may see.
 *
 * A user's token goes only to the broker: a cluster entity with this auth
 * provider whose URL is not the broker's proxy (for example one registered
 * by hand in the catalog, pointing elsewhere) gets no credential.
 */
export class KmpBrokerAuthStrategy implements AuthenticationStrategy {
  private constructor(
    private readonly auth: AuthService,
    private readonly brokerBaseUrls: () => Promise<string[]>,
    private readonly logger: LoggerService,
  ) {}

  static create(options: {
    auth: AuthService;
    discovery: DiscoveryService;
    logger: LoggerService;
    /** `kmp.broker.externalUrl`, when the broker is published elsewhere. */
    externalUrl?: string;
  }): KmpBrokerAuthStrategy {
    const { discovery, externalUrl } = options;
    return new KmpBrokerAuthStrategy(
      options.auth,
      async () =>
        [
          externalUrl,
          await discovery.getBaseUrl('kmp'),
          await discovery.getExternalBaseUrl('kmp'),
        ]
          .filter((u): u is string => !!u)
          .map(u => `${u.replace(/\/+$/, '')}${PROXY_PATH}`),
      options.logger,
    );
  }

  async getCredential(
    clusterDetails: ClusterDetails,
    requestAuth: KubernetesRequestAuth,
  ): Promise<KubernetesCredential> {
    const bases = await this.brokerBaseUrls();
    if (!bases.some(base => isUnder(clusterDetails.url, base))) {
      this.logger.warn(
        `Refusing to send a user credential to cluster '${clusterDetails.name}': its URL is not the KMP broker`,
      );
      throw new Error(
        `cluster '${clusterDetails.name}' uses auth provider '${KMP_AUTH_PROVIDER}' but its URL is not the KMP broker`,
      );
    }
    const userToken = requestAuth[KMP_AUTH_PROVIDER];
    if (typeof userToken !== 'string' || userToken.length === 0) {
      throw new AuthenticationError(
        `auth provider '${KMP_AUTH_PROVIDER}' needs the signed-in user's Backstage token under auth.${KMP_AUTH_PROVIDER}`,
      );
    }
    // The token itself never goes into an error: it could be echoed.
    const credentials = await this.auth.authenticate(userToken).catch(() => {
      throw new AuthenticationError(
        `the token under auth.${KMP_AUTH_PROVIDER} is not a valid Backstage token`,
      );
    });
    if (!this.auth.isPrincipal(credentials, 'user')) {
      throw new AuthenticationError(
        `auth provider '${KMP_AUTH_PROVIDER}' needs a user's token`,
      );
    }
    const { token } = await this.auth.getPluginRequestToken({
      onBehalfOf: credentials,
      targetPluginId: 'kmp',
    });
    return { type: 'bearer token', token };
  }

  validateCluster(_authMetadata: AuthMetadata): Error[] {
    return [];
  }

  presentAuthMetadata(_authMetadata: AuthMetadata): AuthMetadata {
    return {};
  }
}

/** Whether `url` is `base` or below it (same origin, path prefix). */
function isUnder(url: string, base: string): boolean {
  try {
    const u = new URL(url);
    const b = new URL(base);
    return (
      u.origin === b.origin &&
      `${u.pathname.replace(/\/+$/, '')}/`.startsWith(b.pathname)
    );
  } catch {
    return false;
  }
}
