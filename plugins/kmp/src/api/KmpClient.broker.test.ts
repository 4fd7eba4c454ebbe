import { MockFetchApi, registerMswTestHooks } from '@backstage/test-utils';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { KmpBrokerError } from './broker';
import { KmpClient } from './KmpClient';

const baseUrl = 'http://backstage.test/api/kmp';
const proxy = `${baseUrl}/proxy/clusters/payments-dev-eu1`;
const ops = `${baseUrl}/clusters/payments-dev-eu1/namespaces/team-payments`;

const status = (code: number, message: string, extra: object = {}) =>
  HttpResponse.json(
    {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason: 'Forbidden',
      code,
      ...extra,
    },
    { status: code, headers: { 'kmp-audit-id': 'audit-123' } },
  );

describe('KmpClient (cluster pages and broker)', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  const client = new KmpClient({
    discoveryApi: { getBaseUrl: async () => baseUrl },
    fetchApi: new MockFetchApi({ injectIdentityAuth: { token: 'user-token' } }),
  });

  it('reads broker answers as the user, with the audit id and warnings', async () => {
    server.use(
      http.get(`${proxy}/api/v1/namespaces`, ({ request }) => {
        if (request.headers.get('authorization') !== 'Bearer user-token') {
          return status(401, 'unauthenticated');
        }
        return HttpResponse.json(
          { kind: 'NamespaceList', items: [] },
          {
            headers: {
              'kmp-audit-id': 'audit-42',
              warning: '299 - "rule kmp-x is in Warn mode", 299 - "second"',
            },
          },
        );
      }),
    );
    await expect(
      client.proxyJson('payments-dev-eu1', '/api/v1/namespaces'),
    ).resolves.toEqual({
      body: { kind: 'NamespaceList', items: [] },
      auditId: 'audit-42',
      warnings: ['rule kmp-x is in Warn mode', 'second'],
    });
  });

  it('surfaces the Status message of a refusal and its audit id', async () => {
    server.use(
      http.delete(`${ops}/pods/api-1`, () =>
        status(403, 'production changes go through GitOps'),
      ),
    );
    const error = await client
      .deletePod('payments-dev-eu1', {
        namespace: 'team-payments',
        name: 'api-1',
      })
      .catch(e => e);
    expect(error).toBeInstanceOf(KmpBrokerError);
    expect(error).toMatchObject({
      message: 'production changes go through GitOps',
      statusCode: 403,
      reason: 'Forbidden',
      auditId: 'audit-123',
    });
    expect(error.unreachable).toBe(false);
  });

  it('reports an unreachable cluster as such, and non-Status bodies verbatim', async () => {
    server.use(
      http.get(`${proxy}/version`, () =>
        status(503, "cluster 'payments-dev-eu1' is unreachable"),
      ),
      http.get(
        `${proxy}/api`,
        () => new HttpResponse('bad gateway', { status: 502 }),
      ),
    );
    const unreachable = await client
      .proxyJson('payments-dev-eu1', '/version')
      .catch(e => e);
    expect(unreachable.unreachable).toBe(true);
    expect(unreachable.message).toBe(
      "cluster 'payments-dev-eu1' is unreachable",
    );
    const other = await client
      .proxyJson('payments-dev-eu1', '/api')
      .catch(e => e);
    expect(other.message).toMatch(/^502 .*bad gateway$/);
  });

  it('restarts a workload through the typed route, with its audit id', async () => {
    let called = false;
    server.use(
      http.post(`${ops}/workloads/statefulsets/db/restart`, () => {
        called = true;
        return HttpResponse.json(
          { auditId: 'audit-restart', restartedAt: '2026-11-25T12:00:00Z' },
          { headers: { 'kmp-audit-id': 'audit-restart' } },
        );
      }),
    );
    const result = await client.restartWorkload('payments-dev-eu1', {
      namespace: 'team-payments',
      kind: 'StatefulSet',
      name: 'db',
    });
    expect(called).toBe(true);
    expect(result.auditId).toBe('audit-restart');
  });

  it('scales through the typed route and refuses DaemonSets', async () => {
    let body: unknown;
    server.use(
      http.post(
        `${ops}/workloads/deployments/api/scale`,
        async ({ request }) => {
          body = await request.json();
          return HttpResponse.json({ auditId: 'a', replicas: 3 });
        },
      ),
    );
    await client.scaleWorkload(
      'payments-dev-eu1',
      { namespace: 'team-payments', kind: 'Deployment', name: 'api' },
      3,
    );
    expect(body).toEqual({ replicas: 3 });
    await expect(
      client.scaleWorkload(
        'payments-dev-eu1',
        { namespace: 'team-payments', kind: 'DaemonSet', name: 'agent' },
        3,
      ),
    ).rejects.toThrow('a DaemonSet cannot be scaled');
  });

  it('reads the message of a Backstage error body of a typed route', async () => {
    server.use(
      http.post(`${ops}/workloads/deployments/api/scale`, () =>
        HttpResponse.json(
          {
            error: {
              name: 'InputError',
              message: 'body.replicas: Too big: expected number to be <=10000',
            },
            response: { statusCode: 400 },
          },
          { status: 400 },
        ),
      ),
    );
    await expect(
      client.scaleWorkload(
        'payments-dev-eu1',
        { namespace: 'team-payments', kind: 'Deployment', name: 'api' },
        20000,
      ),
    ).rejects.toMatchObject({
      statusCode: 400,
      message: 'body.replicas: Too big: expected number to be <=10000',
    });
  });

  it('streams pod logs with container, previous, follow and tail', async () => {
    let query: URLSearchParams | undefined;
    server.use(
      http.get(`${ops}/pods/api-1/logs`, ({ request }) => {
        query = new URL(request.url).searchParams;
        const encoder = new TextEncoder();
        const stream = new ReadableStream({
          start(controller) {
            controller.enqueue(encoder.encode('line 1\n'));
            controller.enqueue(encoder.encode('line 2\n'));
            controller.close();
          },
        });
        return new HttpResponse(stream, {
          headers: { 'kmp-audit-id': 'audit-logs' },
        });
      }),
    );
    const logs = await client.streamPodLogs(
      'payments-dev-eu1',
      { namespace: 'team-payments', name: 'api-1' },
      { container: 'app', previous: true, follow: true, tailLines: 100 },
    );
    let text = '';
    for await (const chunk of logs.chunks) text += chunk;
    expect(text).toBe('line 1\nline 2\n');
    expect(logs.auditId).toBe('audit-logs');
    expect(Object.fromEntries(query!)).toEqual({
      container: 'app',
      previous: 'true',
      follow: 'true',
      tailLines: '100',
    });
  });

  it('omits previous and follow when they are off, and reports refused logs', async () => {
    let query: URLSearchParams | undefined;
    server.use(
      http.get(`${ops}/pods/api-1/logs`, ({ request }) => {
        query = new URL(request.url).searchParams;
        return status(403, 'namespace team-payments belongs to team payments');
      }),
    );
    await expect(
      client.streamPodLogs('payments-dev-eu1', {
        namespace: 'team-payments',
        name: 'api-1',
      }),
    ).rejects.toMatchObject({
      message: 'namespace team-payments belongs to team payments',
      auditId: 'audit-123',
    });
    expect([...query!.keys()]).toEqual([]);
  });

  it('applies server-side as kmp-clickops', async () => {
    let seen: { url: URL; type: string | null; body: any } | undefined;
    server.use(
      http.patch(
        `${proxy}/apis/apps/v1/namespaces/team-payments/deployments/api`,
        async ({ request }) => {
          seen = {
            url: new URL(request.url),
            type: request.headers.get('content-type'),
            body: await request.json(),
          };
          return HttpResponse.json(seen.body, {
            headers: { 'kmp-audit-id': 'audit-apply' },
          });
        },
      ),
    );
    const manifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: 'team-payments' },
      spec: { replicas: 2 },
    };
    const result = await client.applyManifest('payments-dev-eu1', manifest);
    expect(result.auditId).toBe('audit-apply');
    expect(seen?.type).toBe('application/apply-patch+yaml');
    expect(seen?.url.searchParams.get('fieldManager')).toBe('kmp-clickops');
    expect(seen?.body).toEqual(manifest);
  });

  it('issues, lists and revokes kubeconfigs', async () => {
    const token = {
      id: '6d0c2a8e-7c59-4a57-9a7e-0a0c4ee2a111',
      actorRef: 'user:default/alice',
      actorKind: 'user',
      cluster: 'payments-dev-eu1',
      access: 'read',
      createdAt: '2026-11-25T12:00:00Z',
      expiresAt: '2026-11-25T13:00:00Z',
      state: 'active',
    };
    let issueBody: unknown;
    server.use(
      http.post(
        `${baseUrl}/clusters/payments-dev-eu1/kubeconfig`,
        async ({ request }) => {
          issueBody = await request.json();
          return HttpResponse.json(
            { ...token, token: 'kmp_x', kubeconfig: 'apiVersion: v1\n' },
            { status: 201 },
          );
        },
      ),
      http.get(`${baseUrl}/kubeconfig-tokens`, () =>
        HttpResponse.json({ items: [token] }),
      ),
      http.delete(`${baseUrl}/kubeconfig-tokens/${token.id}`, () =>
        HttpResponse.json({ ...token, state: 'revoked' }),
      ),
    );
    await expect(
      client.issueKubeconfig('payments-dev-eu1', { expiresInSeconds: 900 }),
    ).resolves.toMatchObject({ token: 'kmp_x', expiresAt: token.expiresAt });
    expect(issueBody).toEqual({ expiresInSeconds: 900 });
    await expect(client.listKubeconfigTokens()).resolves.toEqual({
      items: [token],
    });
    await expect(client.revokeKubeconfigToken(token.id)).resolves.toMatchObject(
      { state: 'revoked' },
    );
  });

  it('asks for one cluster, its compliance and a policy pre-flight', async () => {
    let evaluated: unknown;
    server.use(
      http.get(`${baseUrl}/clusters/payments-dev-eu1`, () =>
        HttpResponse.json({ name: 'payments-dev-eu1' }),
      ),
      http.get(`${baseUrl}/policies/compliance`, ({ request }) =>
        HttpResponse.json({
          cluster: new URL(request.url).searchParams.get('cluster'),
        }),
      ),
      http.post(`${baseUrl}/policies/evaluate`, async ({ request }) => {
        evaluated = await request.json();
        return HttpResponse.json({ allowed: true });
      }),
    );
    await expect(client.getCluster('payments-dev-eu1')).resolves.toEqual({
      name: 'payments-dev-eu1',
    });
    await expect(
      client.getClusterCompliance('payments-dev-eu1'),
    ).resolves.toEqual({ cluster: 'payments-dev-eu1' });
    const request = {
      target: { cluster: 'payments-dev-eu1' },
      manifests: [{ kind: 'ConfigMap' }],
    };
    await client.evaluatePolicies(request);
    expect(evaluated).toEqual(request);
  });
});
