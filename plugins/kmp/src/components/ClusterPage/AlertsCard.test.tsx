import { renderInTestApp } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import { KmpAlertEvaluation, KmpAlertPage } from '../../api';
import { AlertsCard } from './AlertsCard';
import { fakeKmpApi, Wrapper } from './__testUtils__/fakes';

jest.setTimeout(60_000);

const evaluated = (
  patch: Partial<KmpAlertEvaluation> = {},
): KmpAlertEvaluation => ({
  enabled: true,
  intervalSeconds: 60,
  receivers: 1,
  lastEvaluatedAt: new Date(Date.now() - 30_000).toISOString(),
  ...patch,
});

const firing: KmpAlertPage['items'][number] = {
  fingerprint: '0123456789abcdef',
  cluster: 'payments-dev-eu1',
  alertname: 'KmpControlPlaneUnhealthy',
  severity: 'critical',
  status: 'firing',
  summary: 'Control plane of payments-dev-eu1 reports not ready',
  description: 'readyz fails',
  labels: {},
  startsAt: '2026-12-06T12:00:00.000Z',
};

async function renderCard(
  answer: KmpAlertPage | Error,
  seen: Array<[string, unknown]> = [],
) {
  await renderInTestApp(
    <Wrapper
      api={fakeKmpApi({
        overrides: {
          listClusterAlerts: async (cluster, query) => {
            seen.push([cluster, query]);
            if (answer instanceof Error) throw answer;
            return answer;
          },
        },
      })}
    >
      <AlertsCard />
    </Wrapper>,
  );
}

describe('AlertsCard', () => {
  it("lists the cluster's open alerts with severity, summary and since when", async () => {
    const seen: Array<[string, unknown]> = [];
    await renderCard(
      {
        items: [
          firing,
          {
            ...firing,
            fingerprint: 'fedcba9876543210',
            alertname: 'KmpNodesNotReady',
            severity: 'high',
            summary: '1 of 3 nodes of payments-dev-eu1 are not ready',
          },
        ],
        totalCount: 2,
        evaluation: evaluated(),
      },
      seen,
    );
    const table = await screen.findByRole('table', { name: 'open alerts' });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(within(rows[1]).getByText('critical')).toBeInTheDocument();
    expect(
      within(rows[1]).getByText(
        'Control plane of payments-dev-eu1 reports not ready',
      ),
    ).toBeInTheDocument();
    expect(
      within(rows[1]).getByText(
        new Date('2026-12-06T12:00:00.000Z').toLocaleString(),
      ),
    ).toBeInTheDocument();
    expect(within(rows[2]).getByText('high')).toBeInTheDocument();
    expect(within(rows[2]).getByText('KmpNodesNotReady')).toBeInTheDocument();
    expect(
      screen.getByText('Forwarded out of band to 1 receiver.'),
    ).toBeInTheDocument();
    expect(screen.queryByText('No open alerts')).not.toBeInTheDocument();
    expect(seen).toEqual([
      ['payments-dev-eu1', { status: ['firing'], limit: 50 }],
    ]);
  });

  it('says "no open alerts" when alert rules are evaluated and nothing fires', async () => {
    await renderCard({
      items: [],
      totalCount: 0,
      evaluation: evaluated({ receivers: 0 }),
    });
    expect(await screen.findByText('No open alerts')).toBeInTheDocument();
    expect(
      screen.getByText(/Not forwarded out of band: no alert receivers/),
    ).toBeInTheDocument();
  });

  it('does not claim "no open alerts" when alert evaluation is disabled', async () => {
    await renderCard({
      items: [],
      totalCount: 0,
      evaluation: evaluated({ enabled: false, lastEvaluatedAt: undefined }),
    });
    expect(
      await screen.findByText('Alerts are not configured'),
    ).toBeInTheDocument();
    expect(screen.queryByText('No open alerts')).not.toBeInTheDocument();
  });

  it('does not claim "no open alerts" before the first evaluation or when evaluation stopped', async () => {
    await renderCard({
      items: [],
      totalCount: 0,
      evaluation: evaluated({ lastEvaluatedAt: undefined }),
    });
    expect(
      await screen.findByText('Alerts have not been evaluated yet'),
    ).toBeInTheDocument();
    expect(screen.queryByText('No open alerts')).not.toBeInTheDocument();
  });

  it('says when evaluation has stopped instead of showing a stale all-clear', async () => {
    await renderCard({
      items: [],
      totalCount: 0,
      evaluation: evaluated({
        lastEvaluatedAt: new Date(Date.now() - 3_600_000).toISOString(),
      }),
    });
    expect(
      await screen.findByText('Alert evaluation has stopped'),
    ).toBeInTheDocument();
    expect(screen.queryByText('No open alerts')).not.toBeInTheDocument();
  });

  it('shows the error when alerts cannot be read', async () => {
    await renderCard(
      new Error(
        "not allowed to kmp.cluster.read on cluster 'payments-dev-eu1'",
      ),
    );
    expect(
      (await screen.findAllByText(/not allowed to kmp.cluster.read/)).length,
    ).toBeGreaterThan(0);
    expect(screen.queryByText('No open alerts')).not.toBeInTheDocument();
  });
});
