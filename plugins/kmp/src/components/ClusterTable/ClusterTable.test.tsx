import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { RegisteredCluster } from '@kmp/plugin-kmp-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { ClusterListQuery, KmpApi, kmpApiRef } from '../../api';
import { ClusterTable } from './ClusterTable';

const GROUPS = [
  ['payments-prod', 'production'],
  ['payments-nonprod', 'non-production'],
  ['retail-edge', 'edge'],
] as const;
const STATES = ['active', 'degraded', 'unreachable'] as const;

const cluster = (i: number): RegisteredCluster =>
  ({
    name: `c-${String(i).padStart(3, '0')}`,
    environment: GROUPS[i % 3][1],
    environmentGroup: GROUPS[i % 3][0],
    region: `region-${i % 4}`,
    profile: 'standard',
    kubernetesVersion: 'v1.35.4',
    connectivity: 'direct',
    lifecycleState: STATES[i % 3],
    owner: 'group:default/platform-team',
    source: 'api',
    status: { nodeCount: 3, nodesReady: i % 4, consecutiveFailures: 0 },
    createdAt: '2026-11-25T12:00:00Z',
    updatedAt: '2026-11-25T12:00:00Z',
    revision: i + 1,
  } as RegisteredCluster);

const FLEET = Array.from({ length: 45 }, (_, i) => cluster(i));

/**
 * The backend's list semantics over an in-memory fleet: filters, text
 * search, one order field with the name as tie-breaker, paging.
 */
function listOf(fleet: RegisteredCluster[]) {
  return async (query: ClusterListQuery = {}) => {
    const q = query.q?.toLowerCase();
    const field = query.orderBy ?? 'name';
    const sign = query.order === 'desc' ? -1 : 1;
    const items = fleet
      .filter(
        c => !query.environment || query.environment.includes(c.environment),
      )
      .filter(c => !query.state || query.state.includes(c.lifecycleState))
      .filter(
        c => !q || c.name.includes(q) || c.region.toLowerCase().includes(q),
      )
      .sort(
        (a, b) =>
          sign *
            String((a as any)[field]).localeCompare(
              String((b as any)[field]),
            ) || a.name.localeCompare(b.name),
      );
    const offset = query.offset ?? 0;
    return {
      items: items.slice(offset, offset + (query.limit ?? 100)),
      totalCount: items.length,
    };
  };
}

type ListClusters = KmpApi['listClusters'];

async function renderTable(listClusters: ListClusters) {
  await renderInTestApp(
    <TestApiProvider apis={[[kmpApiRef, { listClusters } as KmpApi]]}>
      <ClusterTable />
    </TestApiProvider>,
  );
}

/** The cluster names in the table, top to bottom. */
const shownNames = () =>
  screen
    .queryAllByRole('cell')
    .map(cell => cell.textContent ?? '')
    .filter(text => /^c-\d{3}$/.test(text));

const lastQuery = (fn: jest.Mock) =>
  fn.mock.calls[fn.mock.calls.length - 1][0] as ClusterListQuery;

const filterBox = () =>
  screen.getByRole('searchbox', { name: /filter clusters/i });

describe('ClusterTable', () => {
  it("shows each row's policy compliance and open alerts, fetched for the page's clusters", async () => {
    const fleet = FLEET.slice(0, 4);
    const summary = (name: string, over: object) => ({
      cluster: name,
      environment: 'production',
      environmentGroup: 'payments-prod',
      governedVersion: 'v2',
      installedVersion: 'v2',
      mode: 'apply',
      drift: 'in-sync',
      upToDate: true,
      violations: 0,
      ...over,
    });
    const listComplianceSummaries = jest.fn(async () => ({
      items: [
        summary('c-000', {}),
        summary('c-001', { violations: 2 }),
        summary('c-002', { drift: 'drifted' }),
      ],
      totalCount: 3,
    }));
    const getAlertSummary = jest.fn(async () => ({
      firing: 3,
      bySeverity: { critical: 1, high: 2 },
      clusters: [
        { cluster: 'c-001', firing: 2, bySeverity: { high: 2 } },
        { cluster: 'c-002', firing: 1, bySeverity: { critical: 1 } },
      ],
      evaluation: { enabled: true, intervalSeconds: 60, receivers: 1 },
    }));
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [
            kmpApiRef,
            {
              listClusters: listOf(fleet),
              listComplianceSummaries,
              getAlertSummary,
            } as unknown as KmpApi,
          ],
        ]}
      >
        <ClusterTable />
      </TestApiProvider>,
    );
    const row = async (name: string) =>
      within((await screen.findByText(name)).closest('tr')!);
    await waitFor(async () =>
      expect((await row('c-000')).getByText('compliant')).toBeInTheDocument(),
    );
    expect((await row('c-000')).getByText('none')).toBeInTheDocument();
    expect((await row('c-001')).getByText('2 violations')).toBeInTheDocument();
    expect((await row('c-001')).getByText('2 open')).toBeInTheDocument();
    expect((await row('c-002')).getByText('drifted')).toBeInTheDocument();
    expect((await row('c-002')).getByText('1 open')).toBeInTheDocument();
    expect(
      (await row('c-003')).getByText('no bundle installed'),
    ).toBeInTheDocument();
    const names = fleet.map(c => c.name);
    expect(listComplianceSummaries).toHaveBeenCalledWith({
      name: names,
      limit: 4,
    });
    expect(getAlertSummary).toHaveBeenCalledWith({ cluster: names });
  });

  it('keeps the table when compliance and alerts cannot be loaded', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [
            kmpApiRef,
            {
              listClusters: listOf(FLEET.slice(0, 2)),
              listComplianceSummaries: async () => {
                throw new Error('policy service down');
              },
              getAlertSummary: async () => {
                throw new Error('alerts down');
              },
            } as unknown as KmpApi,
          ],
        ]}
      >
        <ClusterTable />
      </TestApiProvider>,
    );
    const cells = within((await screen.findByText('c-000')).closest('tr')!);
    await waitFor(() => expect(cells.getAllByText('—')).toHaveLength(2));
    expect(shownNames()).toEqual(['c-000', 'c-001']);
  });

  it('shows the first page of clusters, ordered by name on the server', async () => {
    const listClusters = jest.fn(listOf(FLEET));
    await renderTable(listClusters);

    expect(await screen.findByText('c-000')).toBeInTheDocument();
    expect(shownNames()).toEqual(FLEET.slice(0, 20).map(c => c.name));
    expect(listClusters).toHaveBeenCalledTimes(1);
    expect(lastQuery(listClusters)).toEqual({
      orderBy: 'name',
      order: 'asc',
      limit: 20,
      offset: 0,
    });
    const row = screen.getByText('c-001').closest('tr')!;
    expect(within(row).getByText('degraded')).toBeInTheDocument();
    expect(within(row).getByText('1/3 ready')).toBeInTheDocument();
    expect(screen.getByText('1-20 of 45')).toBeInTheDocument();
    expect(screen.getByRole('table', { name: 'Clusters' })).toBeInTheDocument();
    expect(
      screen.getByRole('columnheader', { name: 'Cluster' }),
    ).toHaveAttribute('aria-sort', 'ascending');
  });

  it('shows typed text at once and asks the server for it without waiting', async () => {
    const listClusters = jest.fn(listOf(FLEET));
    await renderTable(listClusters);
    await screen.findByText('c-000');

    fireEvent.change(filterBox(), { target: { value: 'c-01' } });
    // The input shows the text in the same render, before any answer.
    expect(filterBox()).toHaveValue('c-01');
    expect(lastQuery(listClusters)).toMatchObject({ q: 'c-01', offset: 0 });

    await waitFor(() =>
      expect(shownNames()).toEqual(FLEET.slice(10, 20).map(c => c.name)),
    );
    expect(screen.getByRole('status')).toHaveTextContent('10 clusters match');
  });

  it('cancels the request of a superseded search and never shows its late answer', async () => {
    const pending: {
      query: ClusterListQuery;
      signal?: AbortSignal;
      resolve: () => void;
    }[] = [];
    const answer = listOf(FLEET);
    const listClusters = jest.fn(
      (query?: ClusterListQuery, options?: { signal?: AbortSignal }) =>
        new Promise<Awaited<ReturnType<ListClusters>>>(resolve => {
          pending.push({
            query: query!,
            signal: options?.signal,
            resolve: () => answer(query).then(resolve),
          });
        }),
    );
    await renderTable(listClusters);
    pending[0].resolve();
    await screen.findByText('c-000');

    fireEvent.change(filterBox(), { target: { value: 'c-01' } });
    fireEvent.change(filterBox(), { target: { value: 'c-02' } });
    expect(pending.map(p => p.query.q)).toEqual([undefined, 'c-01', 'c-02']);
    expect(pending[1].signal?.aborted).toBe(true);
    expect(pending[2].signal?.aborted).toBe(false);

    // The newest answer arrives first, the stale one after it.
    pending[2].resolve();
    await waitFor(() =>
      expect(shownNames()).toEqual(FLEET.slice(20, 30).map(c => c.name)),
    );
    pending[1].resolve();
    await new Promise(r => setTimeout(r, 50));
    expect(shownNames()).toEqual(FLEET.slice(20, 30).map(c => c.name));
  });

  it('sorts on the server by the clicked column, flipping on a second click', async () => {
    const listClusters = jest.fn(listOf(FLEET));
    await renderTable(listClusters);
    await screen.findByText('c-000');

    fireEvent.click(screen.getByRole('button', { name: 'Region' }));
    await waitFor(() =>
      expect(lastQuery(listClusters)).toMatchObject({
        orderBy: 'region',
        order: 'asc',
      }),
    );
    // region-0 holds c-000, c-004, c-008…
    await waitFor(() => expect(shownNames()[1]).toBe('c-004'));
    expect(
      screen.getByRole('columnheader', { name: /Region/ }),
    ).toHaveAttribute('aria-sort', 'ascending');

    fireEvent.click(screen.getByRole('button', { name: /Region/ }));
    await waitFor(() =>
      expect(lastQuery(listClusters)).toMatchObject({
        orderBy: 'region',
        order: 'desc',
      }),
    );
    await waitFor(() => expect(shownNames()[0]).toBe('c-003'));
    expect(
      screen.getByRole('columnheader', { name: /Region/ }),
    ).toHaveAttribute('aria-sort', 'descending');
  });

  it('pages on the server, and starts again on the first page when a filter changes', async () => {
    const listClusters = jest.fn(listOf(FLEET));
    await renderTable(listClusters);
    await screen.findByText('c-000');

    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await screen.findByText('c-020');
    expect(lastQuery(listClusters)).toMatchObject({ limit: 20, offset: 20 });
    expect(screen.getByText('21-40 of 45')).toBeInTheDocument();

    fireEvent.change(screen.getByRole('combobox', { name: 'Environment' }), {
      target: { value: 'edge' },
    });
    await screen.findByText('1-15 of 15');
    expect(lastQuery(listClusters)).toMatchObject({
      environment: ['edge'],
      offset: 0,
    });
    expect(shownNames()[0]).toBe('c-002');

    fireEvent.change(screen.getByRole('combobox', { name: 'Health' }), {
      target: { value: 'unreachable' },
    });
    await screen.findByText('1-15 of 15');
    expect(lastQuery(listClusters)).toMatchObject({
      environment: ['edge'],
      state: ['unreachable'],
    });
  });

  it('groups the rows of a page by environment group, ordered by group on the server', async () => {
    const listClusters = jest.fn(listOf(FLEET));
    await renderTable(listClusters);
    await screen.findByText('c-000');

    fireEvent.click(
      screen.getByRole('checkbox', { name: 'Group by environment group' }),
    );
    await waitFor(() =>
      expect(lastQuery(listClusters)).toMatchObject({
        orderBy: 'environmentGroup',
      }),
    );
    // The first page: payments-nonprod's 15 clusters, then 5 of
    // payments-prod, each group under its row-group header cell.
    const groupHeader = (name: string) =>
      screen
        .getAllByText(name)
        .find(
          el => el.tagName === 'TH' && el.getAttribute('scope') === 'rowgroup',
        );
    await waitFor(() => expect(groupHeader('payments-nonprod')).toBeTruthy());
    const nonprod = groupHeader('payments-nonprod')!.closest('tbody')!;
    const prod = groupHeader('payments-prod')!.closest('tbody')!;
    expect(within(nonprod).getAllByRole('row')).toHaveLength(16);
    expect(within(prod).getAllByRole('row')).toHaveLength(6);
    expect(within(prod).getByText('c-000')).toBeInTheDocument();
    expect(screen.queryAllByText('retail-edge')).toEqual([]);
  });

  it('tells an empty fleet from a search that matches nothing', async () => {
    await renderTable(jest.fn(listOf([])));
    expect(
      await screen.findByText('No clusters registered yet.'),
    ).toBeInTheDocument();

    fireEvent.change(filterBox(), { target: { value: 'nothing' } });
    expect(
      await screen.findByText('No clusters match the search and filters.'),
    ).toBeInTheDocument();
  });

  it('shows a failed request as an error and keeps the controls usable', async () => {
    const listClusters = jest.fn(async (query?: ClusterListQuery) => {
      if (query?.q) {
        throw new Error('permission denied: kmp.cluster.read');
      }
      return listOf(FLEET)(query);
    });
    await renderTable(listClusters);
    await screen.findByText('c-000');

    fireEvent.change(filterBox(), { target: { value: 'c-0' } });
    expect(
      (await screen.findAllByText(/permission denied: kmp.cluster.read/))
        .length,
    ).toBeGreaterThan(0);
    expect(
      screen.getByText('The clusters could not be loaded.'),
    ).toBeInTheDocument();
    expect(shownNames()).toEqual([]);

    fireEvent.change(filterBox(), { target: { value: '' } });
    expect(await screen.findByText('c-000')).toBeInTheDocument();
    expect(
      screen.queryByText('The clusters could not be loaded.'),
    ).not.toBeInTheDocument();
  });
});
