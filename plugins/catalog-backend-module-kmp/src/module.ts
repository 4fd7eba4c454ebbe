import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { KmpClusterEntityProcessor } from './processor/KmpClusterEntityProcessor';
import { KmpClusterEntityProvider } from './provider/KmpClusterEntityProvider';
import { KmpRegistryClient } from './provider/KmpRegistryClient';

/**
 * Registers the KMP processor and the cluster registry entity provider with
 * the catalog.
 *
 * @public
 */
export const catalogModuleKmp = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'kmp',
  register(reg) {
    reg.registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        config: coreServices.rootConfig,
        discovery: coreServices.discovery,
        auth: coreServices.auth,
        logger: coreServices.logger,
        scheduler: coreServices.scheduler,
      },
      async init({ catalog, config, discovery, auth, logger, scheduler }) {
        catalog.addProcessor(new KmpClusterEntityProcessor());
        const settings = config.getOptionalConfig('kmp.catalog');
        if (settings?.getOptionalBoolean('enabled') === false) {
          return;
        }
        catalog.addEntityProvider(
          new KmpClusterEntityProvider(
            new KmpRegistryClient(discovery, auth),
            logger,
            {
              fullSync: scheduler.createScheduledTaskRunner({
                frequency: {
                  seconds:
                    settings?.getOptionalNumber('fullSyncSeconds') ?? 600,
                },
                timeout: { minutes: 10 },
                initialDelay: { seconds: 3 },
              }),
              deltaSync: scheduler.createScheduledTaskRunner({
                frequency: {
                  seconds: settings?.getOptionalNumber('deltaSyncSeconds') ?? 2,
                },
                timeout: { minutes: 2 },
                initialDelay: { seconds: 5 },
              }),
              authProvider:
                settings?.getOptionalString('authProvider') ?? 'kmp',
              brokerCertificateAuthority: settings?.getOptionalString(
                'brokerCertificateAuthority',
              ),
            },
          ),
        );
      },
    });
  },
});
