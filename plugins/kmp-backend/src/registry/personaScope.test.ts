import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import permissionPlugin from '@backstage/plugin-permission-backend';
import kmpPolicyModule from '@kmp/plugin-permission-backend-module-kmp';
import http from 'node:http';
import request from 'supertest';
import { kmpPlugin } from '../plugin';
import {
  groupsUserInfoFactory,
  onBehalfOfHttpAuthFactory,
} from '../__testUtils__/testServices';

/**
 * The fleet API scoped by persona (PERSONAS.md, "which clusters"), with a
 * real permission backend and KMP's policy module: the list is filtered in
 * the database (paging and totals are those of the visible fleet), and a
 * cluster outside the caller's scope is refused by name with the rule.
 */

/** Ownership refs per user, as the catalog gives them. */
const GROUPS: Record<string, string[]> = {
  'user:default/alice': ['group:default/team-payments'],
  'user:default/oscar': ['group:default/ops-team'],
  'user:default/petra': ['group:default/platform-team'],
  'user:default/eddie': ['group:default/retail-ops'],
  'user:default/sam': ['group:default/payments-store-ops'],
  'user:default/nobody': ['group:default/marketing'],
};

const userInfoFactory = groupsUserInfoFactory(GROUPS);
const httpAuthFactory = onBehalfOfHttpAuthFactory();

const as = (name: string) =>
  mockCredentials.user.header(`user:default/${name}`);

const group = (name: string, environment: string) => ({
  name,
  environment,
  owner: 'group:default/platform-team',
});

/** The fleet: name → environment group and connectivity. */
const FLEET: Record<string, [string, 'direct' | 'edge' | 'edge-async']> = {
  'pay-prod-1': ['payments-prod', 'direct'],
  'pay-prod-2': ['payments-prod', 'direct'],
  'pay-prod-3': ['payments-prod', 'direct'],
  // An in-store cluster of a production group, reached through its agent.
  'pay-store-1': ['payments-prod', 'edge'],
  'pay-dev-1': ['payments-nonprod', 'direct'],
  'pay-dev-2': ['payments-nonprod', 'direct'],
  'pay-dev-3': ['payments-nonprod', 'direct'],
  'pay-dev-4': ['payments-nonprod', 'direct'],
  'store-0001': ['retail-edge', 'edge-async'],
  'store-0002': ['retail-edge', 'edge-async'],
  'store-0003': ['retail-edge', 'direct'],
  'mkt-dev-1': ['marketing-nonprod', 'direct'],
};
/**
 * Tenant namespaces as the refresh loop would have recorded them (the probe
 * itself is tested against real clusters in registry.testbed.test.ts).
 */
const TENANTS: Array<[string, string, string]> = [
  ['pay-prod-1', 'checkout', 'team-payments'],
  ['pay-prod-2', 'search', 'team-search'],
  ['pay-dev-2', 'checkout-dev', 'team-payments'],
  ['pay-dev-2', 'search-dev', 'team-search'],
  // Not the payments developers' group.
  ['mkt-dev-1', 'campaigns', 'team-payments'],
];
const ALL = Object.keys(FLEET).sort();
const inGroups = (...groups: string[]) =>
  ALL.filter(name => groups.includes(FLEET[name][0]));
const PAYMENTS = inGroups('payments-prod', 'payments-nonprod');
const RETAIL = inGroups('retail-edge');
/** alice's: the payments clusters with a team-payments namespace. */
const ALICE = ['pay-dev-2', 'pay-prod-1'];

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('the fleet API scoped by persona', () => {
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let server: http.Server;

  const list = (who: string, query = '') =>
    request(server)
      .get(`/api/kmp/clusters${query ? `?${query}` : ''}`)
      .set('Authorization', as(who));
  const names = (res: request.Response) =>
    res.body.items.map((c: { name: string }) => c.name);

  beforeAll(async () => {
    const knex = await databases.init('SQLITE_3');
    backend = await startTestBackend({
      features: [
        kmpPlugin,
        mockServices.database.factory({ knex }),
        permissionPlugin,
        kmpPolicyModule,
        httpAuthFactory,
        userInfoFactory,
        mockServices.rootConfig.factory({
          data: {
            permission: { enabled: true },
            kmp: {
              environmentGroups: [
                group('payments-prod', 'production'),
                group('payments-nonprod', 'non-production'),
                group('retail-edge', 'edge'),
                group('marketing-nonprod', 'non-production'),
              ],
              profiles: [
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
                {
                  group: 'group:default/platform-team',
                  persona: 'platform-engineer',
                },
                {
                  group: 'group:default/retail-ops',
                  persona: 'edge-operator',
                  environmentGroups: ['retail-edge'],
                },
                {
                  group: 'group:default/payments-store-ops',
                  persona: 'edge-operator',
                  environmentGroups: ['payments-prod'],
                },
              ],
            },
          },
        }),
      ],
    });
    server = backend.server as http.Server;

    for (const [name, [environmentGroup, connectivity]] of Object.entries(
      FLEET,
    )) {
      const registered = await request(server)
        .post('/api/kmp/clusters')
        .set('Authorization', as('petra'))
        .send({
          name,
          environmentGroup,
          region: 'eu-west-1',
          profile: 'standard',
          owner: 'group:default/platform-team',
          connectivity,
          ...(connectivity === 'direct'
            ? {
                apiServerUrl: 'https://127.0.0.1:1',
                credentials: { token: `secret-${name}` },
              }
            : {}),
        });
      if (registered.status !== 201) {
        throw new Error(`registering ${name}: ${registered.text}`);
      }
    }
    await knex('kmp_cluster_tenants').insert(
      TENANTS.map(([cluster_name, namespace, team]) => ({
        cluster_name,
        namespace,
        team,
        observed_at: new Date(),
      })),
    );
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it.each([
    ['petra', 'platform engineer of every group', ALL],
    ['oscar', 'ops of the payments groups', PAYMENTS],
    // Developers: the clusters of their groups with their team's namespace.
    ['alice', 'developer of the payments groups', ALICE],
    ['eddie', 'edge operator of retail-edge', RETAIL],
    ['sam', 'edge operator of payments-prod', ['pay-store-1']],
    ['nobody', 'no persona anywhere', []],
  ])(
    'lists to %s (%s) exactly the clusters of their scope',
    async (who, _what, expected) => {
      const res = await list(who, 'limit=1000');
      expect(res.status).toBe(200);
      expect(names(res)).toEqual(expected);
      expect(res.body.totalCount).toBe(expected.length);

      const summary = await request(server)
        .get('/api/kmp/clusters/summary')
        .set('Authorization', as(who));
      expect(summary.status).toBe(200);
      expect(summary.body.total).toBe(expected.length);
    },
  );

  it('pages through the visible fleet with the total of the visible fleet', async () => {
    const pages: string[] = [];
    for (let offset = 0; offset < PAYMENTS.length; offset += 3) {
      const res = await list('oscar', `limit=3&offset=${offset}`);
      expect(res.body.totalCount).toBe(PAYMENTS.length);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      pages.push(...names(res));
    }
    expect(pages).toEqual(PAYMENTS);
    const past = await list('oscar', `limit=3&offset=${PAYMENTS.length}`);
    expect(past.body).toEqual({ items: [], totalCount: PAYMENTS.length });

    // Descending by name: the visible fleet's last page comes first.
    const desc = await list('eddie', 'orderBy=name&order=desc&limit=2');
    expect(names(desc)).toEqual([...RETAIL].reverse().slice(0, 2));
    expect(desc.body.totalCount).toBe(RETAIL.length);
  });

  it('applies the caller’s filters within their scope, never beyond it', async () => {
    const prod = await list('oscar', 'environment=production');
    expect(names(prod)).toEqual(inGroups('payments-prod'));
    expect(prod.body.totalCount).toBe(inGroups('payments-prod').length);

    // Asking for another group's clusters finds none, not an error.
    const retail = await list('oscar', 'environmentGroup=retail-edge');
    expect(retail.body).toEqual({ items: [], totalCount: 0 });

    const text = await list('eddie', 'q=pay');
    expect(text.body).toEqual({ items: [], totalCount: 0 });

    const edge = await list('eddie', 'connectivity=edge-async');
    expect(names(edge)).toEqual(['store-0001', 'store-0002']);
  });

  it('refuses single reads outside the scope with 403 naming the rule', async () => {
    const cases: Array<[string, string, string]> = [
      [
        'oscar',
        'store-0001',
        'no KMP persona in environment group retail-edge',
      ],
      [
        'alice',
        'mkt-dev-1',
        'no KMP persona in environment group marketing-nonprod',
      ],
      [
        'eddie',
        'pay-prod-1',
        'no KMP persona in environment group payments-prod',
      ],
      [
        'sam',
        'pay-prod-1',
        'edge operators see the edge clusters of their environment groups: cluster pay-prod-1 is not an edge cluster',
      ],
      [
        'alice',
        'pay-prod-2',
        'developers see the clusters where their team has a tenant namespace: cluster pay-prod-2 has none of team-payments',
      ],
      [
        'nobody',
        'pay-dev-1',
        'no KMP persona in environment group payments-nonprod',
      ],
    ];
    for (const [who, cluster, rule] of cases) {
      for (const path of [
        `/clusters/${cluster}`,
        `/clusters/${cluster}/history`,
        // The policy domain refuses with the same rule.
        `/policies/compliance?cluster=${cluster}`,
        `/clusters/${cluster}/alerts`,
      ]) {
        const res = await request(server)
          .get(`/api/kmp${path}`)
          .set('Authorization', as(who));
        expect([who, path, res.status, res.body.error?.message]).toEqual([
          who,
          path,
          403,
          `not allowed to kmp.cluster.read on cluster '${cluster}': ${rule}`,
        ]);
        expect(res.body.error.name).toBe('NotAllowedError');
      }
    }
  });

  it('scopes the compliance summaries as the fleet: an empty page without a persona', async () => {
    for (const who of ['nobody', 'eddie', 'alice', 'petra']) {
      const fleet = await list(who, 'limit=1000');
      const compliance = await request(server)
        .get('/api/kmp/policies/compliance?limit=1000')
        .set('Authorization', as(who));
      expect([who, compliance.status]).toEqual([who, 200]);
      expect(
        compliance.body.items.map((c: { cluster: string }) => c.cluster).sort(),
      ).toEqual([...names(fleet)].sort());
      expect(compliance.body.totalCount).toBe(fleet.body.totalCount);
    }
  });

  it('serves single reads inside the scope', async () => {
    const cases: Array<[string, string]> = [
      ['petra', 'mkt-dev-1'],
      ['oscar', 'pay-prod-1'],
      ['alice', 'pay-dev-2'],
      ['eddie', 'store-0003'],
      ['sam', 'pay-store-1'],
    ];
    for (const [who, cluster] of cases) {
      const res = await request(server)
        .get(`/api/kmp/clusters/${cluster}`)
        .set('Authorization', as(who));
      expect([who, res.status, res.body.name]).toEqual([who, 200, cluster]);
      const history = await request(server)
        .get(`/api/kmp/clusters/${cluster}/history`)
        .set('Authorization', as(who));
      expect(history.status).toBe(200);
      expect(history.body.items[0].action).toBe('register');
    }
  });

  it('answers 404 for a cluster that is not registered, whoever asks', async () => {
    for (const who of ['petra', 'oscar', 'nobody']) {
      const res = await request(server)
        .get('/api/kmp/clusters/ghost')
        .set('Authorization', as(who));
      expect([who, res.status]).toEqual([who, 404]);
    }
  });

  it('keeps the change feed (every cluster) to unconditional readers', async () => {
    const petra = await request(server)
      .get('/api/kmp/clusters/changes')
      .set('Authorization', as('petra'));
    expect(petra.status).toBe(200);
    expect(petra.body.items).toHaveLength(ALL.length);
    for (const who of ['oscar', 'eddie', 'nobody']) {
      const res = await request(server)
        .get('/api/kmp/clusters/changes')
        .set('Authorization', as(who));
      expect([who, res.status]).toEqual([who, 403]);
    }
  });
});
