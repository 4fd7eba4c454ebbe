import { catalogApiRef, entityRouteRef } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { RegisteredCluster } from '@kmp/plugin-kmp-common';
import { screen, within } from '@testing-library/react';
import { KmpApi, kmpApiRef, KmpBrokerError, KmpMe } from '../../api';
import { PersonaHome } from './PersonaHome';

// Rendering material-table is slow on a loaded 2-core machine.
jest.setTimeout(60_000);
const slow = { timeout: 20_000 };

function cluster(
  name: string,
  overrides: Partial<RegisteredCluster> = {},
): RegisteredCluster {
  return {
    name,
    environment: 'non-production',
    environmentGroup: 'payments-nonprod',
    region: 'eu-west-1',
    profile: 'standard',
    connectivity: 'direct',
    lifecycleState: 'active',
    owner: 'group:default/platform-team',
    source: 'config',
    status: {},
    createdAt: '2026-11-25T12:00:00Z',
    updatedAt: '2026-11-25T12:00:00Z',
    revision: 1,
    ...overrides,
  };
}

const me = (personas: KmpMe['personas'], user = 'alice'): KmpMe => ({
  user: `user:default/${user}`,
  ownershipRefs: [`user:default/${user}`, 'group:default/team-payments'],
  gitops: false,
  personas,
});

function fakeApi(overrides: Partial<KmpApi>): KmpApi {
  const notUsed = async () => {
    throw new Error('not used on the home page');
  };
  return {
    getMe: notUsed,
    listClusters: async () => ({ items: [], totalCount: 0 }),
    getClusterSummary: notUsed,
    listTenantNamespaces: async () => [],
    listComplianceSummaries: notUsed,
    listProfiles: notUsed,
    ...overrides,
  } as unknown as KmpApi;
}

async function render(api: KmpApi, catalogApi = catalogApiMock()) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [kmpApiRef, api],
        [catalogApiRef, catalogApi],
      ]}
    >
      <PersonaHome />
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

describe('PersonaHome', () => {
  it("shows a developer their team's namespaces and components, and the clusters it could not read", async () => {
    const listClusters = jest.fn(async () => ({
      items: [
        cluster('payments-dev-eu1'),
        cluster('payments-prod-eu1', {
          environment: 'production',
          environmentGroup: 'payments-prod',
        }),
      ],
      totalCount: 2,
    }));
    const listTenantNamespaces = jest.fn(async (name: string) => {
      if (name === 'payments-prod-eu1') {
        throw new KmpBrokerError({
          statusCode: 403,
          message: 'namespace listing is cluster-scoped',
        });
      }
      return [{ cluster: name, name: 'payments-dev', team: 'team-payments' }];
    });
    const getEntities = jest.fn(async () => ({
      items: [
        {
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'Component',
          metadata: { name: 'payments-api', namespace: 'default' },
          spec: { type: 'service', lifecycle: 'production' },
        },
      ],
    }));
    const getClusterSummary = jest.fn();
    await render(
      fakeApi({
        getMe: async () =>
          me([
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
          ]),
        listClusters,
        listTenantNamespaces,
        getClusterSummary,
      }),
      catalogApiMock.mock({ getEntities }),
    );

    expect(
      await screen.findByText('Welcome, alice', undefined, slow),
    ).toBeInTheDocument();
    expect(
      screen.getByText('Developer · payments-nonprod, payments-prod'),
    ).toBeInTheDocument();
    const row = (
      await screen.findByText('payments-dev', undefined, slow)
    ).closest('tr')!;
    expect(within(row).getByText('payments-dev-eu1')).toBeInTheDocument();
    expect(within(row).getByText('team-payments')).toBeInTheDocument();
    expect(
      await screen.findByText(
        /payments-prod-eu1: namespace listing is cluster-scoped/,
        undefined,
        slow,
      ),
    ).toBeInTheDocument();
    expect(
      await screen.findByText('payments-api', undefined, slow),
    ).toBeInTheDocument();

    expect(listClusters).toHaveBeenCalledWith(
      expect.objectContaining({
        environmentGroup: ['payments-nonprod', 'payments-prod'],
      }),
    );
    expect(listTenantNamespaces).toHaveBeenCalledWith('payments-dev-eu1', [
      'team-payments',
    ]);
    expect(getEntities).toHaveBeenCalledWith(
      expect.objectContaining({
        filter: {
          kind: 'Component',
          'relations.ownedBy': [
            'user:default/alice',
            'group:default/team-payments',
          ],
        },
      }),
    );
    // A developer's home shows no fleet-wide operations.
    expect(screen.queryByText('Clusters needing attention')).toBeNull();
    expect(screen.queryByText('Compliance')).toBeNull();
    expect(getClusterSummary).not.toHaveBeenCalled();
  });

  it('shows ops the fleet health, the open alerts and the clusters needing attention', async () => {
    const listAlerts = jest.fn(async () => ({
      items: [
        {
          fingerprint: '0123456789abcdef',
          cluster: 'payments-prod-eu1',
          alertname: 'KmpClusterUnreachable',
          severity: 'critical' as const,
          status: 'firing' as const,
          summary: 'Cluster payments-prod-eu1 is unreachable from KMP',
          description: 'no answer',
          labels: {},
          startsAt: '2026-12-06T12:00:00.000Z',
        },
      ],
      totalCount: 1,
      evaluation: {
        enabled: true,
        intervalSeconds: 60,
        receivers: 2,
        lastEvaluatedAt: new Date().toISOString(),
      },
    }));
    const listClusters = jest.fn(async () => ({
      items: [
        cluster('payments-prod-eu1', {
          lifecycleState: 'unreachable',
          environmentGroup: 'payments-prod',
          status: { lastError: 'connect ECONNREFUSED' },
        }),
      ],
      totalCount: 1,
    }));
    await render(
      fakeApi({
        getMe: async () =>
          me(
            [
              {
                environmentGroup: 'payments-prod',
                environment: 'production',
                persona: 'ops',
              },
            ],
            'oscar',
          ),
        getClusterSummary: async () => ({
          total: 3,
          byLifecycleState: { active: 2, unreachable: 1 },
          byEnvironment: {},
          byConnectivity: {},
        }),
        listClusters,
        listAlerts,
      }),
    );
    expect(
      await screen.findByText('connect ECONNREFUSED', undefined, slow),
    ).toBeInTheDocument();
    const alertRow = (
      await screen.findByText(
        'Cluster payments-prod-eu1 is unreachable from KMP',
        undefined,
        slow,
      )
    ).closest('tr')!;
    expect(within(alertRow).getByText('critical')).toBeInTheDocument();
    expect(within(alertRow).getByText('payments-prod-eu1')).toBeInTheDocument();
    expect(
      screen.getByText('Forwarded out of band to 2 receivers.'),
    ).toBeInTheDocument();
    expect(listAlerts).toHaveBeenCalledWith({ status: ['firing'], limit: 50 });
    expect(screen.getByText('Ops · payments-prod')).toBeInTheDocument();
    expect(await screen.findByLabelText('Clusters')).toHaveTextContent('3');
    expect(screen.getByLabelText('Unreachable')).toHaveTextContent('1');
    expect(screen.getByLabelText('Degraded')).toHaveTextContent('0');
    expect(listClusters).toHaveBeenCalledWith(
      expect.objectContaining({
        environmentGroup: ['payments-prod'],
        state: ['degraded', 'unreachable'],
      }),
    );
    expect(screen.queryByText('My namespaces')).toBeNull();
  });

  it('does not tell ops there are no open alerts when alert evaluation is off', async () => {
    await render(
      fakeApi({
        getMe: async () =>
          me(
            [
              {
                environmentGroup: 'payments-prod',
                environment: 'production',
                persona: 'ops',
              },
            ],
            'oscar',
          ),
        getClusterSummary: async () => ({
          total: 0,
          byLifecycleState: {},
          byEnvironment: {},
          byConnectivity: {},
        }),
        listAlerts: async () => ({
          items: [],
          totalCount: 0,
          evaluation: { enabled: false, intervalSeconds: 60, receivers: 0 },
        }),
      }),
    );
    expect(
      await screen.findByText(/^Alerts are not configured\. /, undefined, slow),
    ).toBeInTheDocument();
    expect(
      screen.queryByText('No open alerts in the clusters you can see.'),
    ).toBeNull();
  });

  it('shows a platform engineer compliance per cluster and the profiles', async () => {
    await render(
      fakeApi({
        getMe: async () =>
          me(
            [
              {
                environmentGroup: 'payments-prod',
                environment: 'production',
                persona: 'platform-engineer',
              },
            ],
            'petra',
          ),
        listComplianceSummaries: async () => ({
          items: [
            {
              cluster: 'payments-prod-eu1',
              environment: 'production',
              environmentGroup: 'payments-prod',
              governedVersion: '3',
              installedVersion: '3',
              drift: 'in-sync',
              upToDate: true,
              violations: 2,
            },
            {
              cluster: 'payments-dev-eu1',
              environment: 'non-production',
              environmentGroup: 'payments-nonprod',
              governedVersion: '3',
              drift: 'unknown',
              upToDate: false,
              violations: 0,
            },
          ],
          totalCount: 2,
        }),
        listProfiles: async () => ({
          items: [
            {
              name: 'production-hardened',
              environment: 'production',
              podSecurity: 'restricted',
              policyOverlays: ['production'],
            },
          ],
        }),
      }),
    );
    expect(
      await screen.findByText('2 violation(s)', undefined, slow),
    ).toBeInTheDocument();
    expect(screen.getByText('no bundle installed')).toBeInTheDocument();
    expect(
      await screen.findByText('production-hardened', undefined, slow),
    ).toBeInTheDocument();
    expect(screen.getByText('restricted')).toBeInTheDocument();
  });

  it('shows an edge operator their edge clusters and whether each is connected', async () => {
    const listClusters = jest.fn(async () => ({
      items: [
        cluster('retail-store-0042', {
          environment: 'edge',
          environmentGroup: 'retail-edge',
          region: 'store-0042',
          connectivity: 'edge-async',
          lifecycleState: 'unreachable',
        }),
        cluster('retail-store-0001', {
          environment: 'edge',
          environmentGroup: 'retail-edge',
          connectivity: 'edge',
        }),
      ],
      totalCount: 2,
    }));
    await render(
      fakeApi({
        getMe: async () =>
          me(
            [
              {
                environmentGroup: 'retail-edge',
                environment: 'edge',
                persona: 'edge-operator',
              },
            ],
            'eddie',
          ),
        listClusters,
      }),
    );
    expect(
      await screen.findByText(
        'disconnected (queued commands)',
        undefined,
        slow,
      ),
    ).toBeInTheDocument();
    expect(screen.getByText('connected (agent tunnel)')).toBeInTheDocument();
    expect(listClusters).toHaveBeenCalledWith(
      expect.objectContaining({
        environment: ['edge'],
        environmentGroup: ['retail-edge'],
      }),
    );
  });

  it('shows one section per persona for a user holding several', async () => {
    await render(
      fakeApi({
        getMe: async () =>
          me([
            {
              environmentGroup: 'retail-edge',
              environment: 'edge',
              persona: 'edge-operator',
            },
            {
              environmentGroup: 'payments-nonprod',
              environment: 'non-production',
              persona: 'developer',
            },
          ]),
      }),
    );
    expect(
      await screen.findByText('My namespaces', undefined, slow),
    ).toBeInTheDocument();
    expect(
      await screen.findByText('Edge clusters', undefined, slow),
    ).toBeInTheDocument();
  });

  it('says so when the user holds no persona, and shows errors as states', async () => {
    const { unmount } = await render(
      fakeApi({ getMe: async () => me([], 'guest') }),
    );
    expect(
      await screen.findByText('No KMP persona yet', undefined, slow),
    ).toBeInTheDocument();
    unmount();

    await render(
      fakeApi({
        getMe: async () => {
          throw new Error('KMP backend unreachable');
        },
      }),
    );
    expect(
      await screen.findAllByText(/KMP backend unreachable/, undefined, slow),
    ).not.toHaveLength(0);
  });
});
