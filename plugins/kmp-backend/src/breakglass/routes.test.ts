import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  breakGlassRequestSchema,
  breakGlassStepResultSchema,
} from '@kmp/plugin-kmp-common';
import request from 'supertest';
import { kmpPlugin } from '../plugin';

jest.setTimeout(60_000);

const config = {
  kmp: {
    environmentGroups: [
      {
        name: 'payments-prod',
        environment: 'production',
        owner: 'group:default/platform-team',
      },
      {
        name: 'payments-nonprod',
        environment: 'non-production',
        owner: 'group:default/platform-team',
      },
    ],
    profiles: [
      {
        name: 'hardened',
        environment: 'production',
        podSecurity: 'restricted',
      },
      {
        name: 'standard',
        environment: 'non-production',
        podSecurity: 'baseline',
      },
    ],
    registry: {
      encryptionKey: 'test-key-test-key-test-key-test-key-0000',
      allowedClusterHosts: ['127.0.0.1'],
      refresh: { intervalSeconds: 3600 },
    },
    breakGlass: { maxDurationSeconds: 7200 },
  },
};

const alice = mockCredentials.user.header('user:default/alice');
const oscar = mockCredentials.user.header('user:default/oscar');
const petra = mockCredentials.user.header('user:default/petra');
/** May neither request nor approve. */
const mallory = mockCredentials.user.header('user:default/mallory');
const ci = mockCredentials.service.header({
  onBehalfOf: mockCredentials.service('external:ci'),
  targetPluginId: 'kmp',
});

/**
 * A stand-in permission policy: everybody may everything except mallory
 * (no break-glass at all) and alice (no approvals) — but it never refuses
 * self-approval itself; that is the break-glass domain's job.
 */
const DENIED: Record<string, string[]> = {
  'user:default/mallory': [
    'kmp.break-glass.request',
    'kmp.break-glass.approve',
  ],
  'user:default/alice': ['kmp.break-glass.approve'],
};

async function start() {
  const permissions = mockServices.permissions.mock();
  const decide = (requests: any[], options: any) => {
    const who = options?.credentials?.principal?.userEntityRef ?? '';
    return requests.map(r => ({
      result: (DENIED[who] ?? []).includes(r.permission.name)
        ? AuthorizeResult.DENY
        : AuthorizeResult.ALLOW,
    })) as any;
  };
  permissions.authorize.mockImplementation(decide as any);
  permissions.authorizeConditional.mockImplementation(decide as any);
  const backend = await startTestBackend({
    features: [
      kmpPlugin,
      mockServices.rootConfig.factory({ data: config }),
      permissions.factory,
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
    ],
  });
  const { server } = backend;
  for (const [name, group, profile] of [
    ['payments-prod-eu1', 'payments-prod', 'hardened'],
    ['payments-dev-eu1', 'payments-nonprod', 'standard'],
  ]) {
    const res = await request(server)
      .post('/api/kmp/clusters')
      .set('Authorization', petra)
      .send({
        name,
        environmentGroup: group,
        region: 'eu-west-1',
        profile,
        owner: 'group:default/platform-team',
        apiServerUrl: 'https://127.0.0.1:1',
        credentials: { token: `secret-${name}` },
      });
    expect(res.status).toBe(201);
  }
  return backend;
}

describe('break-glass routes', () => {
  let backend: Awaited<ReturnType<typeof start>>;
  let server: Awaited<ReturnType<typeof start>>['server'];
  beforeAll(async () => {
    backend = await start();
    server = backend.server;
  });
  afterAll(async () => {
    await backend?.stop();
  });

  const ask = (who: string, body: Record<string, unknown>) =>
    request(server)
      .post('/api/kmp/break-glass/requests')
      .set('Authorization', who)
      .send(body);
  const act = (who: string, id: string, what: string, body = {}) =>
    request(server)
      .post(`/api/kmp/break-glass/requests/${id}/${what}`)
      .set('Authorization', who)
      .send(body);
  const auditEvents = async (action: string) => {
    const res = await request(server)
      .get(`/api/kmp/audit/events?action=${action}&order=asc`)
      .set('Authorization', petra);
    expect(res.status).toBe(200);
    return res.body.items as any[];
  };
  /**
   * The one stored audit event an answer names: its id is both the
   * `auditId` of the body (on success) and the `kmp-audit-id` header.
   */
  const recordedAs = async (res: request.Response) => {
    const auditId = res.headers['kmp-audit-id'];
    expect(auditId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    if (res.status < 300) expect(res.body.auditId).toBe(auditId);
    const found = await request(server)
      .get(`/api/kmp/audit/events?correlationId=${auditId}`)
      .set('Authorization', petra);
    expect(found.status).toBe(200);
    const events = (found.body.items as any[]).filter(e => e.id === auditId);
    expect(events).toHaveLength(1);
    return events[0];
  };
  const valid = {
    cluster: 'payments-prod-eu1',
    reason: 'checkout pods crash-loop; hotfix the config map',
    durationSeconds: 1800,
    namespace: 'team-payments',
  };

  it('takes a request, refuses self-approval whatever the policy says, and lets another person approve', async () => {
    const created = await ask(alice, valid);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      cluster: 'payments-prod-eu1',
      environmentGroup: 'payments-prod',
      namespace: 'team-payments',
      requester: 'user:default/alice',
      durationSeconds: 1800,
      state: 'pending',
    });
    const { id } = created.body;
    expect(await recordedAs(created)).toMatchObject({
      action: 'break-glass.request',
      actor: { type: 'human', ref: 'user:default/alice' },
      decision: { result: 'allow' },
      outcome: 'success',
      details: expect.objectContaining({ requestId: id, state: 'pending' }),
    });

    // petra holds kmp.break-glass.approve, but not for her own request.
    const own = await ask(petra, valid);
    const self = await act(petra, own.body.id, 'approve');
    expect(self.status).toBe(403);
    expect(self.body.error).toEqual({
      name: 'NotAllowedError',
      message:
        'user:default/petra cannot approve their own break-glass request: break-glass needs a second person: nobody approves or denies their own request',
    });
    expect(self.body.error.stack).toBeUndefined();
    expect(await recordedAs(self)).toMatchObject({
      action: 'break-glass.approve',
      actor: { ref: 'user:default/petra' },
      decision: {
        result: 'deny',
        reason: expect.stringContaining('break-glass needs a second person'),
      },
      outcome: 'failure',
      details: expect.objectContaining({ requestId: own.body.id }),
    });
    expect((await act(petra, own.body.id, 'deny')).status).toBe(403);

    // Without the approve permission: refused by the policy.
    const unapproved = await act(mallory, id, 'approve');
    expect(unapproved.status).toBe(403);
    expect(unapproved.body.error.message).toBe(
      'not allowed to kmp.break-glass.approve',
    );
    expect(await recordedAs(unapproved)).toMatchObject({
      action: 'break-glass.approve',
      actor: { ref: 'user:default/mallory' },
      decision: {
        result: 'deny',
        reason: 'not allowed to kmp.break-glass.approve',
      },
    });

    const approved = await act(oscar, id, 'approve', { comment: 'go ahead' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      state: 'approved',
      decidedBy: 'user:default/oscar',
      comment: 'go ahead',
    });
    expect(
      Date.parse(approved.body.expiresAt) - Date.parse(approved.body.decidedAt),
    ).toBe(1800_000);
    const approval = await recordedAs(approved);
    expect(approval).toMatchObject({
      action: 'break-glass.approve',
      actor: { type: 'human', ref: 'user:default/oscar' },
      decision: { result: 'allow' },
      outcome: 'success',
      details: expect.objectContaining({ requestId: id, state: 'approved' }),
    });
    // Each step has an audit event of its own.
    expect(approval.id).not.toBe(created.body.auditId);

    const again = await act(petra, id, 'approve');
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe(
      `break-glass request '${id}' is approved, not pending`,
    );

    // Each step is in the audit trail, refusals with the rule.
    const approvals = await auditEvents('break-glass.approve');
    expect(approvals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: expect.objectContaining({ ref: 'user:default/petra' }),
          target: expect.objectContaining({ cluster: 'payments-prod-eu1' }),
          decision: {
            result: 'deny',
            reason: expect.stringContaining(
              'break-glass needs a second person',
            ),
          },
          outcome: 'failure',
        }),
        expect.objectContaining({
          actor: expect.objectContaining({ ref: 'user:default/mallory' }),
          decision: {
            result: 'deny',
            reason: 'not allowed to kmp.break-glass.approve',
          },
        }),
        expect.objectContaining({
          actor: expect.objectContaining({
            type: 'human',
            ref: 'user:default/oscar',
          }),
          target: {
            cluster: 'payments-prod-eu1',
            environmentGroup: 'payments-prod',
            namespace: 'team-payments',
          },
          decision: { result: 'allow' },
          outcome: 'success',
          severity: 'high',
          details: expect.objectContaining({
            requestId: id,
            requester: 'user:default/alice',
            state: 'approved',
            comment: 'go ahead',
          }),
        }),
      ]),
    );
    const requests = await auditEvents('break-glass.request');
    expect(requests).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: expect.objectContaining({ ref: 'user:default/alice' }),
          decision: { result: 'allow' },
          details: expect.objectContaining({
            requestId: id,
            durationSeconds: 1800,
            reason: valid.reason,
          }),
        }),
      ]),
    );
  });

  it('validates requests and names the field', async () => {
    const tooLong = await ask(alice, { ...valid, durationSeconds: 7201 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toBe(
      'Invalid request body.durationSeconds: must be at most 7200 seconds (kmp.breakGlass.maxDurationSeconds)',
    );
    const noReason = await ask(alice, { cluster: 'payments-prod-eu1' });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.message).toContain('reason');
    const badNamespace = await ask(alice, {
      ...valid,
      namespace: 'Kube_System',
    });
    expect(badNamespace.status).toBe(400);
    expect(badNamespace.body.error.message).toContain('namespace');
    const unknown = await ask(alice, { ...valid, cluster: 'nowhere' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe(
      "cluster 'nowhere' is not registered",
    );
  });

  it('refuses requests from people without the permission, from services, and for non-production clusters', async () => {
    const denied = await ask(mallory, valid);
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toBe(
      "not allowed to kmp.break-glass.request on cluster 'payments-prod-eu1'",
    );
    expect(await recordedAs(denied)).toMatchObject({
      action: 'break-glass.request',
      actor: { ref: 'user:default/mallory' },
      decision: { result: 'deny' },
      outcome: 'failure',
    });
    const service = await ask(ci, valid);
    expect(service.status).toBe(403);
    expect(service.body.error.message).toContain('break-glass is for people');
    const nonprod = await ask(alice, { ...valid, cluster: 'payments-dev-eu1' });
    expect(nonprod.status).toBe(403);
    expect(nonprod.body.error.message).toBe(
      "cluster 'payments-dev-eu1' is non-production: changes there need no break-glass",
    );
    expect(await recordedAs(nonprod)).toMatchObject({
      action: 'break-glass.request',
      actor: { ref: 'user:default/alice' },
      target: expect.objectContaining({ cluster: 'payments-dev-eu1' }),
      decision: {
        result: 'deny',
        reason:
          "cluster 'payments-dev-eu1' is non-production: changes there need no break-glass",
      },
    });
    const unauthenticated = await request(server)
      .post('/api/kmp/break-glass/requests')
      .send(valid);
    expect(unauthenticated.status).toBe(401);

    const refusals = (await auditEvents('break-glass.request')).filter(
      e => e.decision.result === 'deny',
    );
    expect(refusals.map(e => [e.actor.ref, e.decision.reason])).toEqual(
      expect.arrayContaining([
        [
          'user:default/mallory',
          "not allowed to kmp.break-glass.request on cluster 'payments-prod-eu1'",
        ],
        [
          'user:default/alice',
          "cluster 'payments-dev-eu1' is non-production: changes there need no break-glass",
        ],
      ]),
    );
  });

  it("lists one's own requests, and others' open ones only to approvers", async () => {
    const { body } = await ask(alice, valid);
    const list = async (who: string, query = '') =>
      (
        await request(server)
          .get(`/api/kmp/break-glass/requests${query}`)
          .set('Authorization', who)
      ).body.items.map((r: any) => r.id) as string[];

    expect(await list(alice)).toContain(body.id);
    expect(await list(oscar)).toContain(body.id);
    expect(await list(oscar, '?state=pending')).toContain(body.id);
    expect(await list(oscar, '?state=approved')).not.toContain(body.id);
    expect(await list(mallory)).toEqual([]);

    const one = (who: string) =>
      request(server)
        .get(`/api/kmp/break-glass/requests/${body.id}`)
        .set('Authorization', who);
    expect((await one(alice)).body.id).toBe(body.id);
    expect((await one(oscar)).body.id).toBe(body.id);
    expect((await one(mallory)).status).toBe(404);

    for (const query of [
      '?state=open',
      '?limit=0',
      '?limit=501',
      '?limit=2.5',
      '?limit=many',
      '?cluster=Not_A_Label',
      '?owner=alice',
    ]) {
      const badQuery = await request(server)
        .get(`/api/kmp/break-glass/requests${query}`)
        .set('Authorization', alice);
      expect({ query, status: badQuery.status }).toEqual({
        query,
        status: 400,
      });
    }
    expect((await list(oscar)).length).toBeGreaterThan(1);
    const limited = await request(server)
      .get('/api/kmp/break-glass/requests?limit=1')
      .set('Authorization', oscar);
    expect(limited.status).toBe(200);
    expect(limited.body.items).toHaveLength(1);
  });

  it('answers in the shapes of @kmp/plugin-kmp-common, and nothing more', async () => {
    // Strict: a field the backend adds but the shared schema lacks fails.
    const asStep = breakGlassStepResultSchema.strict();
    const asRequest = breakGlassRequestSchema.strict();
    const created = await ask(alice, valid);
    expect(created.status).toBe(201);
    expect(asStep.parse(created.body)).toEqual(created.body);

    const one = await request(server)
      .get(`/api/kmp/break-glass/requests/${created.body.id}`)
      .set('Authorization', alice);
    expect(one.status).toBe(200);
    expect(asRequest.parse(one.body)).toEqual(one.body);
    // A stored request carries no step's audit id.
    expect(asStep.safeParse(one.body).success).toBe(false);

    const approved = await act(oscar, created.body.id, 'approve', {
      comment: 'ok',
    });
    expect(approved.status).toBe(200);
    expect(asStep.parse(approved.body)).toEqual(approved.body);
    const revoked = await act(alice, created.body.id, 'revoke', {
      reason: 'done',
    });
    expect(revoked.status).toBe(200);
    expect(asStep.parse(revoked.body)).toMatchObject({
      state: 'revoked',
      decidedBy: 'user:default/oscar',
      comment: 'ok',
      revokedBy: 'user:default/alice',
      revokeReason: 'done',
    });

    const list = await request(server)
      .get('/api/kmp/break-glass/requests')
      .set('Authorization', oscar);
    expect(list.status).toBe(200);
    expect(list.body.items.length).toBeGreaterThan(0);
    for (const item of list.body.items) {
      expect(asRequest.parse(item)).toEqual(item);
    }
  });

  it('denies, and revokes only for the requester or an approver', async () => {
    const first = (await ask(alice, valid)).body;
    const denied = await act(oscar, first.id, 'deny', { comment: 'use Git' });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ state: 'denied', comment: 'use Git' });
    expect(await recordedAs(denied)).toMatchObject({
      action: 'break-glass.deny',
      actor: { ref: 'user:default/oscar' },
      decision: { result: 'allow' },
      details: expect.objectContaining({
        requestId: first.id,
        state: 'denied',
        comment: 'use Git',
      }),
    });
    expect((await act(petra, first.id, 'approve')).status).toBe(409);

    const second = (await ask(alice, valid)).body;
    await act(oscar, second.id, 'approve');
    const foreign = await act(mallory, second.id, 'revoke');
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.message).toContain(
      'only the requester or a holder of kmp.break-glass.approve',
    );
    expect(await recordedAs(foreign)).toMatchObject({
      action: 'break-glass.revoke',
      actor: { ref: 'user:default/mallory' },
      decision: {
        result: 'deny',
        reason: expect.stringContaining('only the requester'),
      },
    });
    const revoked = await act(alice, second.id, 'revoke', {
      reason: 'fixed',
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({
      state: 'revoked',
      revokedBy: 'user:default/alice',
      revokeReason: 'fixed',
    });
    expect(await recordedAs(revoked)).toMatchObject({
      action: 'break-glass.revoke',
      actor: { ref: 'user:default/alice' },
      decision: { result: 'allow' },
      outcome: 'success',
      details: expect.objectContaining({
        requestId: second.id,
        state: 'revoked',
        reason: 'fixed',
      }),
    });
    expect((await act(oscar, second.id, 'revoke')).status).toBe(409);

    // Withdrawing a pending request is a revocation, with its own audit id.
    const third = (await ask(alice, valid)).body;
    const withdrawn = await act(alice, third.id, 'revoke');
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body).toMatchObject({ id: third.id, state: 'revoked' });
    expect(await recordedAs(withdrawn)).toMatchObject({
      action: 'break-glass.revoke',
      actor: { ref: 'user:default/alice' },
      decision: { result: 'allow' },
      details: expect.objectContaining({ requestId: third.id }),
    });
    expect(withdrawn.body.auditId).not.toBe(third.auditId);

    const missing = await act(
      oscar,
      '6d6f6f6f-0000-4000-8000-000000000000',
      'approve',
    );
    expect(missing.status).toBe(404);
    const notAnId = await act(oscar, 'abc', 'approve');
    expect(notAnId.status).toBe(400);

    expect(await auditEvents('break-glass.revoke')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: expect.objectContaining({ ref: 'user:default/mallory' }),
          decision: expect.objectContaining({ result: 'deny' }),
        }),
        expect.objectContaining({
          actor: expect.objectContaining({ ref: 'user:default/alice' }),
          decision: { result: 'allow' },
          details: expect.objectContaining({
            requestId: second.id,
            reason: 'fixed',
          }),
        }),
      ]),
    );
  });
});
