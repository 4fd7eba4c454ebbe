import { MiddlewareFactory } from '@backstage/backend-defaults/rootHttpRouter';
import {
  HttpAuthService,
  LoggerService,
  PermissionsService,
  RootConfigService,
} from '@backstage/backend-plugin-api';
import express from 'express';
import { Knex } from 'knex';
import { mountRegistryRoutes } from './registry/createRegistryRouter';
import { EnvironmentGroupStore } from './registry/EnvironmentGroupStore';
import { createKmpApiRouter } from './schema/router';

export interface RouterOptions {
  config: RootConfigService;
  logger: LoggerService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  db: Knex;
  environmentGroups: EnvironmentGroupStore;
}

/**
 * Mounts the domain routers on one OpenAPI-validated router.
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { logger, db } = options;
  const router = createKmpApiRouter();

  router.get('/health', async (_req, res) => {
    try {
      await db.raw('select 1');
      res.json({ status: 'ok', database: 'ok' });
    } catch (error) {
      logger.warn(`KMP health check: database unavailable: ${error}`);
      res.status(503).json({ status: 'unavailable', database: 'unavailable' });
    }
  });

  mountRegistryRoutes(router, options);

  // KMP answers errors with name and message only, never a stack trace, even
  // when the backend runs in development mode.
  router.use(
    MiddlewareFactory.create({ config: options.config, logger }).error({
      showStackTraces: false,
    }),
  );
  return router;
}
