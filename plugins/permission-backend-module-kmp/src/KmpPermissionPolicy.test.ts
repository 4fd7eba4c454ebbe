import { ConfigReader } from '@backstage/config';
import { mockCredentials } from '@backstage/backend-test-utils';
import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import {
  kmpClusterAccessWritePermission,
  kmpClusterReadPermission,
  kmpClusterRegisterPermission,
} from '@kmp/plugin-kmp-common';
import { KmpPermissionPolicy } from './KmpPermissionPolicy';

describe('KmpPermissionPolicy', () => {
  const config = new ConfigReader({
    kmp: {
      environmentGroups: [{ name: 'apps-prod', environment: 'production' }],
      personas: [
        { group: 'group:default/platform-team', persona: 'platform-engineer' },
      ],
    },
  });
  const userInfo = {
    async getUserInfo(credentials: any) {
      const ref = credentials.principal.userEntityRef;
      return {
        userEntityRef: ref,
        ownershipEntityRefs:
          ref === 'user:default/petra'
            ? [ref, 'group:default/platform-team']
            : [ref],
      };
    },
  };
  const policy = KmpPermissionPolicy.fromConfig(config, { userInfo });
  const user = (ref: string) => {
    const credentials = mockCredentials.user(ref);
    return {
      credentials,
      info: { userEntityRef: ref, ownershipEntityRefs: [ref] },
    };
  };

  it('decides KMP permissions from the personas of the user’s groups', async () => {
    expect(
      (
        await policy.handle(
          { permission: kmpClusterRegisterPermission },
          user('user:default/petra'),
        )
      ).result,
    ).toBe(AuthorizeResult.ALLOW);
    expect(
      (
        await policy.handle(
          { permission: kmpClusterRegisterPermission },
          user('user:default/alice'),
        )
      ).result,
    ).toBe(AuthorizeResult.DENY);
    expect(
      await policy.handle(
        { permission: kmpClusterAccessWritePermission },
        user('user:default/petra'),
      ),
    ).toMatchObject({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'kmp',
      resourceType: 'kmp-cluster',
    });
  });

  it('scopes kmp.cluster.read to the environment groups of the user’s personas', async () => {
    const groups: Record<string, string[]> = {
      'user:default/petra': ['group:default/platform-team'],
      'user:default/oscar': ['group:default/ops-team'],
    };
    const scoped = KmpPermissionPolicy.fromConfig(
      new ConfigReader({
        kmp: {
          environmentGroups: [
            { name: 'apps-prod', environment: 'production' },
            { name: 'stores', environment: 'edge' },
          ],
          personas: [
            {
              group: 'group:default/platform-team',
              persona: 'platform-engineer',
            },
            {
              group: 'group:default/ops-team',
              persona: 'ops',
              environmentGroups: ['apps-prod'],
            },
          ],
        },
      }),
      {
        userInfo: {
          async getUserInfo(credentials: any) {
            const ref = credentials.principal.userEntityRef;
            return {
              userEntityRef: ref,
              ownershipEntityRefs: [ref, ...(groups[ref] ?? [])],
            };
          },
        },
      },
    );
    const read = (ref: string) =>
      scoped.handle({ permission: kmpClusterReadPermission }, user(ref));
    // A platform engineer of every group sees the whole fleet.
    expect((await read('user:default/petra')).result).toBe(
      AuthorizeResult.ALLOW,
    );
    expect(await read('user:default/oscar')).toEqual({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'kmp',
      resourceType: 'kmp-cluster',
      conditions: {
        rule: 'KMP_IN_ENVIRONMENT_GROUPS',
        resourceType: 'kmp-cluster',
        params: { environmentGroups: ['apps-prod'] },
      },
    });
    // Without a persona, no cluster.
    expect((await read('user:default/bob')).result).toBe(AuthorizeResult.DENY);
  });

  it('keeps other plugins’ permissions allowed, signed in or not', async () => {
    const catalogRead = createPermission({
      name: 'catalog.entity.read',
      attributes: { action: 'read' },
    });
    expect(
      (await policy.handle({ permission: catalogRead }, user('user:default/x')))
        .result,
    ).toBe(AuthorizeResult.ALLOW);
    expect((await policy.handle({ permission: catalogRead })).result).toBe(
      AuthorizeResult.ALLOW,
    );
    expect(
      (await policy.handle({ permission: kmpClusterRegisterPermission }))
        .result,
    ).toBe(AuthorizeResult.DENY);
  });
});
