import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { kmpAuditSinksExtensionPoint } from '@kmp/plugin-kmp-node';
import request from 'supertest';
import { kmpPlugin } from './plugin';

const environmentGroups = [
  {
    name: 'payments-prod',
    title: 'Payments production',
    environment: 'production',
    owner: 'group:default/platform-team',
  },
  {
    name: 'retail-edge',
    environment: 'edge',
    owner: 'group:default/retail-ops',
  },
];

async function startWith(options: {
  config?: object;
  permission?: AuthorizeResult.ALLOW | AuthorizeResult.DENY;
}) {
  return startTestBackend({
    features: [
      kmpPlugin,
      // Requests without an Authorization header are unauthenticated.
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
      mockServices.rootConfig.factory({
        data: options.config ?? { kmp: { environmentGroups } },
      }),
      mockServices.permissions.factory({
        result: options.permission ?? AuthorizeResult.ALLOW,
      }),
    ],
  });
}

describe('kmp backend plugin', () => {
  it('answers /health without credentials and reports the database', async () => {
    const { server } = await startWith({});
    const res = await request(server).get('/api/kmp/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: 'ok' });
  });

  it('serves its OpenAPI document', async () => {
    const { server } = await startWith({});
    const res = await request(server).get('/api/kmp/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(res.body.info.title).toBe('kmp');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/kmp/health',
        '/api/kmp/environment-groups',
      ]),
    );
  });

  it('lists the configured environment groups to an authorised user', async () => {
    const { server } = await startWith({});
    const res = await request(server)
      .get('/api/kmp/environment-groups')
      .set('Authorization', mockCredentials.user.header());
    expect(res.status).toBe(200);
    expect(res.body.items.map((g: { name: string }) => g.name)).toEqual([
      'payments-prod',
      'retail-edge',
    ]);
    expect(res.body.items[0]).toEqual(environmentGroups[0]);
  });

  it('refuses unauthenticated callers', async () => {
    const { server } = await startWith({});
    const res = await request(server).get('/api/kmp/environment-groups');
    expect(res.status).toBe(401);
  });

  it('refuses callers the permission policy denies, without a stack trace even in development mode', async () => {
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'development';
    const { server } = await startWith({
      permission: AuthorizeResult.DENY,
    }).finally(() => {
      process.env.NODE_ENV = nodeEnv;
    });
    const res = await request(server)
      .get('/api/kmp/environment-groups')
      .set('Authorization', mockCredentials.user.header());
    expect(res.status).toBe(403);
    expect(res.body.error.name).toBe('NotAllowedError');
    expect(res.body.error.message).toContain('kmp.environment-group.read');
    expect(res.body.error.stack).toBeUndefined();
  });

  it('rejects query parameters the OpenAPI document does not declare', async () => {
    const { server } = await startWith({});
    const res = await request(server)
      .get('/api/kmp/environment-groups?drop=tables')
      .set('Authorization', mockCredentials.user.header());
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('drop');
  });

  it('fails start-up with one line naming a broken config key', async () => {
    await expect(
      startWith({
        config: {
          kmp: {
            environmentGroups: [
              { name: 'ok', environment: 'edge', owner: 'group:default/x' },
              { name: 'bad', environment: 'staging', owner: 'group:default/x' },
            ],
          },
        },
      }),
    ).rejects.toThrow(
      /Invalid configuration at kmp\.environmentGroups\[1\]\.environment: /,
    );
  });
});

describe('kmp audit sink extension point', () => {
  const sinkModule = (kind: string, moduleId: string) =>
    createBackendModule({
      pluginId: 'kmp',
      moduleId,
      register(reg) {
        reg.registerInit({
          deps: { sinks: kmpAuditSinksExtensionPoint },
          async init({ sinks }) {
            sinks.addSinkFactory({
              kind,
              create: () => ({ deliver: async () => {} }),
            });
          },
        });
      },
    });

  it('accepts sink kinds from modules and reports them at start-up', async () => {
    const logger = mockServices.logger.mock();
    await startTestBackend({
      features: [
        kmpPlugin,
        sinkModule('webhook', 'webhook-sink'),
        logger.factory,
        mockServices.rootConfig.factory({ data: {} }),
      ],
    });
    expect(logger.info).toHaveBeenCalledWith(
      expect.stringContaining('audit sink kinds: webhook'),
    );
  });

  it('refuses two modules registering the same kind', async () => {
    await expect(
      startTestBackend({
        features: [
          kmpPlugin,
          sinkModule('webhook', 'one'),
          sinkModule('webhook', 'two'),
          mockServices.rootConfig.factory({ data: {} }),
        ],
      }),
    ).rejects.toThrow("KMP audit sink kind 'webhook' is registered twice");
  });
});
