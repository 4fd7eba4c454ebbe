import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { mockCredentials } from '@backstage/backend-test-utils';
import catalogBackend from '@backstage/plugin-catalog-backend';
import kubernetesBackend from '@backstage/plugin-kubernetes-backend';
import { useTestbed } from '@kmp/kube-testbed';
import catalogModuleKmp from '@kmp/plugin-catalog-backend-module-kmp';
// The broker's own test backend (registry, permission and user stand-ins),
// reused rather than copied; it is test code, not part of the package API.
// eslint-disable-next-line @backstage/no-forbidden-package-imports, @backstage/no-mixed-plugin-imports
import {
  startBrokerBackend,
  userHeader,
} from '@kmp/plugin-kmp-backend/src/broker/__testUtils__/brokerTestBackend';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { kubernetesModuleKmp } from './module';

jest.setTimeout(180_000);

const testbed = useTestbed({
  clusters: ['kx-dev'],
  fixtures: { core: true, crds: false },
});

const ALICE = 'user:default/alice'; // team-payments developer
// Denied broker reads by the test policy, and without RBAC on the cluster.
const OUTSIDER = 'user:default/outsider';

/** The catalog Component whose workloads the Kubernetes plugin shows. */
const component = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'checkout',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': 'checkout',
      'backstage.io/kubernetes-namespace': 'team-payments',
    },
  },
  spec: {
    type: 'service',
    lifecycle: 'production',
    owner: 'group:default/team-payments',
  },
};

async function waitFor<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise(r => setTimeout(r, 250));
  }
}

describe('the stock Kubernetes plugin through the KMP broker, as the signed-in user', () => {
  let broker: Awaited<ReturnType<typeof startBrokerBackend>>;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmp-k8s-module-'));
    const catalogFile = path.join(dir, 'catalog-info.yaml');
    fs.writeFileSync(catalogFile, JSON.stringify(component));

    const admin = testbed().cluster('kx-dev').kubeConfig();
    await admin.makeApiClient(CoreV1Api).createNamespacedPod({
      namespace: 'team-payments',
      body: {
        metadata: {
          name: 'checkout-7d9f',
          labels: { 'backstage.io/kubernetes-id': 'checkout' },
        },
        spec: {
          securityContext: {
            runAsNonRoot: true,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'app',
              image: 'registry.example.com/payments/checkout:1.4.2',
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
        },
      },
    });
    // Cluster RBAC: alice may read her team's namespace.
    await admin
      .makeApiClient(RbacAuthorizationV1Api)
      .createNamespacedRoleBinding({
        namespace: 'team-payments',
        body: {
          metadata: { name: 'alice-view' },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'ClusterRole',
            name: 'view',
          },
          subjects: [
            {
              apiGroup: 'rbac.authorization.k8s.io',
              kind: 'User',
              name: ALICE,
            },
          ],
        },
      });

    broker = await startBrokerBackend({
      clusters: [
        {
          name: 'kx-dev',
          cluster: testbed().cluster('kx-dev'),
          environmentGroup: 'apps-nonprod',
          auth: 'cert',
        },
      ],
      features: [
        catalogBackend,
        catalogModuleKmp,
        kubernetesBackend,
        kubernetesModuleKmp,
        schedulerServiceFactory,
      ],
      kmp: { catalog: { deltaSyncSeconds: 1, fullSyncSeconds: 3600 } },
      config: {
        catalog: {
          processingInterval: { seconds: 1 },
          rules: [{ allow: ['Component', 'System', 'Resource', 'Location'] }],
          locations: [{ type: 'file', target: catalogFile }],
        },
        kubernetes: {
          serviceLocatorMethod: { type: 'multiTenant' },
          // The broker is on loopback in the test.
          clusterLocatorMethods: [
            { type: 'catalog', dangerouslyAllowClusterUrls: ['localhost'] },
          ],
        },
      },
    });

    // The registry's cluster reaches the catalog (KMP's catalog module) and
    // the stock cluster locator; the Component is ingested from its file.
    const alice = userHeader(ALICE);
    await waitFor(async () => {
      const res = await request(broker.server)
        .get('/api/kubernetes/clusters')
        .set('Authorization', alice);
      return res.body?.items?.some((c: any) => c.name === 'kx-dev')
        ? true
        : undefined;
    });
    await waitFor(async () => {
      const res = await request(broker.server)
        .get('/api/catalog/entities/by-name/component/default/checkout')
        .set('Authorization', alice);
      return res.status === 200 ? true : undefined;
    });
  });

  afterAll(async () => {
    await broker?.backend.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** What the stock frontend sends: the entity, and auth.kmp from the `kmp` provider. */
  const workloads = (who: string, auth: Record<string, unknown>) =>
    request(broker.server)
      .post('/api/kubernetes/services/checkout')
      .set('Authorization', userHeader(who))
      .send({ entity: component, auth });

  const brokerEvents = async (actor?: string) => {
    const res = await request(broker.server)
      .get(
        `/api/kmp/audit/events?cluster=kx-dev${
          actor ? `&actor=${encodeURIComponent(actor)}` : ''
        }&limit=500`,
      )
      .set('Authorization', userHeader('user:default/petra'));
    expect(res.status).toBe(200);
    return res.body.items as any[];
  };

  it("shows the component's pods from the real cluster, read through the broker as the user", async () => {
    const res = await workloads(ALICE, {
      kmp: mockCredentials.user.token(ALICE),
    });
    expect(res.status).toBe(200);
    const [item] = res.body.items;
    expect(item.cluster).toEqual({ name: 'kx-dev' });
    const pods = item.resources.find((r: any) => r.type === 'pods');
    expect(pods.resources.map((p: any) => p.metadata.name)).toEqual([
      'checkout-7d9f',
    ]);
    // Nothing was refused but pod metrics, which alice's cluster role
    // (view) does not cover — the cluster's own RBAC, applied to her.
    expect(
      (item.errors as any[]).filter(
        e => !e.resourcePath?.includes('/apis/metrics.k8s.io/'),
      ),
    ).toEqual([]);

    // The broker saw, authorised, impersonated and audited alice herself.
    const events = await brokerEvents(ALICE);
    // The core pods list; the plugin also lists metrics.k8s.io "pods"
    // concurrently, which the cluster refuses her (see above).
    const podList = events.find(
      e =>
        e.target.resource?.resource === 'pods' &&
        !e.target.resource?.group &&
        e.target.namespace === 'team-payments' &&
        e.request?.verb === 'list',
    );
    expect(podList).toMatchObject({
      action: 'proxy.request',
      actor: { type: 'human', ref: ALICE, persona: 'developer' },
      target: { cluster: 'kx-dev', environmentGroup: 'apps-nonprod' },
      decision: { result: 'allow' },
      outcome: 'success',
      response: { status: 200 },
    });
    // …and never the Kubernetes plugin's service identity.
    expect(
      (await brokerEvents()).filter(e => !e.actor.ref.startsWith('user:')),
    ).toEqual([]);
  });

  it('serves the stock proxy endpoint as the user too', async () => {
    const res = await request(broker.server)
      .get('/api/kubernetes/proxy/api/v1/namespaces/team-payments/pods')
      .set('Authorization', userHeader(ALICE))
      .set('Backstage-Kubernetes-Cluster', 'kx-dev')
      .set(
        'Backstage-Kubernetes-Authorization-kmp',
        mockCredentials.user.token(ALICE),
      );
    expect(res.status).toBe(200);
    expect(res.body.items.map((p: any) => p.metadata.name)).toContain(
      'checkout-7d9f',
    );
    expect(res.headers['kmp-audit-id']).toMatch(/^[0-9a-f-]{36}$/);
    // The broker acted as alice, and the user's token the stock proxy passed
    // on in its own header went no further than the broker.
    const [event] = await broker.auditOf(res);
    expect(event).toMatchObject({
      actor: { type: 'human', ref: ALICE },
      decision: { result: 'allow' },
      response: { status: 200 },
    });
    expect(event.details.strippedHeaders).toEqual(
      expect.arrayContaining([
        'authorization',
        'backstage-kubernetes-authorization-kmp',
      ]),
    );
  });

  it("passes the broker's refusal on to a user the broker refuses", async () => {
    const res = await workloads(OUTSIDER, {
      kmp: mockCredentials.user.token(OUTSIDER),
    });
    expect(res.status).toBe(200);
    const [item] = res.body.items;
    const pods = item.resources.find((r: any) => r.type === 'pods');
    expect(pods).toBeUndefined();
    expect(item.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          statusCode: 403,
          resourcePath:
            '/api/kmp/proxy/clusters/kx-dev/api/v1/namespaces/team-payments/pods',
        }),
      ]),
    );
    // The broker acted as outsider — refused by KMP's permission policy or,
    // impersonated, by the cluster's RBAC — never with the access of the
    // Kubernetes plugin's own identity or of the broker's credential.
    const refusals = await brokerEvents(OUTSIDER);
    expect(refusals.length).toBeGreaterThan(0);
    for (const event of refusals) {
      expect(event).toMatchObject({
        actor: { ref: OUTSIDER },
        outcome: 'failure',
        response: { status: 403 },
      });
    }
    expect(
      (await brokerEvents()).filter(e => !e.actor.ref.startsWith('user:')),
    ).toEqual([]);
  });

  it("never falls back to the plugin's own identity when the user's token is missing or not a user's", async () => {
    const missing = await workloads(ALICE, {});
    expect(missing.status).toBe(500);
    expect(missing.body.error).toContain(
      "auth provider 'kmp' needs the signed-in user's Backstage token under auth.kmp",
    );
    const service = await workloads(ALICE, {
      kmp: mockCredentials.service.token({
        onBehalfOf: mockCredentials.service('plugin:catalog'),
        targetPluginId: 'kubernetes',
      }),
    });
    expect(service.status).toBe(500);
    expect(service.body.error).toContain("needs a user's token");
    const forged = await workloads(ALICE, { kmp: 'not-a-token' });
    expect(forged.status).toBe(500);
    expect(forged.body.error).toContain(
      'the token under auth.kmp is not a valid Backstage token',
    );
    expect(JSON.stringify(forged.body)).not.toContain('not-a-token');
  });
});
