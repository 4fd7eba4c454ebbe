import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createApplyAction } from './actions/apply';
import { createClusterRegisterAction } from './actions/clusterRegister';
import { createGitopsPublishAction } from './actions/gitopsPublish';
import { createManifestsRenderAction } from './actions/manifestsRender';
import { createNamespaceCreateAction } from './actions/namespaceCreate';
import { createPolicyCheckAction } from './actions/policyCheck';
import { readGoldenPathsConfig } from './config';

/**
 * Registers the KMP golden-path actions with the scaffolder. Every action
 * that touches KMP calls the KMP backend as the user who runs the template.
 *
 * @public
 */
export const scaffolderModuleKmp = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'kmp',
  register(reg) {
    reg.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
        auth: coreServices.auth,
        discovery: coreServices.discovery,
      },
      async init({ scaffolder, config, auth, discovery }) {
        // A malformed kmp.goldenPaths stops start-up with one line.
        const goldenPaths = readGoldenPathsConfig(config);
        const deps = { auth, discovery };
        scaffolder.addActions(
          createManifestsRenderAction(),
          createNamespaceCreateAction({ ...deps, config: goldenPaths }),
          createPolicyCheckAction(deps),
          createApplyAction(deps),
          createGitopsPublishAction({ ...deps, config: goldenPaths }),
          createClusterRegisterAction(deps),
        );
      },
    });
  },
});
