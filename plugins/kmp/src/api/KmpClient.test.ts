import { MockFetchApi, registerMswTestHooks } from '@backstage/test-utils';
import { waitFor } from '@testing-library/react';
import { delay, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { KmpClient } from './KmpClient';

const baseUrl = 'http://backstage.test/api/kmp';

describe('KmpClient', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  const client = new KmpClient({
    discoveryApi: { getBaseUrl: async () => baseUrl },
    fetchApi: new MockFetchApi({ injectIdentityAuth: { token: 'user-token' } }),
  });

  it('lists environment groups with the caller token', async () => {
    server.use(
      http.get(`${baseUrl}/environment-groups`, ({ request }) => {
        if (request.headers.get('authorization') !== 'Bearer user-token') {
          return HttpResponse.json({}, { status: 401 });
        }
        return HttpResponse.json({
          items: [{ name: 'a', environment: 'edge', owner: 'group:default/x' }],
        });
      }),
    );
    await expect(client.listEnvironmentGroups()).resolves.toEqual({
      items: [{ name: 'a', environment: 'edge', owner: 'group:default/x' }],
    });
  });

  it('turns backend errors into ResponseErrors carrying the backend message', async () => {
    server.use(
      http.get(`${baseUrl}/environment-groups`, () =>
        HttpResponse.json(
          {
            error: {
              name: 'NotAllowedError',
              message: 'not allowed to kmp.environment-group.read',
            },
            response: { statusCode: 403 },
          },
          { status: 403 },
        ),
      ),
    );
    await expect(client.listEnvironmentGroups()).rejects.toMatchObject({
      name: 'ResponseError',
      statusCode: 403,
      body: {
        error: { message: 'not allowed to kmp.environment-group.read' },
      },
    });
  });

  it('reads an unavailable health status as data, not as an error', async () => {
    server.use(
      http.get(`${baseUrl}/health`, () =>
        HttpResponse.json(
          { status: 'unavailable', database: 'unavailable' },
          { status: 503 },
        ),
      ),
    );
    await expect(client.getHealth()).resolves.toEqual({
      status: 'unavailable',
      database: 'unavailable',
    });
  });

  it('sends cluster filters, search and paging as query parameters', async () => {
    let seen: URLSearchParams | undefined;
    server.use(
      http.get(`${baseUrl}/clusters`, ({ request }) => {
        seen = new URL(request.url).searchParams;
        return HttpResponse.json({ items: [], totalCount: 0 });
      }),
    );
    await client.listClusters({
      environment: ['production', 'edge'],
      q: 'pay ments',
      orderBy: 'region',
      order: 'desc',
      limit: 50,
      offset: 100,
    });
    expect(seen?.getAll('environment')).toEqual(['production', 'edge']);
    expect(seen?.get('q')).toBe('pay ments');
    expect(seen?.get('orderBy')).toBe('region');
    expect(seen?.get('order')).toBe('desc');
    expect(seen?.get('limit')).toBe('50');
    expect(seen?.get('offset')).toBe('100');
  });

  it('cancels a cluster list request when its signal aborts', async () => {
    let seen: URLSearchParams | undefined;
    server.use(
      http.get(`${baseUrl}/clusters`, async ({ request }) => {
        seen = new URL(request.url).searchParams;
        await delay('infinite');
        return HttpResponse.json({ items: [], totalCount: 0 });
      }),
    );
    const controller = new AbortController();
    const listed = client.listClusters(
      { q: 'pay' },
      { signal: controller.signal },
    );
    await waitFor(() => expect(seen).toBeDefined());
    controller.abort();
    await expect(listed).rejects.toMatchObject({ name: 'AbortError' });
    expect([...seen!.keys()]).toEqual(['q']);
  });
});
