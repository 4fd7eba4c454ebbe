import {
  coreServices,
  createBackendPlugin,
  createServiceFactory,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { kmpAuditorServiceFactory } from '@kmp/plugin-kmp-node';
import { Knex } from 'knex';
import request from 'supertest';
import { kmpPlugin } from '../plugin';
import { AuditStore, prepareAuditEvent } from './AuditStore';
import { AuditWriter } from './AuditWriter';
import { makeEvent } from './__testUtils__/auditTestUtils';
import { startHttpReceiver } from './__testUtils__/receivers';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

/**
 * A scheduler that really runs tasks, in the background, and aborts them
 * when the backend stops (the mock scheduler runs tasks only on demand).
 */
const backgroundSchedulerFactory = createServiceFactory({
  service: coreServices.scheduler,
  deps: { lifecycle: coreServices.lifecycle },
  factory({ lifecycle }): SchedulerService {
    const controller = new AbortController();
    const running: Promise<void>[] = [];
    lifecycle.addShutdownHook(async () => {
      controller.abort();
      await Promise.allSettled(running);
    });
    return {
      async scheduleTask(task) {
        running.push(
          (async () => {
            while (!controller.signal.aborted) {
              await task.fn(controller.signal);
              await new Promise(r => setTimeout(r, 50));
            }
          })(),
        );
      },
      async triggerTask() {},
      async cancelTask() {},
      async getScheduledTasks() {
        return [];
      },
      createScheduledTaskRunner(schedule) {
        return {
          run: async task => this.scheduleTask({ ...task, ...schedule }),
        };
      },
    } as SchedulerService;
  },
});

async function start(
  options: {
    config?: object;
    permission?: AuthorizeResult.ALLOW | AuthorizeResult.DENY;
    extraFeatures?: any[];
  } = {},
) {
  const knex: Knex = await databases.init('SQLITE_3');
  const backend = await startTestBackend({
    features: [
      kmpPlugin,
      mockServices.database.factory({ knex }),
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
      mockServices.rootConfig.factory({ data: options.config ?? {} }),
      mockServices.permissions.factory({
        result: options.permission ?? AuthorizeResult.ALLOW,
      }),
      ...(options.extraFeatures ?? []),
    ],
  });
  const store = AuditStore.create({ db: knex });
  const writer = AuditWriter.create({ store });
  return { backend, server: backend.server, knex, store, writer };
}

const auth = mockCredentials.user.header();

describe('audit API', () => {
  it('refuses unauthenticated callers with 401 and callers without kmp.audit.read with 403', async () => {
    const open = await start();
    for (const path of [
      '/api/kmp/audit/events',
      '/api/kmp/audit/verify',
      '/api/kmp/audit/sinks',
      '/api/kmp/audit/events/export',
    ]) {
      expect((await request(open.server).get(path)).status).toBe(401);
    }
    await open.backend.stop();

    const denied = await start({ permission: AuthorizeResult.DENY });
    for (const path of [
      '/api/kmp/audit/events',
      '/api/kmp/audit/verify',
      '/api/kmp/audit/sinks',
      '/api/kmp/audit/events/export',
    ]) {
      const res = await request(denied.server)
        .get(path)
        .set('Authorization', auth);
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain('kmp.audit.read');
    }
  });

  it.each([
    ['limit=abc', 'limit'],
    ['limit=0', 'limit'],
    ['limit=5000', 'limit'],
    ['decision=maybe', 'decision'],
    ['outcome=done', 'outcome'],
    ['from=yesterday', 'from'],
    ['to=2026-13-45T00:00:00Z', 'to'],
    ['order=sideways', 'order'],
    ['cursor=bm9wZQ', 'cursor'],
    ['action=DROP%20TABLE', 'action'],
    ['from=2026-11-26T00:00:00Z&to=2026-11-25T00:00:00Z', 'to'],
    ['actor=', 'actor'],
    ['colour=red', 'colour'],
  ])('answers 400 naming the parameter for %s', async (query, parameter) => {
    const { server } = await start();
    const res = await request(server)
      .get(`/api/kmp/audit/events?${query}`)
      .set('Authorization', auth);
    expect(res.status).toBe(400);
    expect(res.body.error.name).toBe('InputError');
    expect(res.body.error.message).toContain(parameter);
  });

  it('lets developers read only their own actions when kmp.audit.read is refused (PERSONAS.md)', async () => {
    const { server, writer, backend } = await start({
      permission: AuthorizeResult.DENY,
      config: {
        kmp: {
          environmentGroups: [
            {
              name: 'apps-nonprod',
              environment: 'non-production',
              owner: 'group:default/platform-team',
            },
          ],
          personas: [
            { group: 'user:default/user-1', persona: 'developer' },
            { group: 'user:default/user-2', persona: 'ops' },
          ],
        },
      },
    });
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        writer.append(prepareAuditEvent(makeEvent(i + 1))),
      ),
    );
    const developer = mockCredentials.user.header('user:default/user-1');
    const own = await request(server)
      .get('/api/kmp/audit/events?order=asc')
      .set('Authorization', developer);
    expect(own.status).toBe(200);
    expect(own.body.items.length).toBeGreaterThan(0);
    expect(
      own.body.items.every((e: any) => e.actor.ref === 'user:default/user-1'),
    ).toBe(true);

    const others = await request(server)
      .get('/api/kmp/audit/events?actor=user:default/user-2')
      .set('Authorization', developer);
    expect(others.status).toBe(403);
    expect(others.body.error.message).toContain('your own actions only');

    const exported = await request(server)
      .get('/api/kmp/audit/events/export?format=ndjson')
      .set('Authorization', developer);
    expect(exported.status).toBe(200);
    // The export itself is audited first, as the developer's own action.
    const actors = (exported.text as string)
      .trim()
      .split('\n')
      .map(line => JSON.parse(line).actor.ref);
    expect(actors.length).toBe(own.body.items.length + 1);
    expect(new Set(actors)).toEqual(new Set(['user:default/user-1']));
    expect(
      (
        await request(server)
          .get('/api/kmp/audit/verify')
          .set('Authorization', developer)
      ).status,
    ).toBe(200);
    expect(
      (
        await request(server)
          .get('/api/kmp/audit/sinks')
          .set('Authorization', developer)
      ).status,
    ).toBe(403);

    // Ops is not an own-actions reader: the refused permission stands.
    const ops = await request(server)
      .get('/api/kmp/audit/events')
      .set('Authorization', mockCredentials.user.header('user:default/user-2'));
    expect(ops.status).toBe(403);
    await backend.stop();
  });

  it('answers 400 for an unknown export format', async () => {
    const { server } = await start();
    const res = await request(server)
      .get('/api/kmp/audit/events/export?format=xml')
      .set('Authorization', auth);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('format');
  });

  it('lists, filters and pages events', async () => {
    const { server, writer } = await start();
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        writer.append(prepareAuditEvent(makeEvent(i + 1))),
      ),
    );
    const first = await request(server)
      .get('/api/kmp/audit/events?cluster=cluster-2&limit=3')
      .set('Authorization', auth);
    expect(first.status).toBe(200);
    expect(first.body.items.map((e: any) => e.seq)).toEqual([30, 26, 22]);
    expect(first.body.items[0]).toMatchObject({
      action: 'proxy.request',
      target: { cluster: 'cluster-2' },
    });
    expect(first.body.items[0].hash).toMatch(/^[0-9a-f]{64}$/);

    const second = await request(server)
      .get(
        `/api/kmp/audit/events?cluster=cluster-2&limit=3&cursor=${first.body.nextCursor}`,
      )
      .set('Authorization', auth);
    expect(second.body.items.map((e: any) => e.seq)).toEqual([18, 14, 10]);

    const window = await request(server)
      .get(
        `/api/kmp/audit/events?order=asc&decision=deny&from=${encodeURIComponent(
          makeEvent(10).time,
        )}&to=${encodeURIComponent(makeEvent(25).time)}`,
      )
      .set('Authorization', auth);
    expect(window.body.items.map((e: any) => e.seq)).toEqual([10, 15, 20]);
    expect(window.body.nextCursor).toBeUndefined();

    // Entity refs and times may be sent unencoded.
    const byActor = await request(server)
      .get(
        `/api/kmp/audit/events?actor=user:default/user-1&order=asc&limit=2&from=${
          makeEvent(10).time
        }`,
      )
      .set('Authorization', auth);
    expect(byActor.status).toBe(200);
    expect(byActor.body.items.map((e: any) => e.seq)).toEqual([10, 13]);
  });

  it('exports NDJSON and CSV, and audits the export', async () => {
    const { server, writer, store } = await start();
    await Promise.all(
      Array.from({ length: 1500 }, (_, i) =>
        writer.append(
          prepareAuditEvent(
            makeEvent(
              i + 1,
              i === 0
                ? {
                    decision: {
                      result: 'deny',
                      reason: '=HYPERLINK("x"), "quoted"',
                    },
                  }
                : {},
            ),
          ),
        ),
      ),
    );
    const ndjson = await request(server)
      .get('/api/kmp/audit/events/export?format=ndjson&cluster=cluster-1')
      .set('Authorization', auth)
      .buffer(true)
      .parse((res, cb) => {
        let data = '';
        res.on('data', c => (data += c));
        res.on('end', () => cb(null, data));
      });
    expect(ndjson.status).toBe(200);
    expect(ndjson.headers['content-type']).toContain('application/x-ndjson');
    const lines = (ndjson.body as string)
      .trimEnd()
      .split('\n')
      .map(l => JSON.parse(l));
    expect(lines).toHaveLength(375);
    expect(lines[0].seq).toBe(1);
    expect(lines[374].seq).toBe(1497);

    const csv = await request(server)
      .get('/api/kmp/audit/events/export?format=csv&decision=deny&order=asc')
      .set('Authorization', auth)
      .buffer(true)
      .parse((res, cb) => {
        let data = '';
        res.on('data', c => (data += c));
        res.on('end', () => cb(null, data));
      });
    expect(csv.headers['content-type']).toContain('text/csv');
    const rows = (csv.body as string).split('\r\n');
    expect(rows[0]).toMatch(/^seq,id,time,actorType,actor,/);
    expect(rows).toHaveLength(1 + 301 + 1);
    expect(rows[1]).toContain(`"'=HYPERLINK(""x""), ""quoted"""`);

    const exports = await store.query({
      limit: 10,
      order: 'desc',
      action: 'audit.export',
    });
    expect(exports.items).toHaveLength(2);
    expect(exports.items[0].actor).toMatchObject({
      type: 'human',
      ref: 'user:default/mock',
    });
  });

  it('verifies the chain and reports tampering', async () => {
    const { server, writer, knex } = await start();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        writer.append(prepareAuditEvent(makeEvent(i + 1))),
      ),
    );
    const ok = await request(server)
      .get('/api/kmp/audit/verify')
      .set('Authorization', auth);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ valid: true, checked: 20, headSeq: 20 });

    await knex('kmp_audit_events').where({ seq: 7 }).delete();
    const bad = await request(server)
      .get('/api/kmp/audit/verify')
      .set('Authorization', auth);
    expect(bad.body).toMatchObject({ valid: false, firstInvalidSeq: 7 });
    expect(bad.body.reason).toContain('missing');
  });

  it('fails start-up naming a broken sink entry', async () => {
    await expect(
      start({
        config: {
          kmp: { audit: { sinks: [{ name: 'a', kind: 'carrier-pigeon' }] } },
        },
      }),
    ).rejects.toThrow(
      /kmp\.audit\.sinks\[0\]\.kind: unknown audit sink kind 'carrier-pigeon'/,
    );
    await expect(
      start({
        config: {
          kmp: {
            audit: { sinks: [{ name: 'a', kind: 'http', url: 'ftp://x' }] },
          },
        },
      }),
    ).rejects.toThrow(/kmp\.audit\.sinks\[0\]: url must be http or https/);
    await expect(
      start({
        config: { kmp: { audit: { retention: { maxAge: { days: 30 } } } } },
      }),
    ).rejects.toThrow(/kmp\.audit\.retention\.checkpointKey: required/);
  });

  it('delivers to configured sinks through the scheduler and reports their status', async () => {
    const receiver = await startHttpReceiver();
    try {
      const { server, writer, backend } = await start({
        config: {
          kmp: {
            audit: {
              sinks: [
                {
                  name: 'siem',
                  kind: 'http',
                  url: `http://127.0.0.1:${receiver.port}/`,
                  minBackoffMs: 10,
                },
                {
                  name: 'dead',
                  kind: 'syslog',
                  host: '127.0.0.1',
                  port: 9,
                  minBackoffMs: 10,
                  maxBackoffMs: 20,
                },
              ],
            },
          },
        },
        extraFeatures: [backgroundSchedulerFactory],
      });
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          writer.append(prepareAuditEvent(makeEvent(i + 1))),
        ),
      );
      const deadline = Date.now() + 20_000;
      let sinks: any;
      do {
        await new Promise(r => setTimeout(r, 100));
        sinks = (
          await request(server)
            .get('/api/kmp/audit/sinks')
            .set('Authorization', auth)
        ).body;
      } while (
        (sinks.items[1].cursor < 100 ||
          sinks.items[0].consecutiveFailures < 2) &&
        Date.now() < deadline
      );
      expect(sinks.items[1]).toMatchObject({
        name: 'siem',
        kind: 'http',
        state: 'healthy',
        cursor: 100,
        lag: 0,
      });
      expect(sinks.items[1].lastSuccessAt).toBeDefined();
      expect(sinks.items[0]).toMatchObject({
        name: 'dead',
        kind: 'syslog',
        cursor: 0,
        lag: 100,
      });
      expect(sinks.items[0].lastError).toMatch(/ECONNREFUSED/);
      expect(sinks.items[0].oldestPendingTime).toBe(makeEvent(1).time);
      expect(receiver.seqs).toEqual(
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      await backend.stop();
    } finally {
      await receiver.close();
    }
  });

  it("forwards other plugins' auditor events into the audit stream", async () => {
    const otherPlugin = createBackendPlugin({
      pluginId: 'catalog',
      register(env) {
        env.registerInit({
          deps: {
            auditor: coreServices.auditor,
            httpRouter: coreServices.httpRouter,
          },
          async init({ auditor, httpRouter }) {
            httpRouter.use(async (req, res) => {
              const event = await auditor.createEvent({
                eventId: 'entity-mutate',
                severityLevel: 'medium',
                request: req,
                meta: { entityRef: 'component:default/x', token: 'sekrit' },
              });
              await event.success();
              res.json({ ok: true });
            });
          },
        });
      },
    });
    const { server, store } = await start({
      extraFeatures: [otherPlugin, kmpAuditorServiceFactory],
    });
    const res = await request(server)
      .post('/api/catalog/entities')
      .set('Authorization', auth);
    expect(res.status).toBe(200);
    const { items } = await store.query({
      limit: 10,
      order: 'asc',
      action: 'backstage.*',
    });
    expect(items.map(e => [e.action, e.outcome])).toEqual([
      ['backstage.catalog.entity-mutate', 'pending'],
      ['backstage.catalog.entity-mutate', 'success'],
    ]);
    expect(items[1]).toMatchObject({
      actor: { type: 'human', ref: 'user:default/mock' },
      source: 'backstage:catalog',
      severity: 'medium',
      request: { method: 'POST', path: '/api/catalog/entities' },
      details: { entityRef: 'component:default/x', token: '[REDACTED]' },
    });
    expect(items[0].correlationId).toBe(items[1].correlationId);
    expect((await store.verify()).valid).toBe(true);
  });
});
