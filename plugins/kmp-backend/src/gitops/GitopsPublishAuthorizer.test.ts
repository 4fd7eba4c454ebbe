import {
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { mockCredentials } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { NotAllowedError } from '@backstage/errors';
import { Environment, RegisteredCluster } from '@kmp/plugin-kmp-common';
import { KmpPersonaPolicy } from '@kmp/plugin-kmp-node';
import { CallerIdentity, PersonaResolver } from '../broker/identity';
import { NamespaceFacts } from '../personas/NamespaceDirectory';
import { GitopsPublishAuthorizer } from './GitopsPublishAuthorizer';

const config = new ConfigReader({
  kmp: {
    environmentGroups: [
      { name: 'payments-prod', environment: 'production' },
      { name: 'payments-nonprod', environment: 'non-production' },
    ],
    personas: [
      { group: 'group:default/team-payments', persona: 'developer' },
      { group: 'group:default/ops-team', persona: 'ops' },
      { group: 'group:default/platform-team', persona: 'platform-engineer' },
    ],
    broker: { gitopsIdentities: ['user:default/flux'] },
  },
});
const policy = KmpPersonaPolicy.fromConfig(config);

const GROUPS: Record<string, string[]> = {
  'user:default/dave': ['group:default/team-payments'],
  'user:default/olga': ['group:default/ops-team'],
  'user:default/petra': ['group:default/platform-team'],
  'user:default/flux': [],
  'user:default/nobody': [],
};
const groupsOf = (ref: string) => GROUPS[ref] ?? [];

/**
 * The permission framework as a backend with the KMP permission policy
 * module answers: the persona policy's (conditional) decisions.
 */
const permissions = {
  async authorizeConditional(requests, options) {
    const principal = options.credentials.principal as {
      userEntityRef: string;
    };
    return requests.map(r =>
      policy.decide(r.permission, {
        userEntityRef: principal.userEntityRef,
        ownershipEntityRefs: [
          principal.userEntityRef,
          ...groupsOf(principal.userEntityRef),
        ],
      }),
    );
  },
} as Pick<PermissionsService, 'authorizeConditional'> as PermissionsService;

/** Namespace labels as the cluster would have them. */
const NAMESPACES: Record<string, NamespaceFacts> = {
  'team-payments': { exists: true, team: 'team-payments', system: false },
  'team-retail': { exists: true, team: 'team-retail', system: false },
  'kube-system': { exists: true, system: true },
};

function start() {
  const lookups: string[] = [];
  const authorizer = GitopsPublishAuthorizer.create({
    permissions,
    personas: PersonaResolver.fromPolicy(policy),
    namespaces: {
      async lookup(_cluster, namespace) {
        lookups.push(namespace);
        return NAMESPACES[namespace] ?? { exists: false, system: false };
      },
    },
  });
  return { authorizer, lookups };
}

const cluster = (environment: Environment): RegisteredCluster => ({
  name: environment === 'production' ? 'prod-eu1' : 'dev-eu1',
  environment,
  environmentGroup:
    environment === 'production' ? 'payments-prod' : 'payments-nonprod',
  region: 'eu-west-1',
  profile: 'standard',
  connectivity: 'direct',
  lifecycleState: 'active',
  owner: 'group:default/platform-team',
  source: 'api',
  status: {},
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  revision: 1,
});

const who = (ref: string): CallerIdentity => ({
  credentials: mockCredentials.user(ref) as BackstageCredentials,
  kind: 'user',
  ref,
  groups: groupsOf(ref),
  gitops: ref === 'user:default/flux',
});

const outcome = (p: Promise<void>) =>
  p.then(
    () => 'allowed',
    e => {
      if (!(e instanceof NotAllowedError)) throw e;
      return e.message;
    },
  );

describe('GitopsPublishAuthorizer', () => {
  it.each<[string, string, Environment, string, string]>([
    // PERSONAS.md, "create / change / delete objects": directly outside
    // production, through Git in production, within the persona's scope.
    ['developer', 'dave', 'non-production', 'team-payments', 'allowed'],
    ['developer', 'dave', 'production', 'team-payments', 'allowed'],
    [
      'developer',
      'dave',
      'production',
      'team-retail',
      'namespace team-retail belongs to team team-retail',
    ],
    [
      'developer',
      'dave',
      'non-production',
      'team-retail',
      'namespace team-retail belongs to team team-retail',
    ],
    [
      'developer',
      'dave',
      'production',
      'kube-system',
      'system namespace kube-system is for ops and platform engineers',
    ],
    ['ops', 'olga', 'production', 'team-retail', 'allowed'],
    [
      'ops',
      'olga',
      'production',
      'kube-system',
      'system namespace kube-system is read-only for the Ops persona',
    ],
    ['platform engineer', 'petra', 'production', 'kube-system', 'allowed'],
    [
      'no persona',
      'nobody',
      'production',
      'team-payments',
      'no KMP persona in environment group payments-prod',
    ],
    ['the GitOps identity', 'flux', 'production', 'team-payments', 'allowed'],
  ])('%s %s in %s, namespace %s: %s', async (_p, user, env, ns, expected) => {
    const { authorizer } = start();
    await expect(
      outcome(
        authorizer.authorize(who(`user:default/${user}`), cluster(env), ns),
      ),
    ).resolves.toBe(expected);
  });

  it("does not read the namespace's labels when no rule depends on them", async () => {
    const { authorizer, lookups } = start();
    await authorizer.authorize(
      who('user:default/petra'),
      cluster('production'),
      'team-payments',
    );
    expect(lookups).toEqual([]);
  });
});
