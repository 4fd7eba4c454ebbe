import { createBackendModule } from '@backstage/backend-plugin-api';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { KmpClusterEntityProcessor } from './processor/KmpClusterEntityProcessor';

/**
 * Registers the KMP processor with the catalog.
 *
 * @public
 */
export const catalogModuleKmp = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'kmp',
  register(reg) {
    reg.registerInit({
      deps: { catalog: catalogProcessingExtensionPoint },
      async init({ catalog }) {
        catalog.addProcessor(new KmpClusterEntityProcessor());
      },
    });
  },
});
