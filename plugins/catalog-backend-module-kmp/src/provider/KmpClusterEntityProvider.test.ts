import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import {
  coreServices,
  createServiceFactory,
  LoggerService,
} from '@backstage/backend-plugin-api';
import request from 'supertest';
import kmpBackend from '@kmp/plugin-kmp-backend';
import catalogBackend from '@backstage/plugin-catalog-backend';
import kubernetesBackend from '@backstage/plugin-kubernetes-backend';
import { catalogModuleKmp } from '../module';

jest.setTimeout(90_000);

const config = {
  backend: { baseUrl: 'http://localhost:7007' },
  catalog: { processingInterval: { seconds: 1 } },
  kubernetes: {
    serviceLocatorMethod: { type: 'multiTenant' },
    // The broker URL is on loopback in the test, which the stock locator's
    // SSRF rule refuses unless allowed.
    clusterLocatorMethods: [
      { type: 'catalog', dangerouslyAllowClusterUrls: ['localhost'] },
    ],
  },
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
    catalog: { deltaSyncSeconds: 1, fullSyncSeconds: 3600 },
  },
};

async function waitFor<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise(r => setTimeout(r, 250));
  }
}

// Every log line of every plugin, to prove no credential reaches a log.
const logged: string[] = [];
function capturingLogger(fields: object = {}): LoggerService {
  const log = (level: string) => (message: string, meta?: unknown) => {
    logged.push(
      JSON.stringify({ level, message, fields, meta }, (_k, v) =>
        v instanceof Error
          ? { name: v.name, message: v.message, stack: v.stack }
          : v,
      ),
    );
  };
  return {
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
    child: more => capturingLogger({ ...fields, ...more }),
  };
}
const capturingRootLogger = createServiceFactory({
  service: coreServices.rootLogger,
  deps: {},
  factory: () => capturingLogger() as any,
});

describe('KMP cluster registry → catalog', () => {
  it('publishes registered clusters incrementally and removes decommissioned ones', async () => {
    const { server } = await startTestBackend({
      features: [
        kmpBackend,
        catalogBackend,
        catalogModuleKmp,
        kubernetesBackend,
        capturingRootLogger,
        mockServices.rootConfig.factory({ data: config }),
        // The real scheduler, so that the provider's schedules run.
        schedulerServiceFactory,
      ],
    });
    const auth = mockCredentials.user.header('user:default/petra');
    const entity = (name: string) =>
      request(server)
        .get(`/api/catalog/entities/by-name/resource/default/${name}`)
        .set('Authorization', auth);

    // The environment groups appear as systems after the first full sync.
    await waitFor(async () => {
      const res = await request(server)
        .get('/api/catalog/entities/by-name/system/default/payments-prod')
        .set('Authorization', auth);
      return res.status === 200 ? res.body : undefined;
    });

    const registered = await request(server)
      .post('/api/kmp/clusters')
      .set('Authorization', auth)
      .send({
        name: 'pay-prod-eu1',
        title: 'Payments prod EU 1',
        environmentGroup: 'payments-prod',
        region: 'eu-west-1',
        profile: 'hardened',
        owner: 'group:default/platform-team',
        apiServerUrl: 'https://127.0.0.1:1',
        credentials: {
          token: 'super-secret-token',
          certificateAuthority: 'CA-PEM-DATA',
        },
      });
    expect(registered.status).toBe(201);
    expect(JSON.stringify(registered.body)).not.toContain('super-secret-token');

    const started = Date.now();
    const published = await waitFor(async () => {
      const res = await entity('pay-prod-eu1');
      return res.status === 200 ? res.body : undefined;
    });
    const visibleAfterMs = Date.now() - started;
    expect(visibleAfterMs).toBeLessThan(15_000);

    expect(published.spec).toMatchObject({
      type: 'kubernetes-cluster',
      owner: 'group:default/platform-team',
      system: 'payments-prod',
    });
    expect(published.metadata.annotations).toMatchObject({
      'kmp.backstage.io/environment': 'production',
      'kmp.backstage.io/environment-group': 'payments-prod',
      'kmp.backstage.io/region': 'eu-west-1',
      'kmp.backstage.io/profile': 'hardened',
      'kmp.backstage.io/connectivity': 'direct',
      'kubernetes.io/api-server': expect.stringMatching(
        /\/api\/kmp\/proxy\/clusters\/pay-prod-eu1$/,
      ),
      'kubernetes.io/auth-provider': 'kmp',
    });
    expect(published.metadata.annotations).toHaveProperty([
      'kubernetes.io/api-server-certificate-authority',
    ]);
    expect(published.relations).toEqual(
      expect.arrayContaining([
        { type: 'partOf', targetRef: 'system:default/payments-prod' },
        { type: 'ownedBy', targetRef: 'group:default/platform-team' },
      ]),
    );
    const everything = JSON.stringify(published);
    expect(everything).not.toContain('super-secret-token');
    expect(everything).not.toContain('CA-PEM-DATA');
    expect(everything).not.toContain('127.0.0.1:1');

    // The stock Kubernetes plugin's catalog cluster locator finds it, with
    // the broker as its API server.
    const located = await request(server)
      .get('/api/kubernetes/clusters')
      .set('Authorization', auth);
    expect(located.status).toBe(200);
    expect(located.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'pay-prod-eu1', authProvider: 'kmp' }),
      ]),
    );

    // A metadata change reaches the entity as a delta.
    await request(server)
      .patch('/api/kmp/clusters/pay-prod-eu1')
      .set('Authorization', auth)
      .send({ region: 'eu-central-1' })
      .expect(200);
    await waitFor(async () => {
      const res = await entity('pay-prod-eu1');
      return res.body?.metadata?.annotations?.['kmp.backstage.io/region'] ===
        'eu-central-1'
        ? true
        : undefined;
    });

    await request(server)
      .delete('/api/kmp/clusters/pay-prod-eu1')
      .set('Authorization', auth)
      .expect(200);
    await waitFor(async () =>
      (await entity('pay-prod-eu1')).status === 404 ? true : undefined,
    );

    // Nothing logged anything secret, although the registration, the refresh
    // failures of the unreachable URL and the auditor events were all logged.
    expect(logged.length).toBeGreaterThan(20);
    expect(logged.join('\n')).toContain('pay-prod-eu1');
    for (const line of logged) {
      expect(line).not.toContain('super-secret-token');
      expect(line).not.toContain('CA-PEM-DATA');
    }
  });
});
