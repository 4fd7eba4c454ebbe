import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { ClusterListQuery, KmpApi, kmpApiRef } from '../../api';
import { FleetPage } from './FleetPage';

const cluster = (
  name: string,
  lifecycleState: string,
  environment = 'production',
) =>
  ({
    name,
    environment,
    environmentGroup: 'payments-prod',
    region: 'eu-west-1',
    profile: 'hardened',
    kubernetesVersion: 'v1.35.4',
    connectivity: 'direct',
    lifecycleState,
    owner: 'group:default/platform-team',
    source: 'api',
    status: { nodeCount: 3, nodesReady: 2, consecutiveFailures: 0 },
    createdAt: '2026-11-25T12:00:00Z',
    updatedAt: '2026-11-25T12:00:00Z',
    revision: 1,
  } as any);

function fakeApi(overrides: Partial<KmpApi>): KmpApi {
  return {
    getHealth: async () => ({ status: 'ok', database: 'ok' }),
    listEnvironmentGroups: async () => ({ items: [] }),
    listClusters: async () => ({ items: [], totalCount: 0 }),
    getClusterSummary: async () => ({
      total: 0,
      byLifecycleState: {},
      byEnvironment: {},
      byConnectivity: {},
    }),
    ...overrides,
  } as KmpApi;
}

// Rendering is slow on a loaded 2-core machine.
jest.setTimeout(60_000);
const slow = { timeout: 20_000 };

describe('FleetPage', () => {
  it('shows the environment groups and a healthy control plane', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [
            kmpApiRef,
            fakeApi({
              listEnvironmentGroups: async () => ({
                items: [
                  {
                    name: 'payments-prod',
                    title: 'Payments production',
                    environment: 'production',
                    owner: 'group:default/platform-team',
                  },
                ],
              }),
            }),
          ],
        ]}
      >
        <FleetPage />
      </TestApiProvider>,
    );
    expect(
      await screen.findByText('payments-prod', undefined, slow),
    ).toBeInTheDocument();
    expect(screen.getByText('Payments production')).toBeInTheDocument();
    expect(
      await screen.findByText(
        'KMP backend and database are healthy',
        undefined,
        slow,
      ),
    ).toBeInTheDocument();
  });

  it('lists clusters with health and nodes, paging on the server', async () => {
    const listClusters = jest.fn(async () => ({
      items: [
        cluster('pay-prod-eu1', 'active'),
        cluster('store-42', 'unreachable', 'edge'),
      ],
      totalCount: 57,
    }));
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [
            kmpApiRef,
            fakeApi({
              listClusters,
              getClusterSummary: async () => ({
                total: 57,
                byLifecycleState: { active: 50, unreachable: 7 },
                byEnvironment: { production: 40, edge: 17 },
                byConnectivity: { direct: 57 },
              }),
            }),
          ],
        ]}
      >
        <FleetPage />
      </TestApiProvider>,
    );
    expect(
      await screen.findByText('pay-prod-eu1', undefined, slow),
    ).toBeInTheDocument();
    expect(screen.getByText('store-42')).toBeInTheDocument();
    expect(screen.getAllByText('2/3 ready')).toHaveLength(2);
    expect(await screen.findByText('57', undefined, slow)).toBeInTheDocument();
    expect(
      screen.getByText('40 production · 0 non-production · 17 edge'),
    ).toBeInTheDocument();
    expect(listClusters).toHaveBeenCalledWith(
      expect.objectContaining({ limit: 20, offset: 0 }),
      expect.anything(),
    );
  });

  it('filters the cluster table without reloading the fleet summary', async () => {
    const listClusters = jest.fn(async (query?: ClusterListQuery) => ({
      items: query?.q
        ? [cluster('store-42', 'unreachable', 'edge')]
        : [cluster('pay-prod-eu1', 'active'), cluster('store-42', 'active')],
      totalCount: query?.q ? 1 : 57,
    }));
    const getClusterSummary = jest.fn(async () => ({
      total: 57,
      byLifecycleState: { active: 50, unreachable: 7 },
      byEnvironment: { production: 40, edge: 17 },
      byConnectivity: { direct: 57 },
    }));
    await renderInTestApp(
      <TestApiProvider
        apis={[[kmpApiRef, fakeApi({ listClusters, getClusterSummary })]]}
      >
        <FleetPage />
      </TestApiProvider>,
    );
    expect(
      await screen.findByText('pay-prod-eu1', undefined, slow),
    ).toBeInTheDocument();

    fireEvent.change(screen.getByPlaceholderText('Filter'), {
      target: { value: 'store' },
    });
    await waitFor(
      () => expect(screen.queryByText('pay-prod-eu1')).not.toBeInTheDocument(),
      slow,
    );
    expect(screen.getByText('store-42')).toBeInTheDocument();
    expect(listClusters).toHaveBeenLastCalledWith(
      expect.objectContaining({ q: 'store', offset: 0 }),
      expect.objectContaining({ signal: expect.any(AbortSignal) }),
    );
    // The tiles count the whole fleet: typing does not refetch them.
    expect(getClusterSummary).toHaveBeenCalledTimes(1);
    expect(screen.getByText('57')).toBeInTheDocument();
  });

  it('shows an empty state that says how to add groups', async () => {
    await renderInTestApp(
      <TestApiProvider apis={[[kmpApiRef, fakeApi({})]]}>
        <FleetPage />
      </TestApiProvider>,
    );
    expect(
      await screen.findByText('No environment groups yet', undefined, slow),
    ).toBeInTheDocument();
  });

  it('shows errors as states, not crashes', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [
            kmpApiRef,
            fakeApi({
              getHealth: async () => ({
                status: 'unavailable',
                database: 'unavailable',
              }),
              listEnvironmentGroups: async () => {
                throw new Error(
                  'permission denied: kmp.environment-group.read',
                );
              },
            }),
          ],
        ]}
      >
        <FleetPage />
      </TestApiProvider>,
    );
    expect(
      await screen.findAllByText(
        /permission denied: kmp.environment-group.read/,
        undefined,
        slow,
      ),
    ).not.toHaveLength(0);
    expect(
      await screen.findByText('KMP database unavailable', undefined, slow),
    ).toBeInTheDocument();
  });
});
