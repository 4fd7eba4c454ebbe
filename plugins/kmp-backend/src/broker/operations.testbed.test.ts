import { FakeKubelet, KubeRest, useTestbed } from '@kmp/kube-testbed';
import { AppsV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import http from 'node:http';
import request from 'supertest';
import {
  BrokerTestBackend,
  startBrokerBackend,
  userHeader,
} from './__testUtils__/brokerTestBackend';
import { until } from './__testUtils__/kubectl';
import { RESTARTED_AT_ANNOTATION } from './operations';

jest.setTimeout(180_000);

const testbed = useTestbed({
  clusters: ['op-dev'],
  fixtures: { core: true, crds: false },
});

const alice = userHeader('user:default/alice'); // developer (team-payments)
const petra = userHeader('user:default/petra'); // platform-engineer
const NS = 'team-payments';
const workload = (cluster: string, kind: string, name: string) =>
  `/api/kmp/clusters/${cluster}/namespaces/${NS}/workloads/${kind}/${name}`;

describe('typed operational actions through the broker', () => {
  let broker: BrokerTestBackend;
  let kubelet: FakeKubelet;
  let apps: AppsV1Api;

  beforeAll(async () => {
    const dev = testbed().cluster('op-dev');
    broker = await startBrokerBackend({
      clusters: [
        {
          name: 'op-dev',
          cluster: dev,
          environmentGroup: 'apps-nonprod',
          auth: 'cert',
        },
        // The same API server registered a second time, as production.
        {
          name: 'op-prod',
          cluster: dev,
          environmentGroup: 'apps-prod',
          auth: 'token',
        },
      ],
    });
    const rest = new KubeRest(dev);
    await rest.request(
      'PATCH',
      `/api/v1/namespaces/${NS}`,
      { metadata: { labels: { 'kmp.backstage.io/team': 'team-payments' } } },
      'application/merge-patch+json',
    );
    rest.close();
    const rbac = dev.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    for (const user of ['user:default/alice', 'user:default/petra']) {
      await rbac.createNamespacedRoleBinding({
        namespace: NS,
        body: {
          metadata: { name: user.replace(/[^a-z]/g, '-') },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'ClusterRole',
            name: 'edit',
          },
          subjects: [
            { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user },
          ],
        },
      });
    }
    apps = dev.kubeConfig().makeApiClient(AppsV1Api);
    kubelet = await FakeKubelet.start(dev);
    await kubelet.createPod({ namespace: NS, name: 'logger-0' });
  });

  afterAll(async () => {
    await kubelet?.stop();
    await broker?.backend.stop();
  });

  /** The audit events of an action, once it has its outcome. */
  async function auditOf(auditId: string) {
    let events: any[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      events = await broker.auditOf({ headers: { 'kmp-audit-id': auditId } });
      if (events.some(e => e.outcome !== 'pending')) break;
      await new Promise(r => setTimeout(r, 100));
    }
    return events;
  }

  it('restarts a workload with the kubectl rollout restart annotation', async () => {
    const before = await apps.readNamespacedDeployment({
      namespace: NS,
      name: 'payments-api',
    });
    const response = await request(broker.server)
      .post(`${workload('op-dev', 'deployments', 'payments-api')}/restart`)
      .set('Authorization', alice);
    expect(response.status).toBe(200);
    expect(response.body.auditId).toBe(response.headers['kmp-audit-id']);
    const after = await apps.readNamespacedDeployment({
      namespace: NS,
      name: 'payments-api',
    });
    expect(
      after.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION],
    ).toBe(response.body.restartedAt);
    expect(after.metadata?.generation).toBe(
      (before.metadata?.generation ?? 0) + 1,
    );

    const events = await auditOf(response.body.auditId);
    expect(events.map(e => e.outcome)).toEqual(['pending', 'success']);
    expect(events[1]).toMatchObject({
      action: 'proxy.request',
      actor: { ref: 'user:default/alice', persona: 'developer' },
      decision: { result: 'allow' },
      target: {
        cluster: 'op-dev',
        namespace: NS,
        resource: {
          group: 'apps',
          resource: 'deployments',
          name: 'payments-api',
        },
      },
      request: {
        method: 'PATCH',
        path: `/apis/apps/v1/namespaces/${NS}/deployments/payments-api`,
        verb: 'patch',
      },
      response: { status: 200 },
      details: { operation: 'restart', access: 'write' },
    });
  });

  it('scales a workload through its scale subresource', async () => {
    const response = await request(broker.server)
      .post(`${workload('op-dev', 'deployments', 'payments-worker')}/scale`)
      .set('Authorization', alice)
      .send({ replicas: 5 });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      auditId: response.headers['kmp-audit-id'],
      replicas: 5,
    });
    const after = await apps.readNamespacedDeployment({
      namespace: NS,
      name: 'payments-worker',
    });
    expect(after.spec?.replicas).toBe(5);
    const events = await auditOf(response.body.auditId);
    expect(events[1]).toMatchObject({
      target: { resource: { subresource: 'scale', name: 'payments-worker' } },
      details: { operation: 'scale' },
      outcome: 'success',
    });
  });

  it('deletes a pod', async () => {
    await kubelet.createPod({ namespace: NS, name: 'doomed-0' });
    const response = await request(broker.server)
      .delete(`/api/kmp/clusters/op-dev/namespaces/${NS}/pods/doomed-0`)
      .set('Authorization', alice);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ deleted: 'doomed-0' });
    const gone = await broker.kube(
      petra,
      'op-dev',
      'GET',
      `/api/v1/namespaces/${NS}/pods/doomed-0`,
    );
    expect(gone.status).toBe(404);
    const events = await auditOf(response.body.auditId);
    expect(events[1]).toMatchObject({
      request: { method: 'DELETE', verb: 'delete' },
      details: { operation: 'delete-pod' },
      outcome: 'success',
    });
  });

  it('reads, tails and follows logs as a stream', async () => {
    const logs = `/api/kmp/clusters/op-dev/namespaces/${NS}/pods/logger-0/logs`;
    const tail = await request(broker.server)
      .get(`${logs}?container=app&tailLines=2`)
      .set('Authorization', alice);
    expect(tail.status).toBe(200);
    expect(tail.text).toBe(
      `${NS}/logger-0/app line 4\n${NS}/logger-0/app line 5\n`,
    );
    const previous = await request(broker.server)
      .get(`${logs}?previous=true`)
      .set('Authorization', alice);
    expect(previous.text).toContain('logger-0/app previous line 1\n');

    // follow: lines arrive while the response is open.
    let text = '';
    let auditId = '';
    const ended = new Promise<void>((resolve, reject) => {
      http
        .get(
          `http://127.0.0.1:${broker.port}${logs}?follow=true&tailLines=1`,
          { headers: { authorization: alice } },
          res => {
            auditId = String(res.headers['kmp-audit-id']);
            res.setEncoding('utf8');
            res.on('data', d => {
              text += d;
            });
            res.on('end', resolve);
          },
        )
        .on('error', reject);
    });
    await until(
      () => text === `${NS}/logger-0/app line 5\n`,
      () => text,
    );
    await until(
      () => kubelet.followerCount(NS, 'logger-0', 'app') === 1,
      () => 'no follower',
    );
    kubelet.appendLog(NS, 'logger-0', 'app', 'followed line');
    await until(
      () => text.endsWith('followed line\n'),
      () => text,
    );
    kubelet.endLog(NS, 'logger-0', 'app');
    await ended;
    const events = await auditOf(auditId);
    expect(events.map(e => e.outcome)).toEqual(['pending', 'success']);
    expect(events[1]).toMatchObject({
      target: { resource: { subresource: 'log', name: 'logger-0' } },
      details: { operation: 'logs', longRunning: true },
    });
  });

  it('refuses per the persona matrix in production, naming the rule', async () => {
    // developer, production: no restart, no scale, no pod deletion.
    for (const [path, body] of [
      [`${workload('op-prod', 'deployments', 'payments-api')}/restart`, {}],
      [
        `${workload('op-prod', 'deployments', 'payments-api')}/scale`,
        { replicas: 1 },
      ],
    ] as const) {
      const refused = await request(broker.server)
        .post(path)
        .set('Authorization', alice)
        .send(body);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ kind: 'Status', code: 403 });
      const [event] = await broker.auditOf(refused);
      expect(event.decision).toMatchObject({ result: 'deny' });
      expect(refused.body.message).toContain(event.decision.reason);
    }

    // platform-engineer, production: restart yes, scale no (declared in
    // Git). The restart passes the persona matrix and reaches the admission
    // pre-flight (the same path as a proxied patch), which refuses the
    // fixture's non-compliant pod template under the production bundle.
    const restart = await request(broker.server)
      .post(`${workload('op-prod', 'deployments', 'payments-api')}/restart`)
      .set('Authorization', petra);
    expect(restart.status).toBe(422);
    expect(restart.body.message).toContain('KMP admission pre-flight');
    const scale = await request(broker.server)
      .post(`${workload('op-prod', 'deployments', 'payments-api')}/scale`)
      .set('Authorization', petra)
      .send({ replicas: 1 });
    expect(scale.status).toBe(403);
    expect(scale.body.kind).toBe('Status');
    expect((await broker.auditOf(scale))[0].decision.result).toBe('deny');
    const deployment = await apps.readNamespacedDeployment({
      namespace: NS,
      name: 'payments-api',
    });
    expect(deployment.spec?.replicas).not.toBe(1);
  });

  it('validates its input and answers unknown clusters like the proxy', async () => {
    const negative = await request(broker.server)
      .post(`${workload('op-dev', 'deployments', 'payments-api')}/scale`)
      .set('Authorization', alice)
      .send({ replicas: -1 });
    expect(negative.status).toBe(400);
    const daemonset = await request(broker.server)
      .post(`${workload('op-dev', 'daemonsets', 'x')}/scale`)
      .set('Authorization', alice)
      .send({ replicas: 1 });
    expect(daemonset.status).toBe(400);
    const kind = await request(broker.server)
      .post(`${workload('op-dev', 'secrets', 'x')}/restart`)
      .set('Authorization', alice);
    expect(kind.status).toBe(400);
    const badQuery = await request(broker.server)
      .get(
        `/api/kmp/clusters/op-dev/namespaces/${NS}/pods/logger-0/logs?tailLines=-1`,
      )
      .set('Authorization', alice);
    expect(badQuery.status).toBe(400);
    const anonymous = await request(broker.server).post(
      `${workload('op-dev', 'deployments', 'payments-api')}/restart`,
    );
    expect(anonymous.status).toBe(401);
    const unknown = await request(broker.server)
      .post(`${workload('nowhere', 'deployments', 'payments-api')}/restart`)
      .set('Authorization', alice);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ kind: 'Status', code: 404 });
    const missing = await request(broker.server)
      .delete(`/api/kmp/clusters/op-dev/namespaces/${NS}/pods/not-there`)
      .set('Authorization', alice);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    expect(missing.headers['kmp-audit-id']).toBeTruthy();
  });
});
