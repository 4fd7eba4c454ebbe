import { NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { kmpEnvironmentGroupReadPermission } from '@kmp/plugin-kmp-common';
import { KmpDomainContext } from '../types';
import { readEnvironmentGroupsConfig } from './config';
import { EnvironmentGroupStore } from './EnvironmentGroupStore';

/**
 * The cluster registry: environment groups, clusters, profiles.
 */
export async function setupRegistry(ctx: KmpDomainContext) {
  const { config, db, router, httpAuth, permissions } = ctx;

  const environmentGroupsConfig = readEnvironmentGroupsConfig(config);
  const environmentGroups = EnvironmentGroupStore.create({ db });
  await environmentGroups.syncFromConfig(environmentGroupsConfig);

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

  return { environmentGroups };
}
