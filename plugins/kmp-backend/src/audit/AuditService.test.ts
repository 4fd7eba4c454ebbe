import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { AuditService } from './AuditService';
import { redactSecrets } from './redact';
import { createAuditDb } from './__testUtils__/auditTestUtils';

jest.setTimeout(30_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

const PEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg
-----END PRIVATE KEY-----`;

describe('redactSecrets', () => {
  it('redacts secret-named keys at any depth, whatever their value', () => {
    expect(
      redactSecrets({
        headers: {
          Authorization: 'Bearer abc',
          'X-Api-Key': 'k',
          cookie: 'session=1',
          accept: 'application/json',
        },
        body: {
          spec: { password: 'p', client_secret: 's', tlsCert: 'c', keep: 'me' },
          list: [{ token: 't' }, { name: 'n' }],
        },
        kubeconfig: 'apiVersion: v1',
      }),
    ).toEqual({
      headers: {
        Authorization: '[REDACTED]',
        'X-Api-Key': '[REDACTED]',
        cookie: '[REDACTED]',
        accept: 'application/json',
      },
      body: {
        spec: {
          password: '[REDACTED]',
          client_secret: '[REDACTED]',
          tlsCert: '[REDACTED]',
          keep: 'me',
        },
        list: [{ token: '[REDACTED]' }, { name: 'n' }],
      },
      kubeconfig: '[REDACTED]',
    });
  });

  it('redacts secret-shaped values under innocent keys', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
    expect(
      redactSecrets({
        note: 'sent Bearer abc.def-123 to the API',
        basic: 'Basic dXNlcjpwYXNz',
        text: `here: ${PEM} done`,
        jwt: `token=${jwt}`,
        url: 'https://alice:hunter2@git.example.com/repo.git?access_token=xyz&ref=main',
      }),
    ).toEqual({
      note: 'sent Bearer [REDACTED] to the API',
      basic: 'Basic [REDACTED]',
      text: 'here: [REDACTED] done',
      jwt: 'token=[REDACTED]',
      url: 'https://alice:[REDACTED]@git.example.com/repo.git?access_token=[REDACTED]&ref=main',
    });
  });

  it('survives cycles and very deep values', () => {
    const a: any = { name: 'a' };
    a.self = a;
    let deep: any = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { deep };
    const result: any = redactSecrets({ a, deep });
    expect(result.a.self).toBe('[CIRCULAR]');
    expect(JSON.stringify(result)).toContain('[TRUNCATED]');
  });
});

describe('AuditService', () => {
  it('fills defaults, redacts, stores durably and emits through the auditor', async () => {
    const { store, writer } = await createAuditDb(databases, 'SQLITE_3');
    const auditor = mockServices.auditor.mock();
    const service = AuditService.create({
      writer,
      auditor,
      logger: mockServices.logger.mock(),
    });
    const stored = await service.record({
      actor: { type: 'human', ref: 'user:default/alice', persona: 'ops' },
      action: 'proxy.request',
      target: { cluster: 'prod-1', namespace: 'payments' },
      decision: {
        result: 'deny',
        reason: 'production changes go through GitOps',
      },
      outcome: 'failure',
      request: {
        method: 'PATCH',
        path: '/api/v1/namespaces/payments/secrets/db',
        headers: { authorization: 'Bearer xyz' },
        body: { data: { password: 'aHVudGVyMg==' } },
      },
      response: { status: 403 },
    });
    expect(stored.seq).toBe(1);
    expect(stored.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(stored.correlationId).toBe(stored.id);
    expect(Date.parse(stored.time)).toBeGreaterThan(Date.now() - 60_000);

    const [fromStore] = await store.readAfter(0, 1);
    expect(fromStore.request).toEqual({
      method: 'PATCH',
      path: '/api/v1/namespaces/payments/secrets/db',
      headers: { authorization: '[REDACTED]' },
      body: { data: { password: '[REDACTED]' } },
    });
    expect(JSON.stringify(fromStore)).not.toMatch(/xyz|aHVudGVyMg/);

    expect(auditor.createEvent).toHaveBeenCalledWith({
      eventId: 'proxy-request',
      severityLevel: 'medium',
      meta: expect.objectContaining({
        kmpAuditId: stored.id,
        seq: 1,
        cluster: 'prod-1',
        decision: 'deny',
      }),
    });
    const event = await (auditor.createEvent as jest.Mock).mock.results[0]
      .value;
    expect(event.fail).toHaveBeenCalled();
  });

  it('rejects malformed events with an InputError naming the field, storing nothing', async () => {
    const { store, writer } = await createAuditDb(databases, 'SQLITE_3');
    const service = AuditService.create({
      writer,
      logger: mockServices.logger.mock(),
    });
    await expect(
      service.record({
        actor: { type: 'robot' as any, ref: 'x' },
        action: 'proxy.request',
        target: {},
        decision: { result: 'allow' },
        outcome: 'success',
      }),
    ).rejects.toThrow(/Invalid audit event at actor\.type/);
    expect((await store.head()).seq).toBe(0);
  });
});
