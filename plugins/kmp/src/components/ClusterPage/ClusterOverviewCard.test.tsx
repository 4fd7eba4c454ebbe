import { renderInTestApp } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import { ResponseError } from '@backstage/errors';
import { ClusterOverviewCard } from './ClusterOverviewCard';
import {
  clusterEntity,
  fakeKmpApi,
  me,
  testCluster,
  Wrapper,
} from './__testUtils__/fakes';

describe('ClusterOverviewCard', () => {
  it('shows metadata, health, nodes, control plane, connectivity, profile and the viewer persona', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          cluster: testCluster({
            status: {
              nodeCount: 3,
              nodesReady: 2,
              controlPlaneHealthy: true,
            },
          }),
          me: me('ops'),
        })}
      >
        <ClusterOverviewCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText('Payments dev (EU 1) (payments-dev-eu1)'),
    ).toBeInTheDocument();
    expect(screen.getByText('active')).toBeInTheDocument();
    expect(screen.getByText('2/3 ready')).toBeInTheDocument();
    expect(screen.getByText('healthy')).toBeInTheDocument();
    expect(screen.getByText('direct')).toBeInTheDocument();
    expect(screen.getByText('standard')).toBeInTheDocument();
    expect(screen.getByText('v1.35.4')).toBeInTheDocument();
    expect(await screen.findByText('Ops')).toBeInTheDocument();
  });

  it('shows an unreachable cluster and its last error as a state', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          cluster: testCluster({
            lifecycleState: 'unreachable',
            status: {
              nodeCount: 3,
              controlPlaneHealthy: false,
              lastError: 'connect ECONNREFUSED 127.0.0.1:6443',
              consecutiveFailures: 4,
            },
          }),
          me: me(undefined),
        })}
      >
        <ClusterOverviewCard />
      </Wrapper>,
    );
    expect(await screen.findByText('unreachable')).toBeInTheDocument();
    expect(screen.getByText('unhealthy')).toBeInTheDocument();
    expect(
      screen.getByText('connect ECONNREFUSED 127.0.0.1:6443'),
    ).toBeInTheDocument();
    expect(
      await screen.findByText('none in this environment group'),
    ).toBeInTheDocument();
  });

  it("shows how long the API server's serving certificate is valid, warning before it expires", async () => {
    const day = 86_400_000;
    const render = async (days: number) =>
      renderInTestApp(
        <Wrapper
          api={fakeKmpApi({
            cluster: testCluster({
              status: {
                servingCertificate: {
                  notAfter: new Date(
                    Date.now() + days * day + 60_000,
                  ).toISOString(),
                  subject: 'CN=kube-apiserver',
                },
              },
            }),
            me: me('ops'),
          })}
        >
          <ClusterOverviewCard />
        </Wrapper>,
      );
    const first = await render(200);
    expect(
      await screen.findByText(/^valid for 200 more days \(until /),
    ).toBeInTheDocument();
    first.unmount();
    const second = await render(12);
    const soon = await screen.findByText(/^valid for 12 more days/);
    // A warning, not OK: the status component's own label says which.
    expect(soon.closest('[aria-label]')?.getAttribute('aria-label')).toMatch(
      /warning/i,
    );
    second.unmount();
    await render(-3);
    expect(await screen.findByText(/^expired \(until /)).toBeInTheDocument();
  });

  it('shows node problems: pressure and cordons as a warning, nodes without network as an error', async () => {
    const render = (nodeProblems: object) =>
      renderInTestApp(
        <Wrapper
          api={fakeKmpApi({
            cluster: testCluster({
              status: { nodeCount: 3, nodesReady: 3, nodeProblems } as any,
            }),
            me: me('ops'),
          })}
        >
          <ClusterOverviewCard />
        </Wrapper>,
      );
    const none = {
      pressure: [],
      pressureCount: 0,
      unschedulable: [],
      unschedulableCount: 0,
      networkUnavailable: [],
      networkUnavailableCount: 0,
    };
    const first = await render(none);
    expect(await screen.findByText(/^node problems$/i)).toBeInTheDocument();
    expect(screen.getByText('none')).toBeInTheDocument();
    first.unmount();

    const second = await render({
      ...none,
      pressure: [{ node: 'worker-1', conditions: ['MemoryPressure'] }],
      pressureCount: 1,
      unschedulable: ['worker-2'],
      unschedulableCount: 1,
    });
    const warning = await screen.findByText(
      '1 under pressure (worker-1: MemoryPressure) · 1 cordoned',
    );
    expect(warning.closest('[aria-label]')?.getAttribute('aria-label')).toMatch(
      /warning/i,
    );
    second.unmount();

    await render({
      ...none,
      networkUnavailable: ['worker-3'],
      networkUnavailableCount: 1,
    });
    const error = await screen.findByText('1 without network (CNI)');
    expect(error.closest('[aria-label]')?.getAttribute('aria-label')).toMatch(
      /error/i,
    );
  });

  it('says when the entity is not a KMP cluster', async () => {
    const entity = clusterEntity();
    entity.metadata.annotations = {};
    await renderInTestApp(
      <Wrapper api={fakeKmpApi({})} entity={entity}>
        <ClusterOverviewCard />
      </Wrapper>,
    );
    expect(await screen.findByText('Not a KMP cluster')).toBeInTheDocument();
  });

  it('shows a registry error instead of crashing', async () => {
    const response = new Response(
      JSON.stringify({
        error: {
          name: 'NotFoundError',
          message: "cluster 'payments-dev-eu1' is not registered",
        },
        response: { statusCode: 404 },
      }),
      { status: 404, headers: { 'content-type': 'application/json' } },
    );
    const error = await ResponseError.fromResponse(response);
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          overrides: {
            getCluster: async () => {
              throw error;
            },
          },
        })}
      >
        <ClusterOverviewCard />
      </Wrapper>,
    );
    expect(
      (
        await screen.findAllByText(
          /cluster 'payments-dev-eu1' is not registered/,
        )
      ).length,
    ).toBeGreaterThan(0);
  });
});
