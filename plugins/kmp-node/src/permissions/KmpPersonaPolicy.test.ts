import { ConfigReader } from '@backstage/config';
import { createConditionAuthorizer } from '@backstage/plugin-permission-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  checkAccessOfPersonas,
  checkClusterVisibility,
  Connectivity,
  Environment,
  isSystemNamespace,
  KmpAccessRequest,
  kmpAuditReadPermission,
  kmpBreakGlassApprovePermission,
  kmpBreakGlassRequestPermission,
  kmpClusterAccessReadPermission,
  kmpClusterAccessWritePermission,
  kmpClusterDecommissionPermission,
  kmpClusterReadPermission,
  kmpClusterRegisterPermission,
  kmpKubeconfigIssuePermission,
  kmpPolicyManagePermission,
  KUBE_ACTIONS,
  teamsOf,
} from '@kmp/plugin-kmp-common';
import { createPermission } from '@backstage/plugin-permission-common';
import { KmpPersonaPolicy, KmpPolicyUser } from './KmpPersonaPolicy';
import { KmpClusterAccessResource } from './resource';
import { kmpClusterAccessRules } from './rules';

const config = new ConfigReader({
  kmp: {
    environmentGroups: [
      { name: 'payments-prod', environment: 'production' },
      { name: 'payments-nonprod', environment: 'non-production' },
      { name: 'retail-edge', environment: 'edge' },
    ],
    personas: [
      {
        group: 'group:default/team-payments',
        persona: 'developer',
        environmentGroups: ['payments-nonprod', 'payments-prod'],
      },
      {
        group: 'group:default/ops-team',
        persona: 'ops',
        environmentGroups: ['payments-nonprod', 'payments-prod'],
      },
      { group: 'group:default/platform-team', persona: 'platform-engineer' },
      {
        group: 'group:default/retail-ops',
        persona: 'edge-operator',
        environmentGroups: ['retail-edge'],
      },
      {
        group: 'group:default/payments-edge-ops',
        persona: 'edge-operator',
        environmentGroups: ['payments-prod'],
      },
      { group: 'group:default/edge-everywhere', persona: 'edge-operator' },
    ],
    broker: { gitopsIdentities: ['user:default/flux'] },
  },
});
const policy = KmpPersonaPolicy.fromConfig(config);
const authorize = createConditionAuthorizer(
  Object.values(kmpClusterAccessRules),
);

const user = (name: string, group?: string) => ({
  userEntityRef: `user:default/${name}`,
  ownershipEntityRefs: [
    `user:default/${name}`,
    ...(group ? [`group:default/${group}`] : []),
  ],
});
const alice = user('alice', 'team-payments');
const oscar = user('oscar', 'ops-team');
const petra = user('petra', 'platform-team');
const eddie = user('eddie', 'retail-ops');
const nobody = user('nobody');

const clusters: Array<{ name: string; group: string; env: Environment }> = [
  { name: 'prod', group: 'payments-prod', env: 'production' },
  { name: 'dev', group: 'payments-nonprod', env: 'non-production' },
  { name: 'store', group: 'retail-edge', env: 'edge' },
];

const namespaces: Array<Omit<KmpAccessRequest, 'action'>> = [
  {},
  { discovery: true },
  { namespace: 'payments', namespaceTeam: 'team-payments' },
  { namespace: 'retail', namespaceTeam: 'team-retail' },
  { namespace: 'scratch' },
  {
    namespace: 'kube-system',
    systemNamespace: isSystemNamespace('kube-system'),
  },
  { namespace: 'payments', namespaceTeam: 'team-payments', breakGlass: true },
];

describe('KmpPersonaPolicy', () => {
  it.each([
    ['alice', alice],
    ['oscar', oscar],
    ['petra', petra],
    ['eddie', eddie],
    ['nobody', nobody],
  ])(
    'decides broker access for %s exactly as the matrix does, cell by cell',
    (_name, who) => {
      for (const permission of [
        kmpClusterAccessReadPermission,
        kmpClusterAccessWritePermission,
      ]) {
        const decision = policy.decide(permission, who);
        let cells = 0;
        for (const cluster of clusters) {
          for (const action of KUBE_ACTIONS) {
            const isRead = ['read', 'read-secrets', 'logs'].includes(action);
            if (permission === kmpClusterAccessReadPermission && !isRead) {
              continue;
            }
            for (const place of namespaces) {
              const request = { ...place, action };
              const resource: KmpClusterAccessResource = {
                name: cluster.name,
                environmentGroup: cluster.group,
                environment: cluster.env,
                request,
              };
              const expected = checkAccessOfPersonas({
                personas: policy.personasIn(
                  who.ownershipEntityRefs,
                  cluster.group,
                ),
                environmentGroup: cluster.group,
                environment: cluster.env,
                request,
                teams: teamsOf(who.ownershipEntityRefs),
              }).allowed;
              expect([
                cluster.name,
                request,
                authorize(decision, resource),
              ]).toEqual([cluster.name, request, expected]);
              cells += 1;
            }
          }
        }
        expect(cells).toBeGreaterThan(0);
      }
    },
  );

  it('treats a bare cluster (no request) as the cluster as a whole', () => {
    const bare = (group: string, environment: Environment) => ({
      name: 'c',
      environmentGroup: group,
      environment,
    });
    const aliceWrite = policy.decide(kmpClusterAccessWritePermission, alice);
    expect(
      authorize(aliceWrite, bare('payments-nonprod', 'non-production')),
    ).toBe(true);
    expect(authorize(aliceWrite, bare('retail-edge', 'edge'))).toBe(false);
    const eddieRead = policy.decide(kmpClusterAccessReadPermission, eddie);
    expect(authorize(eddieRead, bare('payments-prod', 'production'))).toBe(
      false,
    );
  });

  it('lets the GitOps identity do everything and nobody without a persona anything', () => {
    expect(
      policy.decide(kmpClusterAccessWritePermission, user('flux')).result,
    ).toBe(AuthorizeResult.ALLOW);
    expect(policy.decide(kmpClusterAccessWritePermission, nobody).result).toBe(
      AuthorizeResult.DENY,
    );
    expect(
      policy.decide(kmpClusterAccessReadPermission, undefined).result,
    ).toBe(AuthorizeResult.DENY);
  });

  it('leaves permissions of other plugins alone', () => {
    const catalogRead = createPermission({
      name: 'catalog.entity.read',
      attributes: { action: 'read' },
    });
    expect(policy.decide(catalogRead, nobody).result).toBe(
      AuthorizeResult.ALLOW,
    );
  });

  it('gives platform management to platform engineers only', () => {
    for (const p of [kmpClusterRegisterPermission, kmpPolicyManagePermission]) {
      expect(policy.decide(p, petra).result).toBe(AuthorizeResult.ALLOW);
      for (const other of [alice, oscar, eddie, nobody]) {
        expect(policy.decide(p, other).result).toBe(AuthorizeResult.DENY);
      }
    }
    expect(policy.decide(kmpClusterDecommissionPermission, petra).result).toBe(
      AuthorizeResult.ALLOW,
    );
    expect(policy.decide(kmpClusterDecommissionPermission, oscar).result).toBe(
      AuthorizeResult.DENY,
    );
    // Unknown KMP permissions default to platform engineers.
    const future = createPermission({
      name: 'kmp.something.new',
      attributes: {},
    });
    expect(policy.decide(future, petra).result).toBe(AuthorizeResult.ALLOW);
    expect(policy.decide(future, oscar).result).toBe(AuthorizeResult.DENY);
  });

  it.each([
    ['alice', alice],
    ['oscar', oscar],
    ['petra', petra],
    ['eddie', eddie],
    ['an edge operator of a production group', user('x', 'payments-edge-ops')],
    ['an edge operator everywhere', user('y', 'edge-everywhere')],
    [
      'a developer and edge operator of the same group',
      {
        userEntityRef: 'user:default/z',
        ownershipEntityRefs: [
          'user:default/z',
          'group:default/team-payments',
          'group:default/payments-edge-ops',
        ],
      },
    ],
    ['nobody', nobody],
  ])(
    'lets %s read the clusters checkClusterVisibility shows, and no others',
    (_name, who) => {
      const fleet: Array<{
        name: string;
        environmentGroup: string;
        environment: Environment;
        connectivity: Connectivity;
        tenants?: Array<{ namespace: string; team: string }>;
      }> = [
        ...clusters.map((c, i) => ({
          name: c.name,
          environmentGroup: c.group,
          environment: c.env,
          connectivity: 'direct' as const,
          // The first has the payments team's namespace, the second another
          // team's, the rest none observed.
          ...(i === 0
            ? { tenants: [{ namespace: 'payments', team: 'team-payments' }] }
            : {}),
          ...(i === 1
            ? { tenants: [{ namespace: 'search', team: 'team-search' }] }
            : {}),
        })),
        {
          name: 'store-async',
          environmentGroup: 'retail-edge',
          environment: 'edge',
          connectivity: 'edge-async',
        },
        // An edge cluster of a group marked production.
        {
          name: 'prod-store',
          environmentGroup: 'payments-prod',
          environment: 'production',
          connectivity: 'edge',
        },
        {
          name: 'elsewhere',
          environmentGroup: 'unmapped',
          environment: 'non-production',
          connectivity: 'direct',
        },
      ];
      const decision = policy.decide(kmpClusterReadPermission, who);
      const seen = fleet.filter(cluster => authorize(decision, cluster));
      const expected = fleet.filter(
        cluster =>
          checkClusterVisibility({
            personas: policy.personasIn(
              who.ownershipEntityRefs,
              cluster.environmentGroup,
            ),
            teams: teamsOf(who.ownershipEntityRefs),
            cluster,
          }).allowed,
      );
      expect(seen.map(c => c.name)).toEqual(expected.map(c => c.name));
    },
  );

  it('scopes the fleet by persona: whole groups, edge clusters for edge operators, nothing without a persona', () => {
    const conditionsOf = (who: KmpPolicyUser) => {
      const decision = policy.decide(kmpClusterReadPermission, who);
      return decision.result === AuthorizeResult.CONDITIONAL
        ? decision.conditions
        : decision.result;
    };
    expect(conditionsOf(petra)).toBe(AuthorizeResult.ALLOW);
    expect(conditionsOf(nobody)).toBe(AuthorizeResult.DENY);
    expect(conditionsOf(oscar)).toEqual({
      rule: 'KMP_IN_ENVIRONMENT_GROUPS',
      resourceType: 'kmp-cluster',
      params: { environmentGroups: ['payments-nonprod', 'payments-prod'] },
    });
    expect(conditionsOf(alice)).toEqual({
      allOf: [
        {
          rule: 'KMP_IN_ENVIRONMENT_GROUPS',
          resourceType: 'kmp-cluster',
          params: { environmentGroups: ['payments-nonprod', 'payments-prod'] },
        },
        {
          rule: 'KMP_HAS_TENANT_OF_TEAMS',
          resourceType: 'kmp-cluster',
          params: { teams: ['team-payments'] },
        },
      ],
    });
    const aliceRead = policy.decide(kmpClusterReadPermission, alice);
    const payments = {
      name: 'p',
      environmentGroup: 'payments-prod',
      environment: 'production' as const,
    };
    expect(
      authorize(aliceRead, {
        ...payments,
        tenants: [{ namespace: 'checkout', team: 'team-payments' }],
      }),
    ).toBe(true);
    expect(
      authorize(aliceRead, {
        ...payments,
        tenants: [{ namespace: 'search', team: 'team-search' }],
      }),
    ).toBe(false);
    expect(authorize(aliceRead, payments)).toBe(false);
    expect(conditionsOf(eddie)).toEqual({
      allOf: [
        {
          rule: 'KMP_IN_ENVIRONMENT_GROUPS',
          resourceType: 'kmp-cluster',
          params: { environmentGroups: ['retail-edge'] },
        },
        { rule: 'KMP_EDGE_CLUSTER', resourceType: 'kmp-cluster' },
      ],
    });
    expect(conditionsOf(user('y', 'edge-everywhere'))).toEqual({
      rule: 'KMP_EDGE_CLUSTER',
      resourceType: 'kmp-cluster',
    });
    expect(policy.decide(kmpClusterReadPermission, user('flux')).result).toBe(
      AuthorizeResult.ALLOW,
    );
    expect(policy.decide(kmpClusterReadPermission, undefined).result).toBe(
      AuthorizeResult.DENY,
    );
  });

  it('scopes kubeconfigs and break-glass requests to environment groups', () => {
    const bare = (c: (typeof clusters)[0]) => ({
      name: c.name,
      environmentGroup: c.group,
      environment: c.env,
    });
    const kubeconfig = policy.decide(kmpKubeconfigIssuePermission, alice);
    expect(kubeconfig.result).toBe(AuthorizeResult.CONDITIONAL);
    expect(clusters.map(c => authorize(kubeconfig, bare(c)))).toEqual([
      true,
      true,
      false,
    ]);
    const request = policy.decide(kmpBreakGlassRequestPermission, alice);
    expect(clusters.map(c => authorize(request, bare(c)))).toEqual([
      true,
      false,
      false,
    ]);
    const eddieRequest = policy.decide(kmpBreakGlassRequestPermission, eddie);
    expect(clusters.map(c => authorize(eddieRequest, bare(c)))).toEqual([
      false,
      false,
      true,
    ]);
  });

  it('keeps edge operators to edge clusters at the broker, for kubeconfigs and for break-glass, as in the fleet', () => {
    // An edge operator of a production group: its edge clusters (reached
    // through an agent) are theirs, its data-centre clusters are not.
    const sam = user('sam', 'payments-edge-ops');
    const direct: KmpClusterAccessResource = {
      name: 'prod',
      environmentGroup: 'payments-prod',
      environment: 'production',
      connectivity: 'direct',
    };
    const store: KmpClusterAccessResource = {
      name: 'store-7',
      environmentGroup: 'payments-prod',
      environment: 'production',
      connectivity: 'edge-async',
    };
    const logs = { action: 'logs' as const, namespace: 'payments' };
    const read = policy.decide(kmpClusterAccessReadPermission, sam);
    expect(authorize(read, { ...direct, request: logs })).toBe(false);
    expect(authorize(read, { ...store, request: logs })).toBe(true);
    for (const permission of [
      kmpKubeconfigIssuePermission,
      kmpBreakGlassRequestPermission,
    ]) {
      const decision = policy.decide(permission, sam);
      expect([authorize(decision, direct), authorize(decision, store)]).toEqual(
        [false, true],
      );
    }
    // Edge operators of every group are not allowed everywhere either.
    const anywhere = policy.decide(
      kmpKubeconfigIssuePermission,
      user('y', 'edge-everywhere'),
    );
    expect(anywhere.result).toBe(AuthorizeResult.CONDITIONAL);
    expect([authorize(anywhere, direct), authorize(anywhere, store)]).toEqual([
      false,
      true,
    ]);
  });

  it('lets production ops and platform engineers approve break-glass, and keeps the audit from developers', () => {
    expect(policy.decide(kmpBreakGlassApprovePermission, oscar).result).toBe(
      AuthorizeResult.ALLOW,
    );
    expect(policy.decide(kmpBreakGlassApprovePermission, alice).result).toBe(
      AuthorizeResult.DENY,
    );
    expect(policy.decide(kmpBreakGlassApprovePermission, eddie).result).toBe(
      AuthorizeResult.DENY,
    );
    expect(policy.decide(kmpAuditReadPermission, oscar).result).toBe(
      AuthorizeResult.ALLOW,
    );
    expect(policy.decide(kmpAuditReadPermission, alice).result).toBe(
      AuthorizeResult.DENY,
    );
  });

  it('lists personas per environment group', () => {
    expect(policy.assignments(alice.ownershipEntityRefs)).toEqual([
      {
        environmentGroup: 'payments-prod',
        environment: 'production',
        persona: 'developer',
      },
      {
        environmentGroup: 'payments-nonprod',
        environment: 'non-production',
        persona: 'developer',
      },
    ]);
    expect(policy.assignments(petra.ownershipEntityRefs)).toHaveLength(3);
  });

  it('fails start-up with the key of a malformed mapping', () => {
    expect(() =>
      KmpPersonaPolicy.fromConfig(
        new ConfigReader({
          kmp: { personas: [{ group: 'group:default/x', persona: 'admin' }] },
        }),
      ),
    ).toThrow(/^Invalid configuration at kmp\.personas\[0\]\.persona: /);
  });
});
