import { useTestbed } from '@kmp/kube-testbed';
import {
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import http from 'node:http';
import request from 'supertest';
import {
  serviceHeader,
  startBrokerBackend,
  userHeader,
} from './__testUtils__/brokerTestBackend';

jest.setTimeout(180_000);

const testbed = useTestbed({
  clusters: ['bk-dev', 'bk-prod'],
  fixtures: { core: true, crds: false },
});

const alice = userHeader('user:default/alice'); // team-payments developer
const petra = userHeader('user:default/petra'); // platform-team
const reader = userHeader('user:default/reader'); // may only read through KMP
const gitops = serviceHeader('external:gitops');

type Broker = Awaited<ReturnType<typeof startBrokerBackend>>;

/** Cluster RBAC, applied with the testbed's admin credential. */
async function bind(
  clusterName: string,
  binding: {
    name: string;
    namespace?: string;
    role: string;
    subject: { kind: 'User' | 'Group'; name: string };
  },
) {
  const rbac = testbed()
    .cluster(clusterName)
    .kubeConfig()
    .makeApiClient(RbacAuthorizationV1Api);
  const body = {
    metadata: { name: binding.name, namespace: binding.namespace },
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: binding.role,
    },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', ...binding.subject }],
  };
  if (binding.namespace) {
    await rbac.createNamespacedRoleBinding({
      namespace: binding.namespace,
      body,
    });
  } else {
    await rbac.createClusterRoleBinding({ body });
  }
}

/** Retries until RBAC changes reached the API server's authorizer cache. */
async function eventually<T>(
  fn: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise(r => setTimeout(r, 200));
  }
}

describe('the access broker against real control planes', () => {
  let broker: Broker;

  beforeAll(async () => {
    broker = await startBrokerBackend({
      clusters: [
        {
          name: 'bk-dev',
          cluster: testbed().cluster('bk-dev'),
          environmentGroup: 'apps-nonprod',
          auth: 'cert',
        },
        {
          name: 'bk-prod',
          cluster: testbed().cluster('bk-prod'),
          environmentGroup: 'apps-prod',
          auth: 'token',
        },
      ],
      broker: {
        timeouts: { connectMs: 1_500, stallProbeMs: 1_000, responseMs: 20_000 },
        circuitBreaker: { failureThreshold: 2, coolDownMs: 3_000 },
      },
    });
  });

  afterAll(async () => {
    await broker?.backend.stop();
  });

  it('forwards non-resource requests and answers with the cluster', async () => {
    const version = await broker.kube(petra, 'bk-dev', 'GET', '/version');
    expect(version.status).toBe(200);
    expect(version.json.gitVersion).toMatch(/^v1\.\d+\./);
    expect(version.headers['kmp-audit-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(version.headers['cache-control']).toContain('no-transform');
  });

  it('impersonates the caller: cluster RBAC decides what they see', async () => {
    const path = '/api/v1/namespaces/team-payments/pods';
    const before = await broker.kube(alice, 'bk-dev', 'GET', path);
    expect(before.status).toBe(403);
    expect(before.json).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      code: 403,
    });
    // The cluster names the real actor, not the broker's admin credential.
    expect(before.json.message).toContain('User "user:default/alice"');

    await bind('bk-dev', {
      name: 'alice-edit',
      namespace: 'team-payments',
      role: 'edit',
      subject: { kind: 'User', name: 'user:default/alice' },
    });
    const after = await eventually(
      () => broker.kube(alice, 'bk-dev', 'GET', path),
      r => r.status === 200,
    );
    expect(after.status).toBe(200);
    expect(after.json.kind).toBe('PodList');
    expect(after.json.items.length).toBeGreaterThan(0);

    // Allowed reads are audited with actor, persona, target and outcome.
    const [event] = await broker.auditOf(after);
    expect(event).toMatchObject({
      action: 'proxy.request',
      actor: {
        type: 'human',
        ref: 'user:default/alice',
        persona: 'developer',
      },
      target: {
        cluster: 'bk-dev',
        environmentGroup: 'apps-nonprod',
        namespace: 'team-payments',
        resource: { group: '', version: 'v1', resource: 'pods' },
      },
      decision: { result: 'allow' },
      outcome: 'success',
      request: { method: 'GET', verb: 'list' },
      response: { status: 200 },
    });
    expect(event.response.durationMs).toBeGreaterThan(0);
  });

  it('impersonates the groups: ownership refs and the persona group', async () => {
    const path = '/api/v1/namespaces/team-retail/configmaps';
    expect((await broker.kube(alice, 'bk-dev', 'GET', path)).status).toBe(403);
    await bind('bk-dev', {
      name: 'developers-view',
      namespace: 'team-retail',
      role: 'view',
      subject: { kind: 'Group', name: 'kmp:persona:developer' },
    });
    expect(
      (
        await eventually(
          () => broker.kube(alice, 'bk-dev', 'GET', path),
          r => r.status === 200,
        )
      ).status,
    ).toBe(200);

    await bind('bk-dev', {
      name: 'platform-team-view',
      role: 'view',
      subject: { kind: 'Group', name: 'group:default/platform-team' },
    });
    const namespaces = await eventually(
      () => broker.kube(petra, 'bk-dev', 'GET', '/api/v1/namespaces'),
      r => r.status === 200,
    );
    expect(namespaces.status).toBe(200);
  });

  it('strips smuggled identity headers: a caller cannot escalate', async () => {
    const response = await broker.kube(
      alice,
      'bk-dev',
      'GET',
      '/api/v1/namespaces/kube-system/secrets',
      {
        headers: {
          'Impersonate-User': 'system:admin',
          'Impersonate-Group': ['system:masters', 'system:authenticated'],
          'Impersonate-Uid': '0',
          'X-Remote-User': 'system:admin',
          'X-Remote-Group': 'system:masters',
          'X-Forwarded-For': '10.1.2.3',
          'Proxy-Authorization': 'Basic YWRtaW46YWRtaW4=',
          'Audit-ID': 'forged',
        },
      },
    );
    expect(response.status).toBe(403);
    expect(response.json.message).toContain('User "user:default/alice"');
    expect(response.json.message).not.toContain('system:admin');
    const [event] = await broker.auditOf(response);
    expect(event.details.strippedHeaders).toEqual(
      expect.arrayContaining([
        'impersonate-user',
        'impersonate-group',
        'impersonate-uid',
        'x-remote-user',
        'x-remote-group',
        'x-forwarded-for',
        'proxy-authorization',
        'audit-id',
      ]),
    );
    // The cluster's own audit id is the KMP correlation id.
    expect(response.headers['audit-id']).toBe(response.headers['kmp-audit-id']);
  });

  it('streams watch events as they happen and audits the watch twice', async () => {
    const events: any[] = [];
    let buffered = '';
    let watchResponse: http.IncomingMessage | undefined;
    const watch = http.get({
      host: '127.0.0.1',
      port: broker.port,
      path: '/api/kmp/proxy/clusters/bk-dev/api/v1/namespaces/team-payments/configmaps?watch=true&fieldSelector=metadata.name%3Dwatched',
      headers: { authorization: alice, 'accept-encoding': 'gzip' },
    });
    const started = new Promise<void>((resolve, reject) => {
      watch.on('response', res => {
        watchResponse = res;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) events.push(JSON.parse(line));
        });
        resolve();
      });
      watch.on('error', reject);
    });
    await started;
    expect(watchResponse?.statusCode).toBe(200);
    expect(watchResponse?.headers['transfer-encoding']).toBe('chunked');
    // Not re-compressed by the backend: events arrive as they are written.
    expect(watchResponse?.headers['content-encoding']).toBeUndefined();

    const created = await broker.kube(
      alice,
      'bk-dev',
      'POST',
      '/api/v1/namespaces/team-payments/configmaps',
      { body: { metadata: { name: 'watched' }, data: { a: '1' } } },
    );
    expect(created.status).toBe(201);
    await eventually(
      async () => events.length,
      n => n > 0,
    );
    expect(events[0]).toMatchObject({
      type: 'ADDED',
      object: { kind: 'ConfigMap', metadata: { name: 'watched' } },
    });
    // The stream is still open: a change arrives on the same response.
    await broker.kube(
      alice,
      'bk-dev',
      'PATCH',
      '/api/v1/namespaces/team-payments/configmaps/watched',
      {
        body: { data: { a: '2' } },
        contentType: 'application/merge-patch+json',
      },
    );
    await eventually(
      async () => events.length,
      n => n > 1,
    );
    expect(events[1]).toMatchObject({
      type: 'MODIFIED',
      object: { data: { a: '2' } },
    });

    const id = watchResponse!.headers['kmp-audit-id'] as string;
    const fakeResponse = { headers: { 'kmp-audit-id': id } } as any;
    const whileOpen = await broker.auditOf(fakeResponse);
    expect(whileOpen.map(e => e.outcome)).toEqual(['pending']);
    expect(whileOpen[0].request.verb).toBe('watch');

    watch.destroy();
    const closed = await eventually(
      () => broker.auditOf(fakeResponse),
      items => items.length === 2,
    );
    expect(closed[1]).toMatchObject({
      outcome: 'success',
      response: { status: 200 },
      details: { ended: 'client-closed', longRunning: true },
    });

    // The create was audited before it was forwarded, and again after.
    const createEvents = await broker.auditOf(created);
    expect(createEvents.map(e => e.outcome)).toEqual(['pending', 'success']);
    expect(createEvents[1]).toMatchObject({
      request: { verb: 'create' },
      response: { status: 201 },
    });
  });

  it('passes the cluster answer for pod logs through as a Status (the testbed has no kubelet)', async () => {
    const core = testbed()
      .cluster('bk-dev')
      .kubeConfig()
      .makeApiClient(CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: 'team-payments' });
    const pod = pods.items[0].metadata!.name!;
    const logs = await broker.kube(
      alice,
      'bk-dev',
      'GET',
      `/api/v1/namespaces/team-payments/pods/${pod}/log?follow=true`,
    );
    expect(logs.status).toBeGreaterThanOrEqual(400);
    expect(logs.json).toMatchObject({ kind: 'Status', status: 'Failure' });
    const missing = await broker.kube(
      alice,
      'bk-dev',
      'GET',
      '/api/v1/namespaces/team-payments/pods/no-such-pod/log',
    );
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ kind: 'Status', reason: 'NotFound' });
  });

  it.each([
    ['dot segments', '/api/v1/namespaces/team-payments/../../secrets'],
    ['encoded slash', '/api/v1/namespaces%2fkube-system/secrets'],
    ['encoded dots', '/api/v1/namespaces/x/%2e%2e/%2e%2e/secrets'],
    ['a path outside the API', '/metrics'],
    ['apiserver log files', '/logs/'],
    ['empty segments', '//evil.example.com/api/v1/pods'],
  ])('refuses %s with a 400 Status and audits the denial', async (_, path) => {
    const response = await broker.kube(petra, 'bk-dev', 'GET', path);
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      code: 400,
    });
    const [event] = await broker.auditOf(response);
    expect(event).toMatchObject({
      actor: { ref: 'user:default/petra' },
      target: { cluster: 'bk-dev' },
      decision: { result: 'deny', reason: 'path hygiene' },
      outcome: 'failure',
      response: { status: 400 },
    });
  });

  it('refuses an absolute-form request target', async () => {
    const response = await broker.raw(
      'GET',
      `http://evil.example.com/api/kmp/proxy/clusters/bk-dev/api/v1/pods`,
      { headers: { authorization: petra } },
    );
    expect(response.status).toBe(400);
    expect(response.json.message).toContain('absolute URLs');
  });

  it('refuses oversized bodies with 413, declared or chunked, and audits them', async () => {
    const big = JSON.stringify({
      metadata: { name: 'big' },
      data: { a: 'x'.repeat(4 * 1024 * 1024) },
    });
    const declared = await broker.kube(
      alice,
      'bk-dev',
      'POST',
      '/api/v1/namespaces/team-payments/configmaps',
      { body: big },
    );
    expect(declared.status).toBe(413);
    expect(declared.json).toMatchObject({
      kind: 'Status',
      reason: 'RequestEntityTooLarge',
    });
    const [event] = await broker.auditOf(declared);
    expect(event.decision).toEqual({
      result: 'deny',
      reason: 'request body too large',
    });

    const chunked = await broker.raw(
      'POST',
      '/api/kmp/proxy/clusters/bk-dev/api/v1/namespaces/team-payments/configmaps',
      {
        headers: { authorization: alice, 'content-type': 'application/json' },
        chunks: Array.from({ length: 5 }, () => Buffer.alloc(1024 * 1024, 'a')),
      },
    );
    expect(chunked.status).toBe(413);
  });

  it('refuses production writes that do not come from GitOps, with the rule', async () => {
    const path = '/api/v1/namespaces/team-payments/configmaps';
    const body = { metadata: { name: 'hand-made' }, data: { a: '1' } };
    const refused = await broker.kube(petra, 'bk-prod', 'POST', path, { body });
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
    expect(refused.json.message).toContain(
      'production changes go through GitOps',
    );
    const [event] = await broker.auditOf(refused);
    expect(event).toMatchObject({
      actor: { ref: 'user:default/petra', persona: 'platform-engineer' },
      target: { cluster: 'bk-prod', environmentGroup: 'apps-prod' },
      decision: {
        result: 'deny',
        reason: 'production changes go through GitOps',
      },
      outcome: 'failure',
      response: { status: 403 },
    });

    // Reads in production are fine.
    await bind('bk-prod', {
      name: 'platform-team-view',
      role: 'view',
      subject: { kind: 'Group', name: 'group:default/platform-team' },
    });
    expect(
      (
        await eventually(
          () => broker.kube(petra, 'bk-prod', 'GET', path),
          r => r.status === 200,
        )
      ).status,
    ).toBe(200);

    // The GitOps identity writes; the cluster sees it impersonated.
    await bind('bk-prod', {
      name: 'gitops-admin',
      role: 'cluster-admin',
      subject: { kind: 'User', name: 'external:gitops' },
    });
    const applied = await eventually(
      () =>
        broker.kube(gitops, 'bk-prod', 'POST', path, {
          body: { metadata: { name: 'from-git' }, data: { a: '1' } },
        }),
      r => r.status === 201,
    );
    expect(applied.status).toBe(201);
    const events = await broker.auditOf(applied);
    expect(events[events.length - 1]).toMatchObject({
      actor: { type: 'gitops', ref: 'external:gitops' },
      decision: { result: 'allow' },
      outcome: 'success',
    });
  });

  it('refuses writes without the write permission, before the cluster sees them', async () => {
    const response = await broker.kube(
      reader,
      'bk-dev',
      'DELETE',
      '/api/v1/namespaces/team-payments/configmaps/watched',
    );
    expect(response.status).toBe(403);
    expect(response.json.message).toContain(
      'kmp.cluster.access.write is not granted on cluster bk-dev',
    );
    const outsider = await broker.kube(
      userHeader('user:default/outsider'),
      'bk-dev',
      'GET',
      '/version',
    );
    expect(outsider.status).toBe(403);
  });

  it('checks writes against the policy bundle: warns in non-production, refuses in production', async () => {
    const privilegedPod = (name: string) => ({
      metadata: {
        name,
        labels: { 'kmp.backstage.io/team': 'payments' },
        annotations: {
          'kmp.backstage.io/owner': 'group:default/team-payments',
          'kmp.backstage.io/cost-centre': 'cc-1',
        },
      },
      spec: {
        containers: [
          {
            name: 'shell',
            image: 'registry.k8s.io/pause:3.10',
            securityContext: { privileged: true },
          },
        ],
      },
    });

    // Non-production: ClickOps within guardrails; violations come back as
    // Warning headers (kubectl prints them). The body names no kind: the
    // pre-flight checks the API server's dry-run result, not the body.
    const warned = await broker.kube(
      alice,
      'bk-dev',
      'POST',
      '/api/v1/namespaces/team-payments/pods',
      {
        body: {
          metadata: { name: 'plain' },
          spec: {
            containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }],
          },
        },
      },
    );
    expect(warned.status).toBe(201);
    expect(warned.headers.warning).toContain('require-requests-limits');
    const warnedEvents = await broker.auditOf(warned);
    expect(warnedEvents[1].details.violations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          rule: 'require-requests-limits',
          enforcement: 'Warn',
        }),
      ]),
    );
    await broker.kube(
      alice,
      'bk-dev',
      'DELETE',
      '/api/v1/namespaces/team-payments/pods/plain',
    );

    // The cluster's own admission (Pod Security on team-payments) refuses a
    // privileged pod in the dry run: the caller gets the cluster's answer.
    const psa = await broker.kube(
      alice,
      'bk-dev',
      'POST',
      '/api/v1/namespaces/team-payments/pods',
      { body: privilegedPod('root-shell') },
    );
    expect(psa.status).toBe(403);
    expect(psa.json.message).toContain('violates PodSecurity');
    expect((await broker.auditOf(psa))[0]).toMatchObject({
      outcome: 'failure',
      response: { status: 403 },
      details: { dryRun: true },
    });

    // Production: the GitOps identity's writes are checked too, and denied
    // (in a namespace without Pod Security, so only KMP's pre-flight stands
    // between the manifest and the cluster).
    await testbed()
      .cluster('bk-prod')
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: 'gitops-apps' } } });
    const refused = await broker.kube(
      gitops,
      'bk-prod',
      'POST',
      '/api/v1/namespaces/gitops-apps/pods',
      { body: privilegedPod('root-shell') },
    );
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({
      kind: 'Status',
      reason: 'Invalid',
      details: { kind: 'Pod' },
    });
    expect(refused.json.details.causes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          message: expect.stringContaining('pod-security-privileged'),
        }),
      ]),
    );
    const [event] = await broker.auditOf(refused);
    expect(event).toMatchObject({
      actor: { type: 'gitops' },
      decision: { result: 'deny' },
      outcome: 'failure',
      response: { status: 422 },
    });
    expect(event.decision.reason).toMatch(
      /^admission pre-flight: .*pod-security-privileged/,
    );
    // Nothing reached the cluster.
    const core = testbed()
      .cluster('bk-prod')
      .kubeConfig()
      .makeApiClient(CoreV1Api);
    await expect(
      core.readNamespacedPod({ name: 'root-shell', namespace: 'gitops-apps' }),
    ).rejects.toThrow();

    // A strategic-merge patch is checked as the object it would produce.
    const patched = await broker.kube(
      gitops,
      'bk-prod',
      'PATCH',
      '/apis/apps/v1/namespaces/team-payments/deployments/payments-api',
      {
        contentType: 'application/strategic-merge-patch+json',
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'app', securityContext: { privileged: true } },
                ],
              },
            },
          },
        },
      },
    );
    expect(patched.status).toBe(422);
    expect(patched.json.details.kind).toBe('Deployment');
    expect(patched.json.message).toContain('pod-security-privileged');

    // An ordinary patch in non-production goes through.
    const labelled = await broker.kube(
      alice,
      'bk-dev',
      'PATCH',
      '/apis/apps/v1/namespaces/team-payments/deployments/payments-api',
      {
        contentType: 'application/merge-patch+json',
        body: { metadata: { labels: { patched: 'yes' } } },
      },
    );
    expect(labelled.status).toBe(200);
    expect(labelled.json.metadata.labels.patched).toBe('yes');

    // When the dry run fails, its answer is the caller's; nothing is forwarded.
    const invalid = await broker.kube(
      alice,
      'bk-dev',
      'POST',
      '/api/v1/namespaces/team-payments/configmaps',
      { body: { metadata: { name: 'Not_A_Valid_Name' } } },
    );
    expect(invalid.status).toBe(422);
    expect(invalid.json).toMatchObject({ kind: 'Status', reason: 'Invalid' });
    expect((await broker.auditOf(invalid))[0]).toMatchObject({
      decision: { result: 'allow' },
      outcome: 'failure',
      response: { status: 422 },
      details: { dryRun: true },
    });

    // Bodies the broker does not decode reach the pre-flight through the
    // dry run; a broken one gets the API server's own answer.
    const protobuf = await broker.kube(
      alice,
      'bk-dev',
      'POST',
      '/api/v1/namespaces/team-payments/pods',
      { body: 'k8s\u0000', contentType: 'application/vnd.kubernetes.protobuf' },
    );
    expect(protobuf.status).toBeGreaterThanOrEqual(400);
    expect(protobuf.status).toBeLessThan(500);
    expect(protobuf.json).toMatchObject({ kind: 'Status' });
    const bomb = await broker.kube(
      alice,
      'bk-dev',
      'POST',
      '/api/v1/namespaces/team-payments/configmaps',
      {
        contentType: 'application/yaml',
        body: [
          'a: &a ["x","x","x","x","x","x","x","x","x"]',
          'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
          'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
          'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
          'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
          'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
        ].join('\n'),
      },
    );
    expect(bomb.status).toBe(400);
    expect((await broker.auditOf(bomb))[0].decision).toEqual({
      result: 'deny',
      reason: 'malformed body',
    });
  });

  it('answers unknown and decommissioned clusters and unauthenticated callers with a Status', async () => {
    const unknown = await broker.kube(petra, 'nope', 'GET', '/version');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    expect((await broker.auditOf(unknown))[0].decision.reason).toBe(
      'cluster not registered',
    );

    const registered = await request(broker.server)
      .post('/api/kmp/clusters')
      .set('Authorization', petra)
      .send({
        name: 'bk-gone',
        environmentGroup: 'apps-nonprod',
        region: 'eu-west-1',
        profile: 'standard',
        owner: 'group:default/platform-team',
        apiServerUrl: testbed().cluster('bk-dev').server,
        credentials: {
          certificateAuthority: testbed().cluster('bk-dev').caPem,
          token: testbed().cluster('bk-dev').token,
        },
      });
    expect(registered.status).toBe(201);
    expect(
      (await broker.kube(petra, 'bk-gone', 'GET', '/version')).status,
    ).toBe(200);
    await request(broker.server)
      .delete('/api/kmp/clusters/bk-gone')
      .set('Authorization', petra)
      .expect(200);
    // Within kmp.broker.clusterCacheMs (1 s by default).
    const gone = await eventually(
      () => broker.kube(petra, 'bk-gone', 'GET', '/version'),
      r => r.status === 404,
      3_000,
    );
    expect(gone.status).toBe(404);

    const anonymous = await broker.raw(
      'GET',
      '/api/kmp/proxy/clusters/bk-dev/version',
    );
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toMatchObject({
      kind: 'Status',
      reason: 'Unauthorized',
    });
    expect((await broker.auditOf(anonymous))[0]).toMatchObject({
      actor: { ref: 'unauthenticated' },
      decision: { result: 'deny', reason: 'not authenticated' },
    });
  });

  it('serves @kubernetes/client-node pointed at the broker', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'kmp',
          server: `http://127.0.0.1:${broker.port}/api/kmp/proxy/clusters/bk-dev`,
          // client-node insists on this for plain http; there is no TLS here.
          skipTLSVerify: true,
        },
      ],
      users: [{ name: 'petra', token: petra.replace(/^Bearer /, '') }],
      contexts: [{ name: 'kmp', cluster: 'kmp', user: 'petra' }],
      currentContext: 'kmp',
    });
    const core = kc.makeApiClient(CoreV1Api);
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map(n => n.metadata?.name)).toEqual(
      expect.arrayContaining(['team-payments', 'team-retail', 'kube-system']),
    );
  });

  it('refreshes the registry when a namespace changes through it, so the fleet knows the tenants at once', async () => {
    const tenantsOf = async () =>
      (
        await broker.raw('GET', '/api/kmp/clusters/bk-dev', {
          headers: { authorization: petra },
        })
      ).json.tenants as Array<{ namespace: string; team: string }> | undefined;
    const has = (t: Array<{ namespace: string }> | undefined, ns: string) =>
      !!t?.some(x => x.namespace === ns);
    // The registry's interval refresh is an hour away in these tests.
    expect(has(await tenantsOf(), 'bk-tenant')).toBe(false);
    // The cluster's RBAC lets platform engineers create namespaces.
    await bind('bk-dev', {
      name: 'kmp-platform-admin',
      role: 'cluster-admin',
      subject: { kind: 'Group', name: 'kmp:persona:platform-engineer' },
    });
    const created = await eventually(
      () =>
        broker.kube(petra, 'bk-dev', 'POST', '/api/v1/namespaces', {
          body: {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: {
              name: 'bk-tenant',
              labels: { 'kmp.backstage.io/team': 'team-bk' },
            },
          },
        }),
      r => r.status === 201,
    );
    expect(created.status).toBe(201);
    const seen = await eventually(tenantsOf, t => has(t, 'bk-tenant'), 10_000);
    expect(seen).toContainEqual({ namespace: 'bk-tenant', team: 'team-bk' });

    // A changed team label shows as soon.
    const relabelled = await broker.kube(
      petra,
      'bk-dev',
      'PATCH',
      '/api/v1/namespaces/bk-tenant',
      {
        contentType: 'application/merge-patch+json',
        body: { metadata: { labels: { 'kmp.backstage.io/team': 'team-bk2' } } },
      },
    );
    expect(relabelled.status).toBe(200);
    const moved = await eventually(
      tenantsOf,
      t => !!t?.some(x => x.namespace === 'bk-tenant' && x.team === 'team-bk2'),
      10_000,
    );
    expect(moved).toContainEqual({ namespace: 'bk-tenant', team: 'team-bk2' });
    expect(
      (
        await broker.kube(
          petra,
          'bk-dev',
          'DELETE',
          '/api/v1/namespaces/bk-tenant',
        )
      ).status,
    ).toBe(200);
  });

  it('answers a frozen cluster with 503 within seconds, then the breaker refuses at once and recovers', async () => {
    const prod = testbed().cluster('bk-prod');
    // Warm the pool: the next request would reuse a keep-alive socket.
    expect(
      (await broker.kube(petra, 'bk-prod', 'GET', '/version')).status,
    ).toBe(200);
    await prod.makeUnreachable('hang');
    try {
      let t = Date.now();
      const first = await broker.kube(petra, 'bk-prod', 'GET', '/version');
      const firstMs = Date.now() - t;
      expect(first.status).toBe(503);
      expect(first.json).toMatchObject({
        kind: 'Status',
        reason: 'ServiceUnavailable',
      });
      expect(firstMs).toBeLessThan(5_000);

      t = Date.now();
      const second = await broker.kube(
        petra,
        'bk-prod',
        'GET',
        '/api/v1/namespaces',
      );
      expect(second.status).toBe(503);
      expect(Date.now() - t).toBeLessThan(5_000);

      // Open: refused without touching the cluster.
      t = Date.now();
      const third = await broker.kube(petra, 'bk-prod', 'GET', '/version');
      expect(third.status).toBe(503);
      expect(Date.now() - t).toBeLessThan(500);
      expect(third.headers['retry-after']).toMatch(/^\d+$/);
      expect(third.json.message).toContain('retries it in');
      const [event] = await broker.auditOf(third);
      expect(event).toMatchObject({
        decision: { result: 'allow' },
        outcome: 'failure',
        response: { status: 503 },
      });
    } finally {
      await prod.restore();
    }
    // After the cool-down one trial request goes through and closes it.
    const recovered = await eventually(
      () => broker.kube(petra, 'bk-prod', 'GET', '/version'),
      r => r.status === 200,
      15_000,
    );
    expect(recovered.status).toBe(200);
  });

  it('answers a stopped cluster with 503 at once', async () => {
    const dev = testbed().cluster('bk-dev');
    await dev.makeUnreachable('down');
    try {
      const t = Date.now();
      const response = await broker.kube(petra, 'bk-dev', 'GET', '/version');
      expect(response.status).toBe(503);
      expect(response.json.message).toContain('unreachable');
      expect(Date.now() - t).toBeLessThan(2_000);
    } finally {
      await dev.restore();
    }
  });
});
