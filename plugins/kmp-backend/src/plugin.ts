import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { kmpPermissions } from '@kmp/plugin-kmp-common';
import {
  KmpAuditSinkFactory,
  kmpAuditSinksExtensionPoint,
} from '@kmp/plugin-kmp-node';
import { migrateDatabase } from './database/migrateDatabase';
import { readEnvironmentGroupsConfig } from './registry/config';
import { EnvironmentGroupStore } from './registry/EnvironmentGroupStore';
import { createRouter } from './router';

/**
 * The KMP backend plugin: cluster registry, access broker, audit trail and
 * policy governance under `/api/kmp`.
 *
 * @public
 */
export const kmpPlugin = createBackendPlugin({
  pluginId: 'kmp',
  register(env) {
    const auditSinkFactories = new Map<string, KmpAuditSinkFactory>();
    env.registerExtensionPoint(kmpAuditSinksExtensionPoint, {
      addSinkFactory(...factories) {
        for (const factory of factories) {
          if (auditSinkFactories.has(factory.kind)) {
            throw new Error(
              `KMP audit sink kind '${factory.kind}' is registered twice`,
            );
          }
          auditSinkFactories.set(factory.kind, factory);
        }
      },
    });

    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
      },
      async init({
        config,
        logger,
        database,
        httpAuth,
        httpRouter,
        permissions,
        permissionsRegistry,
      }) {
        // Validate configuration before touching anything else, so that a
        // broken config fails start-up with one line naming the key.
        const environmentGroupsConfig = readEnvironmentGroupsConfig(config);

        const db = await migrateDatabase(database);
        const environmentGroups = EnvironmentGroupStore.create({ db });
        await environmentGroups.syncFromConfig(environmentGroupsConfig);

        permissionsRegistry.addPermissions(kmpPermissions);

        httpRouter.use(
          await createRouter({
            config,
            logger,
            httpAuth,
            permissions,
            db,
            environmentGroups,
          }),
        );
        httpRouter.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });
        httpRouter.addAuthPolicy({
          path: '/openapi.json',
          allow: 'unauthenticated',
        });
        logger.info(
          `KMP backend ready with ${
            environmentGroupsConfig.length
          } configured environment group(s); audit sink kinds: ${
            [...auditSinkFactories.keys()].join(', ') || 'none'
          }`,
        );
      },
    });
  },
});
