import { renderInTestApp } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { TestApiProvider } from '@backstage/test-utils';
import { kmpApiRef } from '../../api';
import { EntityKmpClusterContent } from './EntityKmpClusterContent';
import {
  clusterEntity,
  fakeKmpApi,
  me,
  testCluster,
  unreachable,
} from './__testUtils__/fakes';

jest.setTimeout(90_000);

describe('EntityKmpClusterContent', () => {
  it('renders every card of an unreachable cluster as a state, not a crash', async () => {
    const down = unreachable();
    const api = fakeKmpApi({
      cluster: testCluster({ lifecycleState: 'unreachable' }),
      me: me('ops'),
      broker: new Proxy({} as Record<string, Error>, {
        get: () => down,
        has: () => true,
      }),
      overrides: {
        getClusterCompliance: async () => {
          throw new Error("cluster 'payments-dev-eu1' could not be scanned");
        },
        listAuditEvents: async () => ({ items: [] }),
        listKubeconfigTokens: async () => ({ items: [] }),
        listClusterAlerts: async () => ({
          items: [
            {
              fingerprint: '0123456789abcdef',
              cluster: 'payments-dev-eu1',
              alertname: 'KmpClusterUnreachable',
              severity: 'critical',
              status: 'firing',
              summary: 'Cluster payments-dev-eu1 is unreachable from KMP',
              description: 'no answer',
              labels: {},
              startsAt: '2026-12-06T12:00:00.000Z',
            },
          ],
          totalCount: 1,
          evaluation: {
            enabled: true,
            intervalSeconds: 60,
            receivers: 1,
            lastEvaluatedAt: new Date().toISOString(),
          },
        }),
      },
    });
    await renderInTestApp(
      <TestApiProvider apis={[[kmpApiRef, api]]}>
        <EntityProvider entity={clusterEntity()}>
          <EntityKmpClusterContent />
        </EntityProvider>
      </TestApiProvider>,
    );
    expect(
      await screen.findByText(/Cluster unreachable: namespaces unavailable/),
    ).toBeInTheDocument();
    expect(
      await screen.findByText(/Cluster unreachable: workloads unavailable/),
    ).toBeInTheDocument();
    expect(
      await screen.findByText(/Cluster unreachable: GitOps state unavailable/),
    ).toBeInTheDocument();
    expect(screen.getByText('unreachable')).toBeInTheDocument();
    expect(
      await screen.findByText(
        'Cluster payments-dev-eu1 is unreachable from KMP',
      ),
    ).toBeInTheDocument();
    expect(await screen.findByText('No audit events')).toBeInTheDocument();
    expect(screen.getByText('Change through KMP')).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'Get kubeconfig' }),
    ).toBeInTheDocument();
  });
});
