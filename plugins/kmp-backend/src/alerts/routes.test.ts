import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import request from 'supertest';
import { startHttpReceiver } from '../audit/__testUtils__/receivers';
import { testKmpConfig } from '../__testUtils__/testServices';
import { kmpPlugin } from '../plugin';

jest.setTimeout(60_000);

const user = mockCredentials.user.header('user:default/petra');

const cluster = (name: string, group = 'apps-prod') => ({
  name,
  environmentGroup: group,
  region: 'eu-west-1',
  profile: group === 'apps-prod' ? 'hardened' : 'standard',
  owner: 'group:default/platform-team',
  // Nothing listens there: the registry's first probe fails.
  apiServerUrl: 'https://127.0.0.1:1',
  credentials: { token: `secret-${name}` },
});

const edgeOnly = {
  result: AuthorizeResult.CONDITIONAL,
  pluginId: 'kmp',
  resourceType: 'kmp-cluster',
  conditions: {
    rule: 'IS_IN_ENVIRONMENT_GROUP',
    resourceType: 'kmp-cluster',
    params: { environmentGroups: ['apps-nonprod'] },
  },
} as PolicyDecision;

async function until(condition: () => Promise<boolean> | boolean, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise(r => setTimeout(r, 25));
  }
}

async function start(options: {
  decide?: () => PolicyDecision;
  alerts?: object;
}) {
  const permissions = mockServices.permissions.mock();
  const decide = async (requests: any[]) =>
    requests.map(() =>
      options.decide ? options.decide() : { result: AuthorizeResult.ALLOW },
    ) as any;
  permissions.authorize.mockImplementation(decide);
  permissions.authorizeConditional.mockImplementation(decide);
  const scheduler = mockServices.scheduler();
  const base = testKmpConfig();
  const backend = await startTestBackend({
    features: [
      kmpPlugin,
      mockServices.rootConfig.factory({
        data: {
          kmp: {
            ...base,
            registry: {
              ...base.registry,
              refresh: { intervalSeconds: 3600, unreachableAfter: 1 },
            },
            alerts: options.alerts ?? {},
          },
        },
      }),
      permissions.factory,
      // Tasks run only when a test triggers them.
      createServiceFactory({
        service: coreServices.scheduler,
        deps: {},
        factory: () => scheduler,
      }),
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
    ],
  });
  const { server } = backend;
  const register = async (name: string, group?: string) => {
    await request(server)
      .post('/api/kmp/clusters')
      .set('Authorization', user)
      .send(cluster(name, group))
      .expect(201);
    await until(async () => {
      const res = await request(server)
        .get(`/api/kmp/clusters/${name}`)
        .set('Authorization', user);
      return res.body.lifecycleState === 'unreachable';
    });
  };
  return { backend, server, scheduler, register };
}

describe('alerts routes', () => {
  it('refuses unauthenticated callers and malformed queries', async () => {
    const { server, backend } = await start({});
    for (const path of [
      '/api/kmp/alerts',
      '/api/kmp/alerts/summary',
      '/api/kmp/alerts/receivers',
      '/api/kmp/alerts/metrics',
      '/api/kmp/clusters/a/alerts',
    ]) {
      expect((await request(server).get(path)).status).toBe(401);
    }
    for (const query of [
      'status=open',
      'severity=low',
      'limit=0',
      'limit=1001',
      'offset=-1',
    ]) {
      const res = await request(server)
        .get(`/api/kmp/alerts?${query}`)
        .set('Authorization', user);
      expect(res.status).toBe(400);
    }
    const missing = await request(server)
      .get('/api/kmp/clusters/nope/alerts')
      .set('Authorization', user);
    expect(missing.status).toBe(404);
    await backend.stop();
  });

  it('lists, pages and counts alerts derived from the registry, scoped to what the caller may read', async () => {
    let decision: PolicyDecision = { result: AuthorizeResult.ALLOW };
    const { server, scheduler, register, backend } = await start({
      decide: () => decision,
    });
    const before = await request(server)
      .get('/api/kmp/alerts')
      .set('Authorization', user);
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      items: [],
      totalCount: 0,
      evaluation: { enabled: true, intervalSeconds: 60, receivers: 0 },
    });

    await register('a');
    await register('b');
    await register('c', 'apps-nonprod');
    await scheduler.triggerTask('kmp-alerts-evaluate');

    const all = await request(server)
      .get('/api/kmp/alerts?status=firing')
      .set('Authorization', user);
    expect(all.status).toBe(200);
    expect(all.body.totalCount).toBe(3);
    expect(all.body.evaluation.lastEvaluatedAt).toEqual(expect.any(String));
    expect(all.body.items[0]).toMatchObject({
      alertname: 'KmpClusterUnreachable',
      severity: 'critical',
      status: 'firing',
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(JSON.stringify(all.body)).not.toContain('secret-');

    const page = await request(server)
      .get('/api/kmp/alerts?limit=2&offset=2')
      .set('Authorization', user);
    expect(page.body.totalCount).toBe(3);
    expect(page.body.items).toHaveLength(1);

    const ofB = await request(server)
      .get('/api/kmp/clusters/b/alerts?severity=critical')
      .set('Authorization', user);
    expect(ofB.status).toBe(200);
    expect(ofB.body.items.map((a: any) => a.cluster)).toEqual(['b']);

    const summary = await request(server)
      .get('/api/kmp/alerts/summary?cluster=a&cluster=c')
      .set('Authorization', user);
    expect(summary.body).toMatchObject({
      firing: 2,
      bySeverity: { critical: 2, high: 0 },
      clusters: [
        { cluster: 'a', firing: 1, bySeverity: { critical: 1 } },
        { cluster: 'c', firing: 1, bySeverity: { critical: 1 } },
      ],
    });

    // A caller who sees only the non-production group.
    decision = edgeOnly;
    const scoped = await request(server)
      .get('/api/kmp/alerts')
      .set('Authorization', user);
    expect(scoped.body.items.map((a: any) => a.cluster)).toEqual(['c']);
    expect(scoped.body.totalCount).toBe(1);
    expect(
      (
        await request(server)
          .get('/api/kmp/alerts/summary')
          .set('Authorization', user)
      ).body.firing,
    ).toBe(1);
    const hidden = await request(server)
      .get('/api/kmp/clusters/a/alerts')
      .set('Authorization', user);
    expect(hidden.status).toBe(403);
    expect(hidden.body.error.message).toContain(
      "not allowed to kmp.cluster.read on cluster 'a'",
    );
    for (const path of [
      '/api/kmp/alerts/receivers',
      '/api/kmp/alerts/metrics',
    ]) {
      expect(
        (await request(server).get(path).set('Authorization', user)).status,
      ).toBe(403);
    }

    // No persona at all: an empty list, not an error.
    decision = { result: AuthorizeResult.DENY };
    const none = await request(server)
      .get('/api/kmp/alerts')
      .set('Authorization', user);
    expect(none.body).toMatchObject({ items: [], totalCount: 0 });
    await backend.stop();
  });

  it('forwards firing and resolved alerts to a real Alertmanager webhook receiver', async () => {
    const webhooks: any[] = [];
    const receiver = await startHttpReceiver({
      parse: () => [],
      onRequest: ({ body }) => webhooks.push(JSON.parse(body)),
    });
    const { server, scheduler, register, backend } = await start({
      alerts: {
        allowedReceiverHosts: ['127.0.0.1'],
        allowInsecureHttp: true,
        receivers: [
          {
            name: 'alertmanager',
            type: 'alertmanager-webhook',
            url: `http://127.0.0.1:${receiver.port}/webhook`,
            minBackoffMs: 20,
            maxBackoffMs: 100,
          },
        ],
      },
    });
    try {
      // The delivery loop runs until the task is cancelled.
      const delivering = scheduler.triggerTask(
        'kmp-alert-receiver-alertmanager',
      );
      await register('a');
      await scheduler.triggerTask('kmp-alerts-evaluate');
      await until(() => webhooks.length === 1);
      expect(webhooks[0]).toMatchObject({
        version: '4',
        status: 'firing',
        receiver: 'alertmanager',
        alerts: [
          {
            status: 'firing',
            labels: {
              alertname: 'KmpClusterUnreachable',
              cluster: 'a',
              environment_group: 'apps-prod',
            },
          },
        ],
      });

      // The receiver answered; the cursor moves right after.
      await until(async () => {
        const res = await request(server)
          .get('/api/kmp/alerts/receivers')
          .set('Authorization', user);
        return res.body.items[0].delivered === 1;
      });
      const metrics = await request(server)
        .get('/api/kmp/alerts/metrics')
        .set('Authorization', user);
      expect(metrics.status).toBe(200);
      expect(metrics.headers['content-type']).toContain('text/plain');
      expect(metrics.text).toContain(
        `kmp_alert{alertname="KmpClusterUnreachable",alertstate="firing",cluster="a",environment="production",environment_group="apps-prod",fingerprint="${webhooks[0].alerts[0].fingerprint}",region="eu-west-1",severity="critical",source="kmp"} 1\n`,
      );
      expect(metrics.text).toContain(
        'kmp_alerts_firing{severity="critical"} 1\n',
      );
      expect(metrics.text).toContain(
        'kmp_alert_receiver_state{receiver="alertmanager",state="healthy"} 1\n',
      );
      expect(metrics.text).toMatch(
        /^kmp_alerts_last_evaluation_timestamp_seconds \d+(\.\d+)?$/m,
      );

      await request(server)
        .delete('/api/kmp/clusters/a')
        .set('Authorization', user)
        .expect(200);
      await scheduler.triggerTask('kmp-alerts-evaluate');
      await until(() => webhooks.length === 2);
      await until(async () => {
        const res = await request(server)
          .get('/api/kmp/alerts/receivers')
          .set('Authorization', user);
        return res.body.items[0].delivered === 2;
      });
      expect(webhooks[1]).toMatchObject({
        status: 'resolved',
        alerts: [
          {
            status: 'resolved',
            fingerprint: webhooks[0].alerts[0].fingerprint,
          },
        ],
      });

      const receivers = await request(server)
        .get('/api/kmp/alerts/receivers')
        .set('Authorization', user);
      expect(receivers.body.items).toEqual([
        expect.objectContaining({
          name: 'alertmanager',
          type: 'alertmanager-webhook',
          state: 'healthy',
          delivered: 2,
          pending: 0,
        }),
      ]);
      expect(JSON.stringify(receivers.body)).not.toContain('127.0.0.1');
      await scheduler.cancelTask('kmp-alert-receiver-alertmanager');
      await delivering;
      await backend.stop();
    } finally {
      await receiver.close();
    }
  });
});
