import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { useTestbed } from '@kmp/kube-testbed';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import request from 'supertest';
import { kmpPlugin } from '../plugin';
import { waitFor } from '../__testUtils__/waitFor';

jest.setTimeout(180_000);

// One real control plane with the Flux and Argo CD custom resources of the
// fixtures (generated structural CRDs: no downloads, little apiserver CPU).
// Among them: the Kustomization flux-system/infrastructure fails
// ("kustomize build failed …"), the Application argocd/payments is Degraded.
const testbed = useTestbed({
  clusters: ['tb-gitops'],
  fixtures: { core: false, crds: true, crdSchemas: 'minimal' },
});

const user = mockCredentials.user.header('user:default/petra');

describe('GitOps state from a real control plane', () => {
  it('records failing and out-of-sync GitOps objects in the cluster status and raises the alert', async () => {
    const { server } = await startTestBackend({
      features: [
        kmpPlugin,
        schedulerServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            kmp: {
              environmentGroups: [
                {
                  name: 'payments-prod',
                  environment: 'production',
                  owner: 'group:default/platform-team',
                },
              ],
              profiles: [
                {
                  name: 'hardened',
                  environment: 'production',
                  podSecurity: 'restricted',
                },
              ],
              registry: {
                encryptionKey: 'test-key-test-key-test-key-test-key-0000',
                allowedClusterHosts: ['127.0.0.1'],
                refresh: {
                  intervalSeconds: 1,
                  timeoutSeconds: 5,
                  unreachableAfter: 3,
                },
              },
              alerts: {
                intervalSeconds: 1,
                rules: { gitopsReconciliation: { forSeconds: 0 } },
              },
            },
          },
        }),
      ],
    });

    const cluster = testbed().cluster('tb-gitops');
    await request(server)
      .post('/api/kmp/clusters')
      .set('Authorization', user)
      .send({
        name: 'tb-gitops',
        environmentGroup: 'payments-prod',
        region: 'eu-west-1',
        profile: 'hardened',
        owner: 'group:default/platform-team',
        apiServerUrl: cluster.server,
        credentials: {
          certificateAuthority: cluster.caPem,
          token: cluster.token,
        },
      })
      .expect(201);

    const get = async () =>
      (
        await request(server)
          .get('/api/kmp/clusters/tb-gitops')
          .set('Authorization', user)
      ).body;

    const gitops = await waitFor('GitOps state', async () => {
      const c = await get();
      return c.status?.gitops;
    });
    // Kustomizations apps and infrastructure, HelmRelease redis,
    // Applications storefront and payments (GitRepositories are not counted).
    expect(gitops).toMatchObject({
      objects: 5,
      failingCount: 2,
      outOfSyncCount: 0,
      outOfSync: [],
      checkedAt: expect.any(String),
    });
    expect(gitops.failing).toEqual([
      {
        engine: 'argocd',
        kind: 'Application',
        namespace: 'argocd',
        name: 'payments',
        state: 'failed',
        reason: 'Degraded',
        message: 'Deployment "payments-worker" exceeded its progress deadline',
        since: expect.any(String),
      },
      {
        engine: 'flux',
        kind: 'Kustomization',
        namespace: 'flux-system',
        name: 'infrastructure',
        state: 'failed',
        reason: 'BuildFailed',
        message: expect.stringMatching(/^kustomize build failed: /),
        since: expect.any(String),
      },
    ]);

    // Alerts read what the refresh stored.
    const alerts = await waitFor('GitOps alert', async () => {
      const items = (
        await request(server)
          .get('/api/kmp/clusters/tb-gitops/alerts?status=firing')
          .set('Authorization', user)
      ).body.items as Array<{ alertname: string; description: string }>;
      return items?.find(a => a.alertname === 'KmpGitOpsReconciliationFailing');
    });
    expect(alerts.description).toContain(
      'Kustomization flux-system/infrastructure: BuildFailed — kustomize build failed',
    );

    // Argo CD reports the healthy application out of sync: the next
    // refresh lists it as drifting.
    const custom = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
    await custom.patchNamespacedCustomObjectStatus({
      group: 'argoproj.io',
      version: 'v1alpha1',
      namespace: 'argocd',
      plural: 'applications',
      name: 'storefront',
      body: [
        { op: 'replace', path: '/status/sync/status', value: 'OutOfSync' },
      ],
    });
    const drifting = await waitFor('out-of-sync application', async () => {
      const c = await get();
      return c.status?.gitops?.outOfSyncCount === 1
        ? c.status.gitops
        : undefined;
    });
    expect(drifting.outOfSync).toEqual([
      expect.objectContaining({
        engine: 'argocd',
        kind: 'Application',
        namespace: 'argocd',
        name: 'storefront',
        state: 'out-of-sync',
      }),
    ]);
  });
});
