import { ConfigReader } from '@backstage/config';
import { mockCredentials } from '@backstage/backend-test-utils';
import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import {
  kmpClusterAccessWritePermission,
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
