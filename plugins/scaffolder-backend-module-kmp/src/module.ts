import { createBackendModule } from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createManifestsRenderAction } from './actions/manifestsRender';

/**
 * Registers the KMP golden-path actions with the scaffolder.
 *
 * @public
 */
export const scaffolderModuleKmp = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'kmp',
  register(reg) {
    reg.registerInit({
      deps: { scaffolder: scaffolderActionsExtensionPoint },
      async init({ scaffolder }) {
        scaffolder.addActions(createManifestsRenderAction());
      },
    });
  },
});
