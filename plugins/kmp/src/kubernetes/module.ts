import {
  gitlabAuthApiRef,
  googleAuthApiRef,
  identityApiRef,
  microsoftAuthApiRef,
  oktaAuthApiRef,
  oneloginAuthApiRef,
} from '@backstage/core-plugin-api';
import {
  ApiBlueprint,
  createFrontendModule,
} from '@backstage/frontend-plugin-api';
import {
  KubernetesAuthProviders,
  kubernetesAuthProvidersApiRef,
} from '@backstage/plugin-kubernetes-react';
import { KmpKubernetesAuthProviders } from './KmpKubernetesAuthProviders';

/**
 * Replaces the stock Kubernetes plugin's auth providers
 * (`api:kubernetes/auth-providers`) with the same providers plus `kmp`.
 */
const kubernetesAuthProvidersApi = ApiBlueprint.make({
  name: 'auth-providers',
  params: defineParams =>
    defineParams({
      api: kubernetesAuthProvidersApiRef,
      deps: {
        identityApi: identityApiRef,
        gitlabAuthApi: gitlabAuthApiRef,
        googleAuthApi: googleAuthApiRef,
        microsoftAuthApi: microsoftAuthApiRef,
        oktaAuthApi: oktaAuthApiRef,
        oneloginAuthApi: oneloginAuthApiRef,
      },
      factory: ({
        identityApi,
        gitlabAuthApi,
        googleAuthApi,
        microsoftAuthApi,
        oktaAuthApi,
        oneloginAuthApi,
      }) =>
        new KmpKubernetesAuthProviders({
          identityApi,
          // The stock providers, built as the Kubernetes plugin builds them.
          fallback: new KubernetesAuthProviders({
            microsoftAuthApi,
            googleAuthApi,
            oidcProviders: {
              gitlab: gitlabAuthApi,
              google: googleAuthApi,
              microsoft: microsoftAuthApi,
              okta: oktaAuthApi,
              onelogin: oneloginAuthApi,
            },
          }),
        }),
    }),
});

/**
 * A frontend module for the stock Kubernetes plugin: clusters with auth
 * provider `kmp` (those KMP publishes to the catalog) are read through the
 * KMP broker as the signed-in user.
 *
 * @alpha
 */
export const kmpKubernetesAuthModule = createFrontendModule({
  pluginId: 'kubernetes',
  extensions: [kubernetesAuthProvidersApi],
});
