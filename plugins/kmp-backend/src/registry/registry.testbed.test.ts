import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { CoreV1Api } from '@kubernetes/client-node';
import { useTestbed } from '@kmp/kube-testbed';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import tls from 'node:tls';
import request from 'supertest';
import { kmpPlugin } from '../plugin';
import { waitFor } from '../__testUtils__/waitFor';

jest.setTimeout(180_000);

// Two real control planes with nodes and workloads (core fixtures only).
const testbed = useTestbed({
  clusters: ['tb-prod', 'tb-dev'],
  fixtures: { core: true, crds: false },
});

const user = mockCredentials.user.header('user:default/petra');

/** The certificate a TLS server presents (not verified: only read). */
function peerCertificate(server: string): Promise<tls.PeerCertificate> {
  const url = new URL(server);
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        host: url.hostname,
        port: Number(url.port),
        rejectUnauthorized: false,
      },
      () => {
        resolve(socket.getPeerCertificate());
        socket.end();
      },
    );
    socket.on('error', reject);
  });
}

describe('cluster registry against real control planes', () => {
  it('registers clusters, refreshes their metadata, tracks reachability and decommissions', async () => {
    const { server } = await startTestBackend({
      features: [
        kmpPlugin,
        // The real scheduler, so that the refresh loop runs.
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
                {
                  name: 'payments-nonprod',
                  environment: 'non-production',
                  owner: 'group:default/platform-team',
                },
              ],
              profiles: [
                {
                  name: 'hardened',
                  environment: 'production',
                  podSecurity: 'restricted',
                },
                {
                  name: 'standard',
                  environment: 'non-production',
                  podSecurity: 'baseline',
                },
              ],
              registry: {
                encryptionKey: 'test-key-test-key-test-key-test-key-0000',
                allowedClusterHosts: ['127.0.0.1'],
                refresh: {
                  intervalSeconds: 1,
                  timeoutSeconds: 2,
                  unreachableAfter: 2,
                },
              },
            },
          },
        }),
      ],
    });

    const prod = testbed().cluster('tb-prod');
    const dev = testbed().cluster('tb-dev');
    const register = (
      name: string,
      cluster: typeof prod,
      group: string,
      profile: string,
      auth: object,
    ) =>
      request(server)
        .post('/api/kmp/clusters')
        .set('Authorization', user)
        .send({
          name,
          environmentGroup: group,
          region: 'eu-west-1',
          profile,
          owner: 'group:default/platform-team',
          apiServerUrl: cluster.server,
          credentials: { certificateAuthority: cluster.caPem, ...auth },
        });

    // One with a bearer token, one with a client certificate.
    expect(
      (
        await register('tb-prod', prod, 'payments-prod', 'hardened', {
          token: prod.token,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await register('tb-dev', dev, 'payments-nonprod', 'standard', {
          clientCertificate: dev.clientCertPem,
          clientKey: dev.clientKeyPem,
        })
      ).status,
    ).toBe(201);

    const get = async (name: string) =>
      (
        await request(server)
          .get(`/api/kmp/clusters/${name}`)
          .set('Authorization', user)
      ).body;

    for (const name of ['tb-prod', 'tb-dev']) {
      const active = await waitFor(`${name} active`, async () => {
        const c = await get(name);
        return c.lifecycleState === 'active' ? c : undefined;
      });
      expect(active.kubernetesVersion).toMatch(/^v1\.3\d\./);
      expect(active.status.controlPlaneHealthy).toBe(true);
      expect(active.status.nodeCount).toBeGreaterThan(0);
      expect(active.status.nodesReady).toBeLessThanOrEqual(
        active.status.nodeCount,
      );
      expect(active.status.lastSeenAt).toBeDefined();
      // The serving certificate the API server presents in the handshake.
      const peer = await peerCertificate(testbed().cluster(name).server);
      expect(active.status.servingCertificate).toEqual({
        notAfter: new Date(peer.valid_to).toISOString(),
        subject: expect.stringContaining(`CN=${peer.subject.CN}`),
      });
    }

    // Tenant namespaces (labelled with a team) are recorded per cluster;
    // a label change shows on the next refresh.
    const core = testbed()
      .cluster('tb-prod')
      .kubeConfig()
      .makeApiClient(CoreV1Api);
    await core.createNamespace({
      body: {
        metadata: {
          name: 'checkout',
          labels: { 'kmp.backstage.io/team': 'team-payments' },
        },
      },
    });
    const tenantsOf = async (name: string) => (await get(name)).tenants;
    expect(
      await waitFor('tb-prod tenants', async () => {
        const tenants = await tenantsOf('tb-prod');
        return tenants?.length ? tenants : undefined;
      }),
    ).toEqual([{ namespace: 'checkout', team: 'team-payments' }]);
    expect(await tenantsOf('tb-dev')).toBeUndefined();
    await core.patchNamespace({
      name: 'checkout',
      body: [
        {
          op: 'replace',
          path: '/metadata/labels/kmp.backstage.io~1team',
          value: 'team-shop',
        },
      ],
    });
    expect(
      await waitFor('tb-prod tenant relabelled', async () => {
        const tenants = await tenantsOf('tb-prod');
        return tenants?.[0]?.team === 'team-shop' ? tenants : undefined;
      }),
    ).toEqual([{ namespace: 'checkout', team: 'team-shop' }]);

    // A cordoned node, and a node whose network (CNI) is not set up, show
    // in the status on the next refresh, and clear again.
    const nodeName = (await core.listNode()).items[0].metadata!.name!;
    const nodeProblems = async () => (await get('tb-prod')).status.nodeProblems;
    expect(await nodeProblems()).toMatchObject({
      unschedulable: [],
      networkUnavailable: [],
    });
    await core.patchNode({
      name: nodeName,
      body: [{ op: 'add', path: '/spec/unschedulable', value: true }],
    });
    const now = new Date().toISOString();
    await core.patchNodeStatus({
      name: nodeName,
      body: [
        {
          op: 'add',
          path: '/status/conditions/-',
          value: {
            type: 'NetworkUnavailable',
            status: 'True',
            reason: 'NoRouteCreated',
            message: 'CNI plugin not initialized',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        },
      ],
    });
    expect(
      await waitFor('tb-prod node cordoned and without network', async () => {
        const problems = await nodeProblems();
        return problems?.unschedulable.includes(nodeName) &&
          problems.networkUnavailable.includes(nodeName)
          ? problems
          : undefined;
      }),
    ).toMatchObject({
      unschedulable: [nodeName],
      unschedulableCount: 1,
      networkUnavailable: [nodeName],
      networkUnavailableCount: 1,
      checkedAt: expect.any(String),
    });
    // A cordoned node without network is still a node: not a state change.
    expect((await get('tb-prod')).lifecycleState).toBe('active');
    await core.patchNode({
      name: nodeName,
      body: [{ op: 'add', path: '/spec/unschedulable', value: false }],
    });
    const conditions = (await core.readNodeStatus({ name: nodeName })).status!
      .conditions!;
    const network = conditions.findIndex(c => c.type === 'NetworkUnavailable');
    await core.patchNodeStatus({
      name: nodeName,
      body: [
        {
          op: 'replace',
          path: `/status/conditions/${network}/status`,
          value: 'False',
        },
      ],
    });
    await waitFor('tb-prod node problems cleared', async () => {
      const problems = await nodeProblems();
      return problems?.unschedulableCount === 0 &&
        problems.networkUnavailableCount === 0
        ? true
        : undefined;
    });

    // Stop one cluster: it becomes unreachable, the other stays active.
    await dev.makeUnreachable('down');
    await waitFor('tb-dev unreachable', async () =>
      (await get('tb-dev')).lifecycleState === 'unreachable' ? true : undefined,
    );
    expect((await get('tb-prod')).lifecycleState).toBe('active');

    // A hung cluster (accepts connections, never answers) costs at most the
    // timeout and does not hold back the other.
    await prod.makeUnreachable('hang');
    await waitFor('tb-prod unreachable', async () =>
      (await get('tb-prod')).lifecycleState === 'unreachable'
        ? true
        : undefined,
    );
    expect((await get('tb-prod')).status.lastError).toMatch(/timed out/);

    // Both recover by themselves.
    await dev.restore();
    await prod.restore();
    for (const name of ['tb-prod', 'tb-dev']) {
      await waitFor(`${name} active again`, async () =>
        (await get(name)).lifecycleState === 'active' ? true : undefined,
      );
    }
    const history = (
      await request(server)
        .get('/api/kmp/clusters/tb-dev/history')
        .set('Authorization', user)
    ).body.items;
    const transitions = history
      .filter((h: any) => h.action === 'state-change')
      .map((h: any) => h.changes.lifecycleState);
    // A restarted control plane may pass through degraded (not yet ready).
    expect(transitions.slice(0, 2)).toEqual([
      ['registering', 'active'],
      ['active', 'unreachable'],
    ]);
    expect(transitions[transitions.length - 1][1]).toBe('active');

    await request(server)
      .delete('/api/kmp/clusters/tb-dev')
      .set('Authorization', user)
      .expect(200);
    const list = (
      await request(server).get('/api/kmp/clusters').set('Authorization', user)
    ).body;
    expect(list.items.map((c: any) => c.name)).toEqual(['tb-prod']);

    // No credential in any response.
    const everything = JSON.stringify([list, history, await get('tb-prod')]);
    expect(everything).not.toContain(prod.token);
    expect(everything).not.toContain('PRIVATE KEY');
  });
});
