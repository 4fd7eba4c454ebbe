import { renderInTestApp } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import { GitOpsCard } from './GitOpsCard';
import {
  fakeKmpApi,
  me,
  refused,
  unreachable,
  Wrapper,
} from './__testUtils__/fakes';

jest.setTimeout(60_000);

const sha = 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2';

const flux = {
  '/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations': [
    {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: 'infrastructure', namespace: 'flux-system' },
      status: {
        lastAppliedRevision: `main@sha1:${sha}`,
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'BuildFailed',
            message: 'kustomize build failed',
          },
        ],
      },
    },
  ],
  '/apis/helm.toolkit.fluxcd.io/v2/helmreleases': [
    {
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: 'redis', namespace: 'team-payments' },
      status: {
        history: [{ chartVersion: '20.6.2' }],
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'InstallSucceeded',
            message: 'Helm install succeeded',
          },
        ],
      },
    },
  ],
  '/apis/source.toolkit.fluxcd.io/v1/gitrepositories': [],
};

const argo = {
  '/apis/argoproj.io/v1alpha1/applications': [
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'payments', namespace: 'argocd' },
      status: {
        sync: { status: 'OutOfSync', revision: sha },
        health: {
          status: 'Degraded',
          message:
            'Deployment "payments-worker" exceeded its progress deadline',
        },
      },
    },
  ],
};

describe('GitOpsCard', () => {
  it('shows Flux and Argo CD objects with status and last revision', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({ me: me('ops'), broker: { ...flux, ...argo } })}
      >
        <GitOpsCard />
      </Wrapper>,
    );
    const ks = (await screen.findByText('infrastructure')).closest('tr')!;
    expect(within(ks).getByText('BuildFailed')).toBeInTheDocument();
    expect(within(ks).getByLabelText('Status error')).toBeInTheDocument();
    expect(within(ks).getByText('main@sha1:a1b2c3d4e5f6')).toBeInTheDocument();
    const hr = screen.getByText('redis').closest('tr')!;
    expect(within(hr).getByText('Ready')).toBeInTheDocument();
    expect(within(hr).getByText('20.6.2')).toBeInTheDocument();
    const app = screen.getByText('payments').closest('tr')!;
    expect(within(app).getByText('OutOfSync · Degraded')).toBeInTheDocument();
    expect(
      within(app).getByText(/exceeded its progress deadline/),
    ).toBeInTheDocument();
  });

  it('tells failing objects from ones still reconciling or suspended, as the alerts do', async () => {
    const kustomization = (name: string, ready: object, spec = {}) => ({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name, namespace: 'flux-system' },
      spec,
      status: { conditions: [{ type: 'Ready', ...ready }] },
    });
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          me: me('ops'),
          broker: {
            '/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations': [
              kustomization('waiting', {
                status: 'False',
                reason: 'DependencyNotReady',
                message: "dependency 'flux-system/infrastructure' is not ready",
              }),
              kustomization(
                'paused',
                { status: 'False', reason: 'BuildFailed' },
                { suspend: true },
              ),
              kustomization('broken', {
                status: 'False',
                reason: 'HealthCheckFailed',
              }),
            ],
            '/apis/argoproj.io/v1alpha1/applications': [
              {
                apiVersion: 'argoproj.io/v1alpha1',
                kind: 'Application',
                metadata: { name: 'search', namespace: 'argocd' },
                status: {
                  sync: { status: 'OutOfSync' },
                  health: { status: 'Healthy' },
                  operationState: {
                    phase: 'Failed',
                    message: 'one or more objects failed to apply',
                  },
                },
              },
            ],
          },
        })}
      >
        <GitOpsCard />
      </Wrapper>,
    );
    const row = async (name: string) =>
      within((await screen.findByText(name)).closest('tr')!);
    const waiting = await row('waiting');
    expect(waiting.getByText('DependencyNotReady')).toBeInTheDocument();
    expect(waiting.getByLabelText('Status pending')).toBeInTheDocument();
    expect(waiting.queryByLabelText('Status error')).toBeNull();
    const paused = await row('paused');
    expect(paused.getByText('Suspended')).toBeInTheDocument();
    expect(paused.getByLabelText('Status warning')).toBeInTheDocument();
    const broken = await row('broken');
    expect(broken.getByText('HealthCheckFailed')).toBeInTheDocument();
    expect(broken.getByLabelText('Status error')).toBeInTheDocument();
    // A failed sync is a failure even while the app itself is Healthy.
    const search = await row('search');
    expect(search.getByText('OutOfSync · Healthy')).toBeInTheDocument();
    expect(search.getByLabelText('Status error')).toBeInTheDocument();
    expect(
      search.getByText('one or more objects failed to apply'),
    ).toBeInTheDocument();
  });

  it('skips kinds whose CRDs are absent and says when there is no GitOps at all', async () => {
    const { unmount } = await renderInTestApp(
      <Wrapper api={fakeKmpApi({ me: me('ops'), broker: argo })}>
        <GitOpsCard />
      </Wrapper>,
    );
    expect(await screen.findByText('payments')).toBeInTheDocument();
    unmount();
    await renderInTestApp(
      <Wrapper api={fakeKmpApi({ me: me('ops'), broker: {} })}>
        <GitOpsCard />
      </Wrapper>,
    );
    expect(await screen.findByText('No GitOps controller')).toBeInTheDocument();
  });

  it('shows an unreachable cluster as a warning', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          me: me('ops'),
          broker: {
            ...argo,
            '/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations':
              unreachable(),
          },
        })}
      >
        <GitOpsCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText(/Cluster unreachable: GitOps state unavailable/),
    ).toBeInTheDocument();
  });

  it('shows a refusal as a state, with the rule and audit id', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          me: me('ops'),
          broker: {
            ...argo,
            '/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations': refused(
              'kustomizations is forbidden',
            ),
          },
        })}
      >
        <GitOpsCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText('GitOps objects are not visible to you'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('kustomizations is forbidden (audit id audit-denied)'),
    ).toBeInTheDocument();
  });
});
