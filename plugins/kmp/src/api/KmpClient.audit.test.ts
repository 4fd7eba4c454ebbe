import { MockFetchApi, registerMswTestHooks } from '@backstage/test-utils';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { KmpClient } from './KmpClient';

const baseUrl = 'http://backstage.test/api/kmp';

describe('KmpClient (audit and persona views)', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  const client = new KmpClient({
    discoveryApi: { getBaseUrl: async () => baseUrl },
    fetchApi: new MockFetchApi({ injectIdentityAuth: { token: 'user-token' } }),
  });

  it('lists audit events with filters, page size and cursor as query parameters', async () => {
    let seen: URLSearchParams | undefined;
    server.use(
      http.get(`${baseUrl}/audit/events`, ({ request }) => {
        if (request.headers.get('authorization') !== 'Bearer user-token') {
          return HttpResponse.json({}, { status: 401 });
        }
        seen = new URL(request.url).searchParams;
        return HttpResponse.json({ items: [], nextCursor: 'next' });
      }),
    );
    await expect(
      client.listAuditEvents({
        actor: 'user:default/alice',
        action: 'proxy.*',
        cluster: 'payments-dev-eu1',
        decision: 'deny',
        outcome: 'failure',
        from: '2026-11-25T00:00:00.000Z',
        to: '',
        limit: 25,
        cursor: 'abc',
      }),
    ).resolves.toEqual({ items: [], nextCursor: 'next' });
    expect(Object.fromEntries(seen!)).toEqual({
      actor: 'user:default/alice',
      action: 'proxy.*',
      cluster: 'payments-dev-eu1',
      decision: 'deny',
      outcome: 'failure',
      from: '2026-11-25T00:00:00.000Z',
      limit: '25',
      cursor: 'abc',
    });
  });

  it('exports the current filter in the requested format', async () => {
    let seen: URLSearchParams | undefined;
    server.use(
      http.get(`${baseUrl}/audit/events/export`, ({ request }) => {
        seen = new URL(request.url).searchParams;
        return new HttpResponse('seq,id\r\n1,a\r\n', {
          headers: { 'content-type': 'text/csv; charset=utf-8' },
        });
      }),
    );
    const blob = await client.exportAuditEvents(
      { cluster: 'payments-dev-eu1' },
      'csv',
    );
    expect(await blob.text()).toBe('seq,id\r\n1,a\r\n');
    expect(seen?.get('cluster')).toBe('payments-dev-eu1');
    expect(seen?.get('format')).toBe('csv');
  });

  it('turns a refused export into a ResponseError, not a file of the error', async () => {
    server.use(
      http.get(`${baseUrl}/audit/events/export`, () =>
        HttpResponse.json(
          {
            error: { name: 'NotAllowedError', message: 'not allowed' },
            response: { statusCode: 403 },
          },
          { status: 403 },
        ),
      ),
    );
    await expect(client.exportAuditEvents({}, 'ndjson')).rejects.toMatchObject({
      name: 'ResponseError',
      statusCode: 403,
    });
  });

  it('reads the chain verdict and the signed-in user', async () => {
    server.use(
      http.get(`${baseUrl}/audit/verify`, () =>
        HttpResponse.json({ valid: true, checked: 12, headSeq: 12 }),
      ),
      http.get(`${baseUrl}/me`, () =>
        HttpResponse.json({
          user: 'user:default/alice',
          ownershipRefs: ['group:default/team-payments'],
          gitops: false,
          personas: [],
        }),
      ),
    );
    await expect(client.verifyAuditChain()).resolves.toEqual({
      valid: true,
      checked: 12,
      headSeq: 12,
    });
    await expect(client.getMe()).resolves.toMatchObject({
      user: 'user:default/alice',
    });
  });

  it('lists profiles and pages compliance summaries', async () => {
    let seen: URLSearchParams | undefined;
    server.use(
      http.get(`${baseUrl}/profiles`, () =>
        HttpResponse.json({ items: [{ name: 'standard' }] }),
      ),
      http.get(`${baseUrl}/policies/compliance`, ({ request }) => {
        seen = new URL(request.url).searchParams;
        return HttpResponse.json({ items: [], totalCount: 0 });
      }),
    );
    await expect(client.listProfiles()).resolves.toEqual({
      items: [{ name: 'standard' }],
    });
    await client.listComplianceSummaries({ limit: 50, offset: 0 });
    expect(seen?.get('limit')).toBe('50');
    expect(seen?.get('offset')).toBe('0');
  });

  it("lists the caller's tenant namespaces of the given teams", async () => {
    let seen: URL | undefined;
    server.use(
      http.get(
        `${baseUrl}/clusters/:cluster/tenant-namespaces`,
        ({ request }) => {
          seen = new URL(request.url);
          return HttpResponse.json({
            cluster: 'payments-dev-eu1',
            teams: ['team-payments', 'team-cards'],
            items: [
              { name: 'payments-web', team: 'team-payments', phase: 'Active' },
              { name: 'cards', team: 'team-cards' },
            ],
          });
        },
      ),
    );
    await expect(
      client.listTenantNamespaces('payments-dev-eu1', [
        'team-payments',
        'team-risk',
      ]),
    ).resolves.toEqual([
      {
        cluster: 'payments-dev-eu1',
        name: 'payments-web',
        team: 'team-payments',
        phase: 'Active',
      },
    ]);
    expect(seen?.pathname).toBe(
      '/api/kmp/clusters/payments-dev-eu1/tenant-namespaces',
    );
  });

  it('asks the backend nothing for a user without teams', async () => {
    const seen = jest.fn();
    server.use(
      http.get(`${baseUrl}/clusters/:cluster/tenant-namespaces`, () => {
        seen();
        return HttpResponse.json({ cluster: 'c1', teams: [], items: [] });
      }),
    );
    await expect(client.listTenantNamespaces('c1', [])).resolves.toEqual([]);
    expect(seen).not.toHaveBeenCalled();
  });

  it('surfaces a refusal with its message', async () => {
    server.use(
      http.get(`${baseUrl}/clusters/:cluster/tenant-namespaces`, () =>
        HttpResponse.json(
          {
            error: {
              name: 'NotAllowedError',
              message: "not allowed to kmp.cluster.access.read on cluster 'c1'",
            },
            request: { method: 'GET', url: '/clusters/c1/tenant-namespaces' },
            response: { statusCode: 403 },
          },
          { status: 403 },
        ),
      ),
    );
    const error = await client
      .listTenantNamespaces('c1', ['team-payments'])
      .catch(e => e);
    expect(error.name).toBe('ResponseError');
    expect(error.statusCode).toBe(403);
    expect(error.body.error.message).toBe(
      "not allowed to kmp.cluster.access.read on cluster 'c1'",
    );
  });
});
