import { MockFetchApi, registerMswTestHooks } from '@backstage/test-utils';
import { ResponseError } from '@backstage/errors';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { KmpAlertPage } from './KmpApi';
import { KmpClient } from './KmpClient';

const baseUrl = 'http://backstage.test/api/kmp';

const page: KmpAlertPage = {
  items: [
    {
      fingerprint: '0123456789abcdef',
      cluster: 'payments-prod-eu1',
      alertname: 'KmpClusterUnreachable',
      severity: 'critical',
      status: 'firing',
      summary: 'Cluster payments-prod-eu1 is unreachable from KMP',
      description: 'no answer',
      labels: { alertname: 'KmpClusterUnreachable' },
      startsAt: '2026-12-06T12:00:00.000Z',
    },
  ],
  totalCount: 1,
  evaluation: {
    enabled: true,
    intervalSeconds: 60,
    receivers: 1,
    lastEvaluatedAt: '2026-12-06T12:01:00.000Z',
  },
};

describe('KmpClient (alerts)', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  const client = new KmpClient({
    discoveryApi: { getBaseUrl: async () => baseUrl },
    fetchApi: new MockFetchApi({ injectIdentityAuth: { token: 'user-token' } }),
  });

  it('lists alerts with repeated filters and paging as query parameters, with the caller token', async () => {
    let seen: URLSearchParams | undefined;
    server.use(
      http.get(`${baseUrl}/alerts`, ({ request }) => {
        if (request.headers.get('authorization') !== 'Bearer user-token') {
          return HttpResponse.json({}, { status: 401 });
        }
        seen = new URL(request.url).searchParams;
        return HttpResponse.json(page);
      }),
    );
    await expect(
      client.listAlerts({
        cluster: ['a', 'b'],
        status: ['firing'],
        severity: ['critical', 'high'],
        limit: 20,
        offset: 40,
      }),
    ).resolves.toEqual(page);
    expect(seen!.getAll('cluster')).toEqual(['a', 'b']);
    expect(seen!.getAll('severity')).toEqual(['critical', 'high']);
    expect(seen!.get('status')).toBe('firing');
    expect(seen!.get('limit')).toBe('20');
    expect(seen!.get('offset')).toBe('40');
  });

  it("reads one cluster's alerts under the cluster's path", async () => {
    let path: string | undefined;
    let status: string | null = null;
    server.use(
      http.get(`${baseUrl}/clusters/:name/alerts`, ({ request, params }) => {
        path = String(params.name);
        status = new URL(request.url).searchParams.get('status');
        return HttpResponse.json(page);
      }),
    );
    await expect(
      client.listClusterAlerts('payments-prod-eu1', { status: ['firing'] }),
    ).resolves.toEqual(page);
    expect(path).toBe('payments-prod-eu1');
    expect(status).toBe('firing');
  });

  it('reads open-alert counts for a page of the fleet', async () => {
    let clusters: string[] = [];
    const summary = {
      firing: 2,
      bySeverity: { critical: 1, high: 1 },
      clusters: [
        { cluster: 'a', firing: 2, bySeverity: { critical: 1, high: 1 } },
      ],
      evaluation: page.evaluation,
    };
    server.use(
      http.get(`${baseUrl}/alerts/summary`, ({ request }) => {
        clusters = new URL(request.url).searchParams.getAll('cluster');
        return HttpResponse.json(summary);
      }),
    );
    await expect(
      client.getAlertSummary({ cluster: ['a', 'b'] }),
    ).resolves.toEqual(summary);
    expect(clusters).toEqual(['a', 'b']);
  });

  it('throws a ResponseError carrying the backend error', async () => {
    server.use(
      http.get(`${baseUrl}/clusters/:name/alerts`, () =>
        HttpResponse.json(
          {
            error: {
              name: 'NotAllowedError',
              message: "not allowed to kmp.cluster.read on cluster 'x'",
            },
            response: { statusCode: 403 },
          },
          { status: 403 },
        ),
      ),
    );
    const error = await client.listClusterAlerts('x').catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.response.status).toBe(403);
    expect(error.body.error.message).toContain(
      'not allowed to kmp.cluster.read',
    );
  });
});
