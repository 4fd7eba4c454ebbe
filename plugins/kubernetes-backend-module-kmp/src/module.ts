import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { kubernetesAuthStrategyExtensionPoint } from '@backstage/plugin-kubernetes-node';
import {
  KMP_AUTH_PROVIDER,
  KmpBrokerAuthStrategy,
} from './KmpBrokerAuthStrategy';

/**
 * Registers the `kmp` auth strategy with the stock Kubernetes backend:
 * clusters published by KMP's catalog module (auth provider `kmp`, API
 * server = the KMP access broker) are read as the signed-in user.
 *
 * @public
 */
export const kubernetesModuleKmp = createBackendModule({
  pluginId: 'kubernetes',
  moduleId: 'kmp',
  register(reg) {
    reg.registerInit({
      deps: {
        authStrategies: kubernetesAuthStrategyExtensionPoint,
        auth: coreServices.auth,
        discovery: coreServices.discovery,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
      },
      async init({ authStrategies, auth, discovery, config, logger }) {
        authStrategies.addAuthStrategy(
          KMP_AUTH_PROVIDER,
          KmpBrokerAuthStrategy.create({
            auth,
            discovery,
            logger,
            externalUrl: config.getOptionalString('kmp.broker.externalUrl'),
          }),
        );
      },
    });
  },
});
