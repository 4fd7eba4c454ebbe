import {
  AuditorService,
  AuthService,
  DiscoveryService,
  HttpAuthService,
  LoggerService,
  PermissionsRegistryService,
  PermissionsService,
  RootConfigService,
  SchedulerService,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { KmpApiRouter } from './schema/router';

/**
 * What every domain of the KMP backend gets at start-up. A domain's
 * `setup<Domain>` function validates its config, creates its stores and
 * services, mounts its routes on `router`, and returns the services other
 * domains may use.
 */
export interface KmpDomainContext {
  config: RootConfigService;
  logger: LoggerService;
  db: Knex;
  router: KmpApiRouter;
  httpAuth: HttpAuthService;
  auth: AuthService;
  permissions: PermissionsService;
  permissionsRegistry: PermissionsRegistryService;
  auditor: AuditorService;
  scheduler: SchedulerService;
  discovery: DiscoveryService;
  userInfo: UserInfoService;
}
