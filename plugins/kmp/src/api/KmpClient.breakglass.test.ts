import { ResponseError } from '@backstage/errors';
import { MockFetchApi, registerMswTestHooks } from '@backstage/test-utils';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { BreakGlassRequest } from './KmpApi';
import { KMP_AUDIT_ID_HEADER } from './broker';
import { KmpClient } from './KmpClient';

const baseUrl = 'http://backstage.test/api/kmp';
const id = '5b0f8a0e-3c1d-4b8e-9a54-2f6f1d1c7a10';
const auditId = 'c0ffee00-0000-4000-8000-000000000001';

const pending: BreakGlassRequest = {
  id,
  cluster: 'payments-prod-eu1',
  environmentGroup: 'payments-prod',
  namespace: 'team-payments',
  requester: 'user:default/alice',
  reason: 'payments API is down, need to roll back by hand',
  durationSeconds: 1800,
  state: 'pending',
  createdAt: '2026-12-06T10:00:00.000Z',
  pendingUntil: '2026-12-06T11:00:00.000Z',
};

/**
 * The body of the Backstage error handler for a thrown error; a refusal
 * the backend recorded names its audit event in the `kmp-audit-id` header.
 */
const errorBody = (
  name: string,
  message: string,
  statusCode: number,
  recordedAs?: string,
) =>
  HttpResponse.json(
    { error: { name, message }, response: { statusCode } },
    {
      status: statusCode,
      headers: recordedAs ? { [KMP_AUDIT_ID_HEADER]: recordedAs } : {},
    },
  );

describe('KmpClient (break-glass)', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  const client = new KmpClient({
    discoveryApi: { getBaseUrl: async () => baseUrl },
    fetchApi: new MockFetchApi({ injectIdentityAuth: { token: 'user-token' } }),
  });

  it('requests a grant with a JSON body, as the signed-in user, and returns the audit id of the step', async () => {
    let body: unknown;
    let auth: string | null = null;
    server.use(
      http.post(`${baseUrl}/break-glass/requests`, async ({ request }) => {
        auth = request.headers.get('authorization');
        body = await request.json();
        return HttpResponse.json(
          { ...pending, auditId },
          { status: 201, headers: { 'kmp-audit-id': auditId } },
        );
      }),
    );
    await expect(
      client.requestBreakGlass({
        cluster: 'payments-prod-eu1',
        namespace: 'team-payments',
        reason: pending.reason,
        durationSeconds: 1800,
      }),
    ).resolves.toEqual({ ...pending, auditId });
    expect(auth).toBe('Bearer user-token');
    expect(body).toEqual({
      cluster: 'payments-prod-eu1',
      namespace: 'team-payments',
      reason: pending.reason,
      durationSeconds: 1800,
    });
  });

  it('lists requests with state, cluster and limit as query parameters', async () => {
    let seen: URLSearchParams | undefined;
    server.use(
      http.get(`${baseUrl}/break-glass/requests`, ({ request }) => {
        seen = new URL(request.url).searchParams;
        return HttpResponse.json({ items: [pending] });
      }),
    );
    await expect(
      client.listBreakGlassRequests({
        state: 'pending',
        cluster: 'payments-prod-eu1',
        limit: 50,
      }),
    ).resolves.toEqual({ items: [pending] });
    expect(Object.fromEntries(seen!)).toEqual({
      state: 'pending',
      cluster: 'payments-prod-eu1',
      limit: '50',
    });

    await client.listBreakGlassRequests();
    expect([...seen!.keys()]).toEqual([]);
  });

  it('reads one request by id', async () => {
    server.use(
      http.get(`${baseUrl}/break-glass/requests/:id`, ({ params }) =>
        params.id === id
          ? HttpResponse.json(pending)
          : errorBody('NotFoundError', 'no such request', 404),
      ),
    );
    await expect(client.getBreakGlassRequest(id)).resolves.toEqual(pending);
  });

  it('approves and denies with an optional comment, leaving a blank one out, each with its audit id', async () => {
    const bodies: Record<string, unknown> = {};
    server.use(
      http.post(
        `${baseUrl}/break-glass/requests/:id/:step`,
        async ({ params, request }) => {
          bodies[params.step as string] = await request.json();
          return HttpResponse.json({
            ...pending,
            state: params.step === 'approve' ? 'approved' : 'denied',
            decidedBy: 'user:default/oscar',
            auditId: `${params.step}-audit-id`,
          });
        },
      ),
    );
    await expect(
      client.approveBreakGlassRequest(id, { comment: 'incident INC-42' }),
    ).resolves.toMatchObject({
      state: 'approved',
      auditId: 'approve-audit-id',
    });
    await expect(
      client.denyBreakGlassRequest(id, { comment: '  ' }),
    ).resolves.toMatchObject({ state: 'denied', auditId: 'deny-audit-id' });
    expect(bodies).toEqual({
      approve: { comment: 'incident INC-42' },
      deny: {},
    });
  });

  it('revokes with an optional reason', async () => {
    let body: unknown;
    server.use(
      http.post(
        `${baseUrl}/break-glass/requests/${id}/revoke`,
        async ({ request }) => {
          body = await request.json();
          return HttpResponse.json({
            ...pending,
            state: 'revoked',
            revokedBy: 'user:default/alice',
            auditId,
          });
        },
      ),
    );
    await expect(
      client.revokeBreakGlassRequest(id, { reason: 'fixed' }),
    ).resolves.toMatchObject({ state: 'revoked', auditId });
    expect(body).toEqual({ reason: 'fixed' });
  });

  it("keeps the backend's refusal of a self-approval (403) as the cause, with the refusal's audit id", async () => {
    const message =
      'user:default/alice cannot approve their own break-glass request: break-glass needs a second person: nobody approves or denies their own request';
    server.use(
      http.post(`${baseUrl}/break-glass/requests/${id}/approve`, () =>
        errorBody('NotAllowedError', message, 403, auditId),
      ),
    );
    const error = await client
      .approveBreakGlassRequest(id)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect((error as ResponseError).statusCode).toBe(403);
    expect((error as ResponseError).cause.message).toBe(message);
    expect(
      (error as ResponseError).response.headers.get(KMP_AUDIT_ID_HEADER),
    ).toBe(auditId);
  });

  it('keeps the conflict of a decision that lost the race (409) as the cause', async () => {
    server.use(
      http.post(`${baseUrl}/break-glass/requests/${id}/deny`, () =>
        errorBody(
          'ConflictError',
          `break-glass request '${id}' is approved, not pending`,
          409,
        ),
      ),
    );
    const error = await client.denyBreakGlassRequest(id).catch(e => e);
    expect((error as ResponseError).statusCode).toBe(409);
    expect((error as ResponseError).cause.message).toBe(
      `break-glass request '${id}' is approved, not pending`,
    );
    expect(
      (error as ResponseError).response.headers.get(KMP_AUDIT_ID_HEADER),
    ).toBeNull();
  });
});
