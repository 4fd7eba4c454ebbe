import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { KmpPermissionPolicy } from './KmpPermissionPolicy';

/**
 * The persona RBAC mapper as the permission backend's policy.
 *
 * @public
 */
export const permissionModuleKmpPolicy = createBackendModule({
  pluginId: 'permission',
  moduleId: 'kmp-policy',
  register(reg) {
    reg.registerInit({
      deps: {
        policy: policyExtensionPoint,
        config: coreServices.rootConfig,
        userInfo: coreServices.userInfo,
        logger: coreServices.logger,
      },
      async init({ policy, config, userInfo, logger }) {
        policy.setPolicy(KmpPermissionPolicy.fromConfig(config, { userInfo }));
        logger.info(
          `KMP persona policy: ${
            (config.getOptional<unknown[]>('kmp.personas') ?? []).length
          } persona mapping(s)`,
        );
      },
    });
  },
});
