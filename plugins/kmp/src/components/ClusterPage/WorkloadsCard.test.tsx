import { renderInTestApp } from '@backstage/test-utils';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { WorkloadsCard } from './WorkloadsCard';
import {
  deployment,
  fakeKmpApi,
  me,
  pod,
  prodCluster,
  refused,
  unreachable,
  Wrapper,
} from './__testUtils__/fakes';

jest.setTimeout(60_000);

const broker = {
  '/apis/apps/v1/deployments': [
    deployment('team-payments', 'payments-api', 3, 2),
    deployment('team-retail', 'storefront', 1, 1),
  ],
  '/apis/apps/v1/statefulsets': [],
  '/apis/apps/v1/daemonsets': [],
  '/api/v1/namespaces/team-payments/pods': [
    pod('team-payments', 'payments-api-7d9f-abcde', 4),
  ],
  '/api/v1/namespaces/team-retail/pods': [],
};

describe('WorkloadsCard', () => {
  it('lists workloads with ready counts and the pods of the namespace', async () => {
    await renderInTestApp(
      <Wrapper api={fakeKmpApi({ broker })}>
        <WorkloadsCard />
      </Wrapper>,
    );
    expect(await screen.findByText('payments-api')).toBeInTheDocument();
    expect(screen.getByText('2/3 ready')).toBeInTheDocument();
    // The first namespace is selected: the other one's workloads are hidden.
    expect(screen.queryByText('storefront')).not.toBeInTheDocument();
    const podRow = (await screen.findByText('payments-api-7d9f-abcde')).closest(
      'tr',
    )!;
    expect(within(podRow).getByText('4')).toBeInTheDocument();
    expect(within(podRow).getByText('2/2')).toBeInTheDocument();
  });

  it("reads a developer's team namespaces only, and ops' across the cluster", async () => {
    const developer = fakeKmpApi({ broker, me: me('developer') });
    const devCalls = jest.spyOn(developer, 'proxyJson');
    const { unmount } = await renderInTestApp(
      <Wrapper api={developer}>
        <WorkloadsCard />
      </Wrapper>,
    );
    expect(await screen.findByText('payments-api')).toBeInTheDocument();
    const devPaths = devCalls.mock.calls.map(c => c[1]);
    expect(devPaths).toContain(
      '/apis/apps/v1/namespaces/team-payments/deployments',
    );
    expect(devPaths).not.toContain('/apis/apps/v1/deployments');
    unmount();

    const ops = fakeKmpApi({ broker, me: me('ops') });
    const opsCalls = jest.spyOn(ops, 'proxyJson');
    await renderInTestApp(
      <Wrapper api={ops}>
        <WorkloadsCard />
      </Wrapper>,
    );
    fireEvent.mouseDown(await screen.findByLabelText('Namespace'));
    fireEvent.click(await screen.findByRole('option', { name: 'team-retail' }));
    expect(await screen.findByText('storefront')).toBeInTheDocument();
    expect(opsCalls.mock.calls.map(c => c[1])).toContain(
      '/apis/apps/v1/deployments',
    );
  });

  it('confirms a restart and shows the audit id of the change', async () => {
    const restartWorkload = jest.fn(async () => ({
      body: {},
      auditId: 'audit-restart-1',
      warnings: [],
    }));
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          broker,
          me: me('developer'),
          overrides: { restartWorkload },
        })}
      >
        <WorkloadsCard />
      </Wrapper>,
    );
    fireEvent.click(
      await screen.findByRole('button', {
        name: 'Restart Deployment payments-api',
      }),
    );
    expect(
      screen.getByText('Restart Deployment team-payments/payments-api?'),
    ).toBeInTheDocument();
    // Nothing happens before the confirmation.
    expect(restartWorkload).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: 'Restart' }));
    expect(
      await screen.findByText('Audit id: audit-restart-1'),
    ).toBeInTheDocument();
    expect(restartWorkload).toHaveBeenCalledWith('payments-dev-eu1', {
      namespace: 'team-payments',
      kind: 'Deployment',
      name: 'payments-api',
    });
  });

  it('shows the refusal of the broker with its audit id', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          broker,
          overrides: {
            deletePod: async () => {
              throw refused('namespace team-payments belongs to team payments');
            },
          },
        })}
      >
        <WorkloadsCard />
      </Wrapper>,
    );
    fireEvent.click(
      await screen.findByRole('button', {
        name: 'Delete pod payments-api-7d9f-abcde',
      }),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    expect(
      await screen.findByText(
        'namespace team-payments belongs to team payments',
      ),
    ).toBeInTheDocument();
    expect(screen.getByText('Audit id: audit-denied')).toBeInTheDocument();
  });

  it('scales with the replica count entered in the confirmation', async () => {
    const scaleWorkload = jest.fn(async () => ({
      body: {},
      auditId: 'audit-scale',
      warnings: [],
    }));
    await renderInTestApp(
      <Wrapper api={fakeKmpApi({ broker, overrides: { scaleWorkload } })}>
        <WorkloadsCard />
      </Wrapper>,
    );
    fireEvent.click(
      await screen.findByRole('button', {
        name: 'Scale Deployment payments-api',
      }),
    );
    fireEvent.change(screen.getByLabelText('Replicas'), {
      target: { value: '5' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Scale' }));
    expect(
      await screen.findByText('Audit id: audit-scale'),
    ).toBeInTheDocument();
    expect(scaleWorkload).toHaveBeenCalledWith(
      'payments-dev-eu1',
      { namespace: 'team-payments', kind: 'Deployment', name: 'payments-api' },
      5,
    );
  });

  it('disables write controls in production with the reason and the GitOps link; logs stay', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          cluster: prodCluster(),
          broker,
          me: me('developer'),
        })}
      >
        <WorkloadsCard />
      </Wrapper>,
    );
    const restart = await screen.findByRole('button', {
      name: 'Restart Deployment payments-api',
    });
    expect(restart).toBeDisabled();
    expect(
      screen.getByRole('button', { name: 'Scale Deployment payments-api' }),
    ).toBeDisabled();
    expect(
      screen.getByText(
        /Changes are disabled here: production changes go through GitOps/,
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('link', { name: 'Change it through the GitOps path' }),
    ).toHaveAttribute('href', '/create');
    expect(
      await screen.findByRole('button', {
        name: 'Logs of payments-api-7d9f-abcde',
      }),
    ).toBeEnabled();
  });

  it('lets ops restart in production but not scale (scale is declared in Git)', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({ cluster: prodCluster(), broker, me: me('ops') })}
      >
        <WorkloadsCard />
      </Wrapper>,
    );
    expect(
      await screen.findByRole('button', {
        name: 'Restart Deployment payments-api',
      }),
    ).toBeEnabled();
    expect(
      screen.getByRole('button', { name: 'Scale Deployment payments-api' }),
    ).toBeDisabled();
  });

  it('hides write controls from a viewer without a persona in the environment group', async () => {
    await renderInTestApp(
      <Wrapper api={fakeKmpApi({ broker, me: me(undefined) })}>
        <WorkloadsCard />
      </Wrapper>,
    );
    await screen.findByText('payments-api');
    expect(
      screen.queryByRole('button', { name: /Restart|Scale|Delete|Logs/ }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByText(/Changes are disabled here/),
    ).not.toBeInTheDocument();
  });

  it('shows an unreachable cluster as a state', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          broker: { ...broker, '/apis/apps/v1/deployments': unreachable() },
        })}
      >
        <WorkloadsCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText(/Cluster unreachable: workloads unavailable/),
    ).toBeInTheDocument();
  });

  it('shows an empty state when there are no workloads', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          broker: { ...broker, '/apis/apps/v1/deployments': [] },
        })}
      >
        <WorkloadsCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText('No workloads you may see'),
    ).toBeInTheDocument();
  });

  it('streams the logs of a pod, previous container and follow included', async () => {
    const streamPodLogs = jest.fn(async () => ({
      auditId: 'audit-logs',
      chunks: (async function* chunks() {
        yield 'starting\n';
        yield 'listening on :8080\n';
      })(),
    }));
    await renderInTestApp(
      <Wrapper api={fakeKmpApi({ broker, overrides: { streamPodLogs } })}>
        <WorkloadsCard />
      </Wrapper>,
    );
    fireEvent.click(
      await screen.findByRole('button', {
        name: 'Logs of payments-api-7d9f-abcde',
      }),
    );
    fireEvent.click(screen.getByLabelText('Previous container'));
    fireEvent.click(screen.getByLabelText('Follow'));
    fireEvent.click(screen.getByRole('button', { name: 'Show logs' }));
    await waitFor(() =>
      expect(screen.getByLabelText('log output')).toHaveTextContent(
        'starting listening on :8080',
      ),
    );
    expect(screen.getByText('Audit id: audit-logs')).toBeInTheDocument();
    expect(streamPodLogs).toHaveBeenCalledWith(
      'payments-dev-eu1',
      { namespace: 'team-payments', name: 'payments-api-7d9f-abcde' },
      expect.objectContaining({
        container: 'app',
        previous: true,
        follow: true,
      }),
    );
  });
});
