import {
  BackstageCredentials,
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';

/** The entity ref of a user principal or the subject of a service. */
export function principalRef(credentials?: BackstageCredentials): string {
  const p = credentials?.principal as
    | { userEntityRef?: string; subject?: string }
    | undefined;
  return p?.userEntityRef ?? p?.subject ?? 'none';
}

/**
 * A permissions service for test backends that denies the listed
 * permissions to the listed principals and allows everything else, for
 * plain and conditional requests alike (the broker asks for conditional
 * decisions; these are definitive). Tests of the persona policy itself use
 * the real permission backend instead.
 */
export function denyListPermissionsFactory(denied: Record<string, string[]>) {
  const decide = (requests: any[], options?: any) => {
    const who = principalRef(options?.credentials);
    return requests.map(r => ({
      result: (denied[who] ?? []).includes(r.permission.name)
        ? AuthorizeResult.DENY
        : AuthorizeResult.ALLOW,
    }));
  };
  return createServiceFactory({
    service: coreServices.permissions,
    deps: {},
    factory: () => ({
      async authorize(requests: any[], options?: any) {
        return decide(requests, options);
      },
      async authorizeConditional(requests: any[], options?: any) {
        return decide(requests, options);
      },
    }),
  });
}

/**
 * A user-info service answering the ownership refs the catalog would give:
 * the user's own ref and the groups listed for them.
 */
export function groupsUserInfoFactory(groups: Record<string, string[]>) {
  return createServiceFactory({
    service: coreServices.userInfo,
    deps: {},
    factory: () => ({
      async getUserInfo(credentials: BackstageCredentials) {
        const ref = principalRef(credentials);
        return {
          userEntityRef: ref,
          ownershipEntityRefs: [ref, ...(groups[ref] ?? [])],
        };
      },
    }),
  });
}

/**
 * The mock HTTP auth, except that a plugin's request on behalf of a user
 * carries the plugin as the actor, as real on-behalf-of tokens do (the
 * permission backend answers conditional decisions only to plugins acting
 * for a user, never to a user directly). A request without a token is
 * anonymous.
 */
export function onBehalfOfHttpAuthFactory() {
  return createServiceFactory({
    service: coreServices.httpAuth,
    deps: { plugin: coreServices.pluginMetadata },
    factory: ({ plugin }) => {
      const inner = mockServices.httpAuth({
        pluginId: plugin.getId(),
        defaultCredentials: mockCredentials.none(),
      });
      const prefix = 'mock-service-token:';
      return {
        async credentials(req: any, options?: any) {
          const token = /^Bearer (.+)$/.exec(
            req.headers.authorization ?? '',
          )?.[1];
          if (token?.startsWith(prefix)) {
            const { obo, target } = JSON.parse(token.slice(prefix.length));
            if (
              obo &&
              target === plugin.getId() &&
              (options?.allow ?? ['user']).includes('user')
            ) {
              return mockCredentials.user(obo, {
                actor: { subject: 'plugin:on-behalf-of' },
              });
            }
          }
          return inner.credentials(req, options);
        },
        issueUserCookie: inner.issueUserCookie.bind(inner),
      } as any;
    },
  });
}

/**
 * The `kmp` configuration of the test backends: a production and a
 * non-production environment group with a profile each, the registry's
 * test key, the team-payments developers and platform engineers, and the
 * GitOps identity `external:gitops`.
 */
export function testKmpConfig() {
  return {
    // The persona RBAC mapper's mapping (impersonation group, audit).
    personas: [
      { group: 'group:default/team-payments', persona: 'developer' },
      { group: 'group:default/platform-team', persona: 'platform-engineer' },
    ],
    environmentGroups: [
      {
        name: 'apps-prod',
        environment: 'production',
        owner: 'group:default/platform-team',
      },
      {
        name: 'apps-nonprod',
        environment: 'non-production',
        owner: 'group:default/platform-team',
      },
    ],
    profiles: [
      {
        name: 'hardened',
        environment: 'production',
        podSecurity: 'restricted',
      },
      {
        name: 'standard',
        environment: 'non-production',
        podSecurity: 'baseline',
      },
    ],
    registry: {
      encryptionKey: 'test-key-test-key-test-key-test-key-0000',
      allowedClusterHosts: ['127.0.0.1'],
      refresh: { intervalSeconds: 3600 },
    },
    broker: { gitopsIdentities: ['external:gitops'] },
  };
}
