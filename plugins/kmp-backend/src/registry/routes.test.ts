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
import { kmpPlugin } from '../plugin';

const config = {
  kmp: {
    environmentGroups: [
      {
        name: 'payments-prod',
        environment: 'production',
        owner: 'group:default/platform-team',
      },
      {
        name: 'retail-edge',
        environment: 'edge',
        owner: 'group:default/retail-ops',
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
      refresh: { intervalSeconds: 3600 },
    },
  },
};

const cluster = (name: string, group = 'payments-prod') => ({
  name,
  environmentGroup: group,
  region: 'eu-west-1',
  profile: 'hardened',
  owner: 'group:default/platform-team',
  apiServerUrl: 'https://127.0.0.1:1',
  credentials: { token: `secret-${name}` },
});

async function start(decide?: (permission: string) => PolicyDecision) {
  const permissions = mockServices.permissions.mock();
  permissions.authorize.mockImplementation(
    async requests =>
      requests.map(r =>
        decide ? decide(r.permission.name) : { result: AuthorizeResult.ALLOW },
      ) as any,
  );
  permissions.authorizeConditional.mockImplementation(
    async requests =>
      requests.map(r =>
        decide ? decide(r.permission.name) : { result: AuthorizeResult.ALLOW },
      ) as any,
  );
  const { server } = await startTestBackend({
    features: [
      kmpPlugin,
      mockServices.rootConfig.factory({ data: config }),
      permissions.factory,
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
    ],
  });
  return server;
}

const user = mockCredentials.user.header('user:default/petra');

describe('registry routes', () => {
  it('registers, reads, lists, updates and decommissions, never returning credentials', async () => {
    const server = await start();
    const created = await request(server)
      .post('/api/kmp/clusters')
      .set('Authorization', user)
      .send(cluster('a'));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'a',
      environment: 'production',
      lifecycleState: 'registering',
      source: 'api',
    });

    await request(server)
      .post('/api/kmp/clusters')
      .set('Authorization', user)
      .send(cluster('b', 'retail-edge'))
      .expect(201);
    const conflict = await request(server)
      .post('/api/kmp/clusters')
      .set('Authorization', user)
      .send(cluster('a'));
    expect(conflict.status).toBe(409);

    const summary = await request(server)
      .get('/api/kmp/clusters/summary')
      .set('Authorization', user);
    expect(summary.body).toEqual({
      total: 2,
      byLifecycleState: expect.any(Object),
      byEnvironment: { production: 1, edge: 1 },
      byConnectivity: { direct: 2 },
    });

    const list = await request(server)
      .get('/api/kmp/clusters?environment=edge')
      .set('Authorization', user);
    expect(list.body.totalCount).toBe(1);
    expect(list.body.items[0].name).toBe('b');

    const patched = await request(server)
      .patch('/api/kmp/clusters/a')
      .set('Authorization', user)
      .send({ title: 'Cluster A', credentials: { token: 'rotated-secret' } });
    expect(patched.status).toBe(200);
    expect(patched.body.title).toBe('Cluster A');

    const history = await request(server)
      .get('/api/kmp/clusters/a/history')
      .set('Authorization', user);
    // The immediate probes of the unreachable URL may add state changes.
    const changes = history.body.items.filter(
      (h: any) => h.action !== 'state-change',
    );
    expect(changes.map((h: any) => h.action)).toEqual(['register', 'update']);
    expect(changes[1].actor).toBe('user:default/petra');
    expect(changes[1].changes.credentials).toEqual([
      '(encrypted)',
      '(encrypted, rotated)',
    ]);

    await request(server)
      .delete('/api/kmp/clusters/a')
      .set('Authorization', user)
      .expect(200);
    expect(
      (
        await request(server)
          .get('/api/kmp/clusters')
          .set('Authorization', user)
      ).body.totalCount,
    ).toBe(1);

    const all = [created, patched, history, list]
      .map(r => JSON.stringify(r.body))
      .join();
    expect(all).not.toMatch(/secret-a|rotated-secret/);
  });

  it.each([
    [
      { ...cluster('x'), name: 'Bad_Name' },
      'Invalid request body.name: must be a DNS-1123 label',
    ],
    [
      { ...cluster('x'), environmentGroup: 'nope' },
      "environmentGroup 'nope' does not exist",
    ],
    [{ ...cluster('x'), profile: 'nope' }, "profile 'nope' does not exist"],
    [
      { ...cluster('x'), apiServerUrl: 'https://10.0.0.1' },
      '10.0.0.1 is a private-network address',
    ],
    [
      { ...cluster('x'), apiServerUrl: 'http://127.0.0.1:8080' },
      'must use https',
    ],
    [{ ...cluster('x'), credentials: undefined }, 'credentials are required'],
    [
      { ...cluster('x'), credentials: { clientCertificate: 'c' } },
      'clientCertificate and clientKey must be given together',
    ],
    [{ ...cluster('x'), extra: 1 }, 'Invalid request body'],
  ])(
    'refuses a bad registration with a precise 400 (%#)',
    async (body, message) => {
      const server = await start();
      const res = await request(server)
        .post('/api/kmp/clusters')
        .set('Authorization', user)
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain(message);
      expect(res.body.error.stack).toBeUndefined();
    },
  );

  it('answers 404 for unknown clusters and 400 for malformed paging', async () => {
    const server = await start();
    expect(
      (
        await request(server)
          .get('/api/kmp/clusters/ghost')
          .set('Authorization', user)
      ).status,
    ).toBe(404);
    const bad = await request(server)
      .get('/api/kmp/clusters?limit=99999')
      .set('Authorization', user);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('limit');
    const unknown = await request(server)
      .get('/api/kmp/clusters?colour=red')
      .set('Authorization', user);
    expect(unknown.status).toBe(400);
  });

  it('refuses unauthenticated callers and denied permissions', async () => {
    const server = await start(name =>
      name === 'kmp.cluster.register'
        ? { result: AuthorizeResult.DENY }
        : { result: AuthorizeResult.ALLOW },
    );
    expect((await request(server).get('/api/kmp/clusters')).status).toBe(401);
    const denied = await request(server)
      .post('/api/kmp/clusters')
      .set('Authorization', user)
      .send(cluster('a'));
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain('kmp.cluster.register');
  });

  it('limits lists to what a conditional decision allows', async () => {
    let conditional = false;
    const server = await start(name =>
      conditional && name === 'kmp.cluster.read'
        ? ({
            result: AuthorizeResult.CONDITIONAL,
            pluginId: 'kmp',
            resourceType: 'kmp-cluster',
            conditions: {
              rule: 'IS_IN_ENVIRONMENT_GROUP',
              resourceType: 'kmp-cluster',
              params: { environmentGroups: ['retail-edge'] },
            },
          } as PolicyDecision)
        : { result: AuthorizeResult.ALLOW },
    );
    await request(server)
      .post('/api/kmp/clusters')
      .set('Authorization', user)
      .send(cluster('a'))
      .expect(201);
    await request(server)
      .post('/api/kmp/clusters')
      .set('Authorization', user)
      .send(cluster('b', 'retail-edge'))
      .expect(201);
    conditional = true;
    const list = await request(server)
      .get('/api/kmp/clusters')
      .set('Authorization', user);
    expect(list.body.items.map((c: any) => c.name)).toEqual(['b']);
    expect(list.body.totalCount).toBe(1);
    const summary = await request(server)
      .get('/api/kmp/clusters/summary')
      .set('Authorization', user);
    expect(summary.body.total).toBe(1);
    expect(summary.body.byEnvironment).toEqual({ edge: 1 });
    // The change feed needs an unconditional decision.
    expect(
      (
        await request(server)
          .get('/api/kmp/clusters/changes')
          .set('Authorization', user)
      ).status,
    ).toBe(403);
  });

  it('imports a kubeconfig context', async () => {
    const server = await start();
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'current-context: ctx',
      'contexts: [{name: ctx, context: {cluster: c, user: u}}]',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]',
      'users: [{name: u, user: {token: imported-secret}}]',
    ].join('\n');
    const res = await request(server)
      .post('/api/kmp/clusters/import-kubeconfig')
      .set('Authorization', user)
      .send({
        kubeconfig,
        cluster: {
          name: 'imported',
          environmentGroup: 'retail-edge',
          region: 'store-1',
          profile: 'hardened',
          owner: 'group:default/retail-ops',
        },
      });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'imported',
      source: 'kubeconfig',
      apiServerUrl: 'https://127.0.0.1:6443',
    });
    expect(JSON.stringify(res.body)).not.toContain('imported-secret');
  });
});
