import { MockFetchApi, registerMswTestHooks } from '@backstage/test-utils';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { KmpClient } from './KmpClient';

const baseUrl = 'http://backstage.test/api/kmp';

describe('KmpClient.publishToGit', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  const client = new KmpClient({
    discoveryApi: { getBaseUrl: async () => baseUrl },
    fetchApi: new MockFetchApi({ injectIdentityAuth: { token: 'user-token' } }),
  });

  const manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'team-payments' },
    spec: { replicas: 3 },
  };
  const published = {
    commit: 'a'.repeat(40),
    branch: 'main',
    repoUrl: 'https://git.example.com/platform/apps-prod.git',
    paths: ['clusters/prod-eu1/namespaces/team-payments/deployment-api.yaml'],
    changed: true,
    auditId: '6f1c2a7e-7d1b-4d38-9a57-0f4f6f0d3c11',
  };

  it('posts the objects to the cluster with the caller token and returns where they landed', async () => {
    let received: { auth: string | null; type: string | null; body: unknown };
    server.use(
      http.post(
        `${baseUrl}/clusters/prod-eu1/gitops/publish`,
        async ({ request }) => {
          received = {
            auth: request.headers.get('authorization'),
            type: request.headers.get('content-type'),
            body: await request.json(),
          };
          return HttpResponse.json(published, { status: 201 });
        },
      ),
    );
    await expect(
      client.publishToGit('prod-eu1', {
        manifests: [manifest],
        message: 'Scale api to 3',
      }),
    ).resolves.toEqual(published);
    expect(received!).toEqual({
      auth: 'Bearer user-token',
      type: 'application/json',
      body: { manifests: [manifest], message: 'Scale api to 3' },
    });
  });

  it('accepts the answer of a publication that changed nothing', async () => {
    server.use(
      http.post(`${baseUrl}/clusters/dev-eu1/gitops/publish`, () =>
        HttpResponse.json({ ...published, changed: false }),
      ),
    );
    await expect(
      client.publishToGit('dev-eu1', { manifests: 'kind: Deployment\n' }),
    ).resolves.toMatchObject({ changed: false });
  });

  it('surfaces a policy refusal as a ResponseError carrying the violations', async () => {
    const message =
      'the policy pre-flight (bundle kmp@1) denies it: [pod-security-privileged] Deployment team-payments/api: privileged containers are not allowed';
    server.use(
      http.post(`${baseUrl}/clusters/prod-eu1/gitops/publish`, () =>
        HttpResponse.json(
          {
            error: { name: 'NotAllowedError', message },
            response: { statusCode: 403 },
          },
          { status: 403 },
        ),
      ),
    );
    await expect(
      client.publishToGit('prod-eu1', { manifests: [manifest] }),
    ).rejects.toMatchObject({
      name: 'ResponseError',
      statusCode: 403,
      body: { error: { name: 'NotAllowedError', message } },
    });
  });
});

describe('KmpClient policy distribution and scans', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  const client = new KmpClient({
    discoveryApi: { getBaseUrl: async () => baseUrl },
    fetchApi: new MockFetchApi({ injectIdentityAuth: { token: 'user-token' } }),
  });

  it('asks for a distribution of one cluster, in the given mode or the backend default', async () => {
    const bodies: unknown[] = [];
    server.use(
      http.post(`${baseUrl}/policies/distribute`, async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json({ cluster: 'prod-eu1', mode: 'gitops' });
      }),
      http.post(`${baseUrl}/policies/compliance/scan`, async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json({ cluster: 'prod-eu1', rules: [] });
      }),
    );
    await expect(
      client.distributePolicies('prod-eu1', 'gitops'),
    ).resolves.toMatchObject({ mode: 'gitops' });
    await client.distributePolicies('dev-eu1');
    await expect(client.scanCompliance('prod-eu1')).resolves.toMatchObject({
      cluster: 'prod-eu1',
    });
    // No mode: the backend's kmp.policy.distribution.mode (the strict
    // schema refuses unknown or empty fields).
    expect(bodies).toEqual([
      { cluster: 'prod-eu1', mode: 'gitops' },
      { cluster: 'dev-eu1' },
      { cluster: 'prod-eu1' },
    ]);
  });
});
