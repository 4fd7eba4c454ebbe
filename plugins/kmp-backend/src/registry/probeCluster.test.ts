import { ClusterClient, ClusterRequestError } from './ClusterClient';
import { distributionHint, probeCluster } from './probeCluster';

describe('distributionHint', () => {
  it.each([
    ['v1.33.5+k3s1', [], 'k3s'],
    ['v1.32.4+rke2r1', [], 'rke2'],
    ['v1.31.2-eks-7f9249a', [], 'eks'],
    ['v1.30.5-gke.1014001', [], 'gke'],
    ['v1.34.2', ['azure:///subscriptions/x'], 'aks'],
    ['v1.34.2', ['kind://docker/kind/kind-control-plane'], 'kind'],
    ['v1.34.2', [], undefined],
  ])('reads %s %j as %s', (version, providers, expected) => {
    expect(distributionHint(version, providers)).toBe(expected);
  });
});

describe('probeCluster', () => {
  type Answer = { status: number; body: unknown };
  /** An API server answering by path (query included); 404 otherwise. */
  const server = (answers: Record<string, Answer>) => {
    const asked: string[] = [];
    const get = async (path: string) => {
      asked.push(path);
      const a = answers[path] ?? { status: 404, body: {} };
      return { status: a.status, body: JSON.stringify(a.body) };
    };
    return {
      asked,
      client: {
        get,
        async getJson<T>(path: string): Promise<T> {
          const { status, body } = await get(path);
          if (status !== 200) {
            throw new ClusterRequestError(`${path}: ${status}`, status);
          }
          return JSON.parse(body) as T;
        },
      } as unknown as Pick<ClusterClient, 'get' | 'getJson'>,
    };
  };
  const TENANTS =
    '/api/v1/namespaces?labelSelector=kmp.backstage.io%2Fteam&limit=500';
  const healthy: Record<string, Answer> = {
    '/version': { status: 200, body: { gitVersion: 'v1.34.2' } },
    '/readyz': { status: 200, body: 'ok' },
    '/api/v1/nodes?limit=500': {
      status: 200,
      body: {
        items: [
          { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
        ],
      },
    },
  };
  const ns = (name: string, team?: string) => ({
    metadata: { name, labels: team ? { 'kmp.backstage.io/team': team } : {} },
  });

  it('reports the tenant namespaces, paged and sorted, with their team', async () => {
    const { client, asked } = server({
      ...healthy,
      [TENANTS]: {
        status: 200,
        body: {
          items: [ns('search', 'team-search'), ns('checkout', 'team-payments')],
          metadata: { continue: 'page-2' },
        },
      },
      [`${TENANTS}&continue=page-2`]: {
        status: 200,
        body: { items: [ns('billing', 'team-payments'), ns('odd', '')] },
      },
    });
    expect(await probeCluster(client, 5_000)).toEqual({
      ok: true,
      kubernetesVersion: 'v1.34.2',
      nodeCount: 1,
      nodesReady: 1,
      controlPlaneHealthy: true,
      tenants: [
        { namespace: 'billing', team: 'team-payments' },
        { namespace: 'checkout', team: 'team-payments' },
        { namespace: 'search', team: 'team-search' },
      ],
    });
    expect(asked).toContain(`${TENANTS}&continue=page-2`);
  });

  it("passes on the API server's serving certificate from the handshake", async () => {
    const { client } = server(healthy);
    const serving = {
      notAfter: '2027-01-31T00:00:00.000Z',
      subject: 'CN=kube-apiserver',
    };
    const get = client.get;
    const withCertificate = {
      ...client,
      get: async (path: string, deadline: number) => ({
        ...(await get(path, deadline)),
        servingCertificate: serving,
      }),
    };
    expect(await probeCluster(withCertificate, 5_000)).toMatchObject({
      ok: true,
      servingCertificate: serving,
    });
  });

  it('stays healthy without tenants when namespaces may not be listed', async () => {
    const { client } = server({
      ...healthy,
      [TENANTS]: { status: 403, body: { kind: 'Status', code: 403 } },
    });
    const result = await probeCluster(client, 5_000);
    expect(result).toMatchObject({ ok: true, controlPlaneHealthy: true });
    expect(result).not.toHaveProperty('tenants');
  });

  it('reports no tenants rather than a part of them when the list does not end', async () => {
    const pages: Record<string, Answer> = {};
    for (let page = 0; page < 101; page++) {
      pages[page === 0 ? TENANTS : `${TENANTS}&continue=p${page}`] = {
        status: 200,
        body: {
          items: [ns(`ns-${page}`, 'team-a')],
          metadata: { continue: `p${page + 1}` },
        },
      };
    }
    const { client } = server({ ...healthy, ...pages });
    const result = await probeCluster(client, 5_000);
    expect(result).toMatchObject({ ok: true });
    expect(result).not.toHaveProperty('tenants');
  });
});
