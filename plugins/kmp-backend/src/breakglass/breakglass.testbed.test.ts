import { useTestbed } from '@kmp/kube-testbed';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import request from 'supertest';
import {
  startBrokerBackend,
  userHeader,
} from '../broker/__testUtils__/brokerTestBackend';

jest.setTimeout(180_000);

const testbed = useTestbed({
  clusters: ['bg-prod'],
  fixtures: { core: true, crds: false },
});

// The test backend's permission policy allows both everything, including
// kmp.break-glass.approve: four eyes must hold without the policy's help.
const alice = userHeader('user:default/alice'); // team-payments developer
const petra = userHeader('user:default/petra'); // platform-team

describe('break-glass through the broker, against a real control plane', () => {
  let broker: Awaited<ReturnType<typeof startBrokerBackend>>;

  beforeAll(async () => {
    broker = await startBrokerBackend({
      clusters: [
        {
          name: 'bg-prod',
          cluster: testbed().cluster('bg-prod'),
          environmentGroup: 'apps-prod',
          auth: 'token',
        },
      ],
    });
    // Cluster RBAC lets alice edit her team's namespace: only KMP's
    // environment policy stands between her and a production change.
    await testbed()
      .cluster('bg-prod')
      .kubeConfig()
      .makeApiClient(RbacAuthorizationV1Api)
      .createNamespacedRoleBinding({
        namespace: 'team-payments',
        body: {
          metadata: { name: 'alice-edit' },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'ClusterRole',
            name: 'edit',
          },
          subjects: [
            {
              apiGroup: 'rbac.authorization.k8s.io',
              kind: 'User',
              name: 'user:default/alice',
            },
          ],
        },
      });
  });

  afterAll(async () => {
    await broker?.backend.stop();
  });

  const path = '/api/v1/namespaces/team-payments/configmaps';
  const write = (name: string, where = path) =>
    broker.kube(alice, 'bg-prod', 'POST', where, {
      body: { metadata: { name }, data: { hotfix: 'true' } },
    });
  const act = (who: string, id: string, what: string) =>
    request(broker.server)
      .post(`/api/kmp/break-glass/requests/${id}/${what}`)
      .set('Authorization', who)
      .send({});

  it('request → self-approval refused → approved by another → production write → revoke → refused again', async () => {
    const before = await write('before-grant');
    expect(before.status).toBe(403);
    expect(before.json.message).toContain(
      'production changes go through GitOps',
    );

    const created = await request(broker.server)
      .post('/api/kmp/break-glass/requests')
      .set('Authorization', alice)
      .send({
        cluster: 'bg-prod',
        reason: 'payments checkout down; hotfix the config map',
        durationSeconds: 900,
        namespace: 'team-payments',
      });
    expect(created.status).toBe(201);
    const grantId: string = created.body.id;

    // Pending is not granted.
    expect((await write('while-pending')).status).toBe(403);

    const self = await act(alice, grantId, 'approve');
    expect(self.status).toBe(403);
    expect(self.body.error.message).toContain(
      'cannot approve their own break-glass request',
    );
    expect((await write('after-self-approval')).status).toBe(403);

    const approved = await act(petra, grantId, 'approve');
    expect(approved.status).toBe(200);
    expect(approved.body.state).toBe('approved');

    const during = await write('during-grant');
    expect(during.status).toBe(201);
    expect(during.json).toMatchObject({
      kind: 'ConfigMap',
      metadata: { name: 'during-grant', namespace: 'team-payments' },
    });
    const events = await broker.auditOf(during);
    expect(events.map(e => e.outcome)).toEqual(['pending', 'success']);
    for (const event of events) {
      expect(event).toMatchObject({
        action: 'proxy.request',
        actor: { type: 'break-glass', ref: 'user:default/alice' },
        target: { cluster: 'bg-prod', namespace: 'team-payments' },
        decision: { result: 'allow' },
        details: expect.objectContaining({ breakGlassGrant: grantId }),
      });
    }
    // The grant is scoped to team-payments.
    const elsewhere = await write(
      'outside-scope',
      '/api/v1/namespaces/team-retail/configmaps',
    );
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.json.message).toContain(
      'production changes go through GitOps',
    );

    const revoked = await act(alice, grantId, 'revoke');
    expect(revoked.status).toBe(200);
    expect(revoked.body.state).toBe('revoked');

    const after = await write('after-revoke');
    expect(after.status).toBe(403);
    expect(after.json.message).toContain(
      'production changes go through GitOps',
    );
    const [refusal] = await broker.auditOf(after);
    expect(refusal).toMatchObject({
      actor: { type: 'human', ref: 'user:default/alice' },
      decision: {
        result: 'deny',
        reason: 'production changes go through GitOps',
      },
    });
  });
});
