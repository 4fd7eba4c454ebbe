import { ensureBinary, useTestbed } from '@kmp/kube-testbed';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net, { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import request from 'supertest';
import YAML from 'yaml';
import {
  BrokerTestBackend,
  startBrokerBackend,
  userHeader,
} from './__testUtils__/brokerTestBackend';

jest.setTimeout(180_000);

const testbed = useTestbed({
  clusters: ['kc-dev'],
  fixtures: { core: true, crds: false },
});

const alice = userHeader('user:default/alice');
const reader = userHeader('user:default/reader');

describe('KMP-issued kubeconfigs with kubectl', () => {
  let broker: BrokerTestBackend;
  let kubectlBinary: string;
  let dir: string;
  let tlsFront: tls.Server;

  beforeAll(async () => {
    const dev = testbed().cluster('kc-dev');
    kubectlBinary = (await ensureBinary({ log: () => {} })).binary;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmp-kubeconfig-'));

    // kubectl sends a bearer token only over https: terminate TLS in front
    // of the test backend, as a load balancer would, with a CA of its own.
    const { stdout } = await promisify(execFile)(kubectlBinary, [
      'certs',
      '--dir',
      path.join(dir, 'pki'),
      '--name',
      'kmp-broker',
    ]);
    const pki = JSON.parse(stdout);
    tlsFront = tls.createServer(
      {
        cert: fs.readFileSync(pki.servingCert),
        key: fs.readFileSync(pki.servingKey),
      },
      socket => {
        const upstream = net.connect(broker.port, '127.0.0.1');
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      },
    );
    await new Promise<void>(resolve =>
      tlsFront.listen(0, '127.0.0.1', resolve),
    );
    const tlsPort = (tlsFront.address() as AddressInfo).port;

    broker = await startBrokerBackend({
      kmp: {
        catalog: {
          brokerCertificateAuthority: fs
            .readFileSync(pki.caCert)
            .toString('base64'),
        },
      },
      clusters: [
        {
          name: 'kc-dev',
          cluster: dev,
          environmentGroup: 'apps-nonprod',
          auth: 'cert',
        },
        // The same API server registered a second time, as production.
        {
          name: 'kc-prod',
          cluster: dev,
          environmentGroup: 'apps-prod',
          auth: 'token',
        },
      ],
      broker: { externalUrl: `https://127.0.0.1:${tlsPort}/api/kmp` },
    });
    // Token bearers are held to their persona's scope: a developer works
    // in their team's tenant namespace.
    const core = dev.kubeConfig().makeApiClient(CoreV1Api);
    const namespace = await core.readNamespace({ name: 'team-payments' });
    namespace.metadata!.labels = {
      ...namespace.metadata!.labels,
      'kmp.backstage.io/team': 'team-payments',
    };
    await core.replaceNamespace({ name: 'team-payments', body: namespace });
    const rbac = dev.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    for (const user of ['user:default/alice', 'user:default/reader']) {
      await rbac.createNamespacedRoleBinding({
        namespace: 'team-payments',
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
  });

  afterAll(async () => {
    tlsFront?.close();
    await broker?.backend.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Issues a kubeconfig and writes it where kubectl can read it. */
  async function issue(caller: string, cluster: string, body: object = {}) {
    const response = await request(broker.server)
      .post(`/api/kmp/clusters/${cluster}/kubeconfig`)
      .set('Authorization', caller)
      .send(body);
    if (response.status !== 201) return { response, file: '' };
    const kubeconfig = response.body.kubeconfig as string;
    const file = path.join(dir, `${response.body.id}.kubeconfig`);
    fs.writeFileSync(file, kubeconfig, { mode: 0o600 });
    return { response, file };
  }

  async function kubectl(file: string, ...args: string[]) {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        kubectlBinary,
        ['kubectl', '--kubeconfig', file, ...args],
        { timeout: 30_000 },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === 'number' ? e.code : 1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      };
    }
  }

  it('issues a kubeconfig for the broker that kubectl uses, until it is revoked', async () => {
    const { response, file } = await issue(alice, 'kc-dev', {
      namespace: 'team-payments',
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      actorRef: 'user:default/alice',
      cluster: 'kc-dev',
      access: 'write',
      state: 'active',
    });
    expect(response.body.token).toMatch(/^kmp_[A-Za-z0-9_-]{43}$/);
    const expiresIn = Date.parse(response.body.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(3_500_000);
    expect(expiresIn).toBeLessThanOrEqual(3_600_000);
    const config = YAML.parse(response.body.kubeconfig);
    expect(config.clusters[0].cluster.server).toMatch(
      /^https:\/\/127\.0\.0\.1:\d+\/api\/kmp\/proxy\/clusters\/kc-dev$/,
    );
    expect(
      config.clusters[0].cluster['certificate-authority-data'],
    ).toBeTruthy();
    expect(config.contexts[0].context.namespace).toBe('team-payments');
    expect(config.users[0].user).toEqual({ token: response.body.token });

    const pods = await kubectl(file, 'get', 'pods', '-o', 'name');
    expect(pods.stderr).toBe('');
    expect(pods.code).toBe(0);
    expect(pods.stdout).toContain('pod/payments-api-');

    const created = await kubectl(
      file,
      'create',
      'configmap',
      'from-kubectl',
      '--from-literal=a=1',
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);

    // Listed for its owner, never with the token.
    const listed = await request(broker.server)
      .get('/api/kmp/kubeconfig-tokens')
      .set('Authorization', alice);
    expect(listed.status).toBe(200);
    const mine = listed.body.items.find((t: any) => t.id === response.body.id);
    expect(mine).toMatchObject({ state: 'active', access: 'write' });
    expect(JSON.stringify(listed.body)).not.toContain(response.body.token);

    // Somebody else cannot revoke it.
    await request(broker.server)
      .delete(`/api/kmp/kubeconfig-tokens/${response.body.id}`)
      .set('Authorization', reader)
      .expect(404);
    const revoked = await request(broker.server)
      .delete(`/api/kmp/kubeconfig-tokens/${response.body.id}`)
      .set('Authorization', alice);
    expect(revoked.status).toBe(200);
    expect(revoked.body.state).toBe('revoked');

    const after = await kubectl(file, 'get', 'pods');
    expect(after.code).not.toBe(0);
    expect(after.stderr).toMatch(/Unauthorized|must be logged in/);
  });

  it('stops working when the token expires', async () => {
    const { response, file } = await issue(alice, 'kc-dev', {
      expiresInSeconds: 2,
      namespace: 'team-payments',
    });
    expect(response.status).toBe(201);
    expect((await kubectl(file, 'get', 'configmaps')).code).toBe(0);
    await new Promise(r => setTimeout(r, 2_500));
    const expired = await kubectl(file, 'get', 'configmaps');
    expect(expired.code).not.toBe(0);
    expect(expired.stderr).toMatch(/Unauthorized|must be logged in/);
    const status = await broker.raw(
      'GET',
      '/api/kmp/proxy/clusters/kc-dev/api/v1/namespaces/team-payments/configmaps',
      { headers: { authorization: `Bearer ${response.body.token}` } },
    );
    expect(status.status).toBe(401);
    expect(status.json.message).toContain('token expired');
  });

  it('binds the token to its cluster and its access level', async () => {
    // reader may not write through KMP: the kubeconfig is read-only.
    const { response, file } = await issue(reader, 'kc-dev', {
      namespace: 'team-payments',
    });
    expect(response.body.access).toBe('read');
    expect((await kubectl(file, 'get', 'pods')).code).toBe(0);
    const write = await kubectl(file, 'create', 'configmap', 'x');
    expect(write.code).not.toBe(0);
    expect(write.stderr).toContain('the kubeconfig token is read-only');
    expect(
      (await issue(reader, 'kc-dev', { access: 'write' })).response.status,
    ).toBe(403);

    // Production kubeconfigs are read-only for people.
    const prod = await issue(alice, 'kc-prod');
    expect(prod.response.body.access).toBe('read');
    const prodWrite = await issue(alice, 'kc-prod', { access: 'write' });
    expect(prodWrite.response.status).toBe(403);
    expect(prodWrite.response.body.error.message).toContain(
      'production changes go through GitOps',
    );

    // A token is only good for the cluster it was issued for.
    const elsewhere = await broker.raw(
      'GET',
      '/api/kmp/proxy/clusters/kc-dev/version',
      { headers: { authorization: `Bearer ${prod.response.body.token}` } },
    );
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.json.message).toContain(
      'token was issued for cluster kc-prod',
    );
    const unknown = await broker.raw(
      'GET',
      '/api/kmp/proxy/clusters/kc-dev/version',
      { headers: { authorization: `Bearer kmp_${'A'.repeat(43)}` } },
    );
    expect(unknown.status).toBe(401);

    // Issuing is audited.
    const events = await request(broker.server)
      .get(
        '/api/kmp/audit/events?action=kubeconfig.issue&actor=user:default/alice',
      )
      .set('Authorization', alice);
    expect(events.status).toBe(200);
    expect(events.body.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(events.body)).not.toContain(prod.response.body.token);
  });
});
