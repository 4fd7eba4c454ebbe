import {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { kmpEnvironmentGroupReadPermission } from '@kmp/plugin-kmp-common';
import { KmpApiRouter } from '../schema/router';
import { EnvironmentGroupStore } from './EnvironmentGroupStore';

export function mountRegistryRoutes(
  router: KmpApiRouter,
  deps: {
    httpAuth: HttpAuthService;
    permissions: PermissionsService;
    environmentGroups: EnvironmentGroupStore;
  },
) {
  const { httpAuth, permissions, environmentGroups } = deps;

  router.get('/environment-groups', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const [decision] = await permissions.authorize(
      [{ permission: kmpEnvironmentGroupReadPermission }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `not allowed to ${kmpEnvironmentGroupReadPermission.name}`,
      );
    }
    res.json({ items: await environmentGroups.list() });
  });
}
