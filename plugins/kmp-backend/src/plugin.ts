import { MiddlewareFactory } from '@backstage/backend-defaults/rootHttpRouter';
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
import { setupAlerts } from './alerts/setupAlerts';
import { setupAudit } from './audit/setupAudit';
import { setupBreakGlass } from './breakglass/setupBreakGlass';
import { setupBroker } from './broker/setupBroker';
import { setupGitops } from './gitops/setupGitops';
import { setupHealth } from './health/setupHealth';
import { setupPolicy } from './policy/setupPolicy';
import { setupPersonas } from './personas/setupPersonas';
import { setupRegistry } from './registry/setupRegistry';
import { createKmpApiRouter } from './schema/router';
import { KmpDomainContext } from './types';

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
        auth: coreServices.auth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        scheduler: coreServices.scheduler,
        discovery: coreServices.discovery,
        userInfo: coreServices.userInfo,
      },
      async init(deps) {
        const { config, logger, database, httpRouter, permissionsRegistry } =
          deps;
        const db = await migrateDatabase(database);
        const router = createKmpApiRouter();
        const ctx: KmpDomainContext = { ...deps, db, router };

        permissionsRegistry.addPermissions(kmpPermissions);

        // Domains in dependency order; each validates its own config first,
        // so a broken config fails start-up with one line naming the key.
        setupHealth(ctx);
        const audit = await setupAudit(ctx, {
          sinkFactories: auditSinkFactories,
        });
        // The persona policy first: the registry scopes the fleet by it.
        const { personas } = setupPersonas(ctx);
        const registry = await setupRegistry(ctx, { personas });
        const policy = await setupPolicy(ctx, {
          registry,
          readGuard: registry.readGuard,
        });
        await setupAlerts(ctx, {
          clusters: registry.clusters,
          credentialsOf: name => registry.registry.credentialsOf(name),
          personas,
        });
        const breakGlass = await setupBreakGlass(ctx, {
          audit,
          clusters: registry.clusters,
        });
        const broker = await setupBroker(ctx, {
          audit,
          registry,
          policy,
          breakGlass: breakGlass.grants,
        });
        await setupGitops(ctx, {
          audit,
          registry,
          connections: broker.connections,
          policy,
        });

        // KMP answers errors with name and message only, never a stack
        // trace, even when the backend runs in development mode.
        router.use(
          MiddlewareFactory.create({ config, logger }).error({
            showStackTraces: false,
          }),
        );
        // The broker's proxy goes first: the OpenAPI router's JSON body
        // parser would consume the bodies it forwards. It authenticates
        // every request itself, answering 401 as a Kubernetes Status.
        httpRouter.use(broker.proxyRouter);
        httpRouter.addAuthPolicy({ path: '/proxy', allow: 'unauthenticated' });
        httpRouter.use(router);
        httpRouter.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });
        httpRouter.addAuthPolicy({
          path: '/openapi.json',
          allow: 'unauthenticated',
        });
        logger.info(
          `KMP backend ready; audit sink kinds: ${
            [...auditSinkFactories.keys()].join(', ') || 'none'
          }`,
        );
      },
    });
  },
});
