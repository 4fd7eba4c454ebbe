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
          {
            metadata: { name: 'node-1' },
            status: {
              conditions: [
                { type: 'Ready', status: 'True' },
                { type: 'MemoryPressure', status: 'False' },
                { type: 'DiskPressure', status: 'False' },
                { type: 'PIDPressure', status: 'False' },
                { type: 'NetworkUnavailable', status: 'False' },
              ],
            },
            spec: { unschedulable: false },
          },
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
      nodeProblems: {
        pressure: [],
        pressureCount: 0,
        unschedulable: [],
        unschedulableCount: 0,
        networkUnavailable: [],
        networkUnavailableCount: 0,
      },
      tenants: [
        { namespace: 'billing', team: 'team-payments' },
        { namespace: 'checkout', team: 'team-payments' },
        { namespace: 'search', team: 'team-search' },
      ],
      // No GitOps engine installed (every GitOps list answers 404).
      gitops: {
        objects: 0,
        failingCount: 0,
        outOfSyncCount: 0,
        failing: [],
        outOfSync: [],
      },
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

  describe('node problems', () => {
    const NODES = '/api/v1/nodes?limit=500';
    const node = (
      name: string,
      options: {
        conditions?: Record<string, string>;
        unschedulable?: boolean;
      } = {},
    ) => ({
      metadata: { name },
      status: {
        conditions: Object.entries({
          Ready: 'True',
          ...options.conditions,
        }).map(([type, status]) => ({ type, status })),
      },
      ...(options.unschedulable !== undefined
        ? { spec: { unschedulable: options.unschedulable } }
        : {}),
    });
    const nodes = (items: unknown[], next?: string): Answer => ({
      status: 200,
      body: { items, ...(next ? { metadata: { continue: next } } : {}) },
    });

    it('names the nodes under pressure with their conditions, the cordoned ones and those without network, across pages', async () => {
      const { client } = server({
        ...healthy,
        [NODES]: nodes(
          [
            node('worker-b', {
              conditions: {
                DiskPressure: 'True',
                MemoryPressure: 'True',
                PIDPressure: 'False',
              },
            }),
            node('worker-a', {
              conditions: { PIDPressure: 'True', NetworkUnavailable: 'False' },
              unschedulable: true,
            }),
            // Unknown is not True: the kubelet stopped reporting, which
            // KmpNodesNotReady covers.
            node('worker-c', {
              conditions: { MemoryPressure: 'Unknown', Ready: 'Unknown' },
            }),
          ],
          'page-2',
        ),
        [`${NODES}&continue=page-2`]: nodes([
          node('edge-1', {
            conditions: { NetworkUnavailable: 'True', Ready: 'False' },
            unschedulable: false,
          }),
          node('cp-1', { unschedulable: true }),
        ]),
      });
      const result = await probeCluster(client, 5_000);
      expect(result).toMatchObject({ ok: true, nodeCount: 5, nodesReady: 3 });
      if (!result.ok) throw new Error('probe failed');
      expect(result.nodeProblems).toEqual({
        pressure: [
          { node: 'worker-a', conditions: ['PIDPressure'] },
          { node: 'worker-b', conditions: ['MemoryPressure', 'DiskPressure'] },
        ],
        pressureCount: 2,
        unschedulable: ['cp-1', 'worker-a'],
        unschedulableCount: 2,
        networkUnavailable: ['edge-1'],
        networkUnavailableCount: 1,
      });
    });

    it('keeps at most 50 nodes per problem, with the total count', async () => {
      const many = Array.from({ length: 120 }, (_, i) =>
        node(`n-${String(i).padStart(3, '0')}`, {
          conditions: {
            DiskPressure: 'True',
            ...(i < 60 ? { NetworkUnavailable: 'True' } : {}),
          },
          unschedulable: i % 2 === 0,
        }),
      );
      const { client } = server({ ...healthy, [NODES]: nodes(many) });
      const result = await probeCluster(client, 5_000);
      if (!result.ok) throw new Error('probe failed');
      const problems = result.nodeProblems!;
      expect(problems.pressureCount).toBe(120);
      expect(problems.pressure).toHaveLength(50);
      expect(problems.pressure[0]).toEqual({
        node: 'n-000',
        conditions: ['DiskPressure'],
      });
      expect(problems.pressure[49].node).toBe('n-049');
      expect(problems.unschedulableCount).toBe(60);
      expect(problems.unschedulable).toHaveLength(50);
      expect(problems.unschedulable.slice(0, 2)).toEqual(['n-000', 'n-002']);
      expect(problems.networkUnavailableCount).toBe(60);
      expect(problems.networkUnavailable).toHaveLength(50);
      expect(problems.networkUnavailable[49]).toBe('n-049');
    });

    it('reports empty lists for a healthy cluster, and none for a cluster without nodes', async () => {
      const { client } = server(healthy);
      const empty = {
        pressure: [],
        pressureCount: 0,
        unschedulable: [],
        unschedulableCount: 0,
        networkUnavailable: [],
        networkUnavailableCount: 0,
      };
      expect(await probeCluster(client, 5_000)).toMatchObject({
        ok: true,
        nodeProblems: empty,
      });
      const bare = server({ ...healthy, [NODES]: nodes([]) });
      expect(await probeCluster(bare.client, 5_000)).toMatchObject({
        ok: true,
        nodeCount: 0,
        nodeProblems: empty,
      });
    });

    it('reports no node problems when the node list cannot be read (the probe fails)', async () => {
      const { client } = server({
        ...healthy,
        [NODES]: { status: 403, body: { kind: 'Status', code: 403 } },
      });
      const result = await probeCluster(client, 5_000);
      expect(result.ok).toBe(false);
      expect(result).not.toHaveProperty('nodeProblems');
    });
  });

  describe('GitOps state', () => {
    const KS = '/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations?limit=500';
    const HR = '/apis/helm.toolkit.fluxcd.io/v2/helmreleases?limit=500';
    const APPS = '/apis/argoproj.io/v1alpha1/applications?limit=500';
    const t = '2026-12-06T11:50:00Z';
    const kustomization = (
      namespace: string,
      name: string,
      ready: { status: string; reason: string; message?: string },
    ) => ({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { namespace, name },
      status: {
        conditions: [{ type: 'Ready', lastTransitionTime: t, ...ready }],
      },
    });
    const app = (name: string, sync: string, health: string) => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { namespace: 'argocd', name },
      status: {
        sync: { status: sync },
        health: { status: health },
        reconciledAt: t,
      },
    });
    const list = (items: unknown[], next?: string) => ({
      status: 200,
      body: { items, ...(next ? { metadata: { continue: next } } : {}) },
    });

    it('lists Flux and Argo CD objects across namespaces, paged, and keeps the failing and out-of-sync ones', async () => {
      const { client, asked } = server({
        ...healthy,
        [KS]: list(
          [
            kustomization('flux-system', 'apps', {
              status: 'True',
              reason: 'ReconciliationSucceeded',
            }),
            kustomization('flux-system', 'infrastructure', {
              status: 'False',
              reason: 'BuildFailed',
              message: `kustomize build failed: ${'x'.repeat(400)}`,
            }),
          ],
          'ks-2',
        ),
        [`${KS}&continue=ks-2`]: list([
          kustomization('team-a', 'waiting', {
            status: 'False',
            reason: 'DependencyNotReady',
          }),
        ]),
        [HR]: list([
          {
            apiVersion: 'helm.toolkit.fluxcd.io/v2',
            kind: 'HelmRelease',
            metadata: { namespace: 'team-payments', name: 'redis' },
            status: {
              conditions: [
                {
                  type: 'Ready',
                  status: 'False',
                  reason: 'UpgradeFailed',
                  message: 'Helm upgrade failed',
                },
              ],
            },
          },
        ]),
        [APPS]: list([
          app('storefront', 'Synced', 'Healthy'),
          app('payments', 'OutOfSync', 'Degraded'),
          app('search', 'OutOfSync', 'Healthy'),
        ]),
      });
      const result = await probeCluster(client, 5_000);
      expect(result).toMatchObject({ ok: true, controlPlaneHealthy: true });
      expect(asked).toContain(`${KS}&continue=ks-2`);
      const gitops = (result as { gitops?: any }).gitops;
      expect(gitops).toEqual({
        objects: 7,
        failingCount: 3,
        outOfSyncCount: 1,
        failing: [
          {
            engine: 'argocd',
            kind: 'Application',
            namespace: 'argocd',
            name: 'payments',
            state: 'failed',
            reason: 'Degraded',
            since: '2026-12-06T11:50:00.000Z',
          },
          {
            engine: 'flux',
            kind: 'HelmRelease',
            namespace: 'team-payments',
            name: 'redis',
            state: 'failed',
            reason: 'UpgradeFailed',
            message: 'Helm upgrade failed',
          },
          {
            engine: 'flux',
            kind: 'Kustomization',
            namespace: 'flux-system',
            name: 'infrastructure',
            state: 'failed',
            reason: 'BuildFailed',
            message: expect.stringMatching(/^kustomize build failed: x+…$/),
            since: '2026-12-06T11:50:00.000Z',
          },
        ],
        outOfSync: [
          {
            engine: 'argocd',
            kind: 'Application',
            namespace: 'argocd',
            name: 'search',
            state: 'out-of-sync',
            reason: 'OutOfSync',
            since: '2026-12-06T11:50:00.000Z',
          },
        ],
      });
      expect(gitops.failing[2].message).toHaveLength(300);
    });

    it('keeps at most 50 of each list, with the total count', async () => {
      const failing = Array.from({ length: 60 }, (_, i) =>
        kustomization('flux-system', `ks-${String(i).padStart(2, '0')}`, {
          status: 'False',
          reason: 'HealthCheckFailed',
        }),
      );
      const { client } = server({ ...healthy, [KS]: list(failing) });
      const result = (await probeCluster(client, 5_000)) as { gitops?: any };
      expect(result.gitops.objects).toBe(60);
      expect(result.gitops.failingCount).toBe(60);
      expect(result.gitops.failing).toHaveLength(50);
      expect(result.gitops.failing[49].name).toBe('ks-49');
    });

    it('reports no GitOps objects when no engine is installed (404 for every kind)', async () => {
      const { client, asked } = server(healthy);
      const result = await probeCluster(client, 5_000);
      expect(asked).toEqual(expect.arrayContaining([KS, HR, APPS]));
      expect(result).toMatchObject({
        ok: true,
        gitops: {
          objects: 0,
          failingCount: 0,
          outOfSyncCount: 0,
          failing: [],
          outOfSync: [],
        },
      });
    });

    it('reports no GitOps state, and stays healthy, when one kind may not be listed', async () => {
      const { client } = server({
        ...healthy,
        [KS]: list([
          kustomization('flux-system', 'infrastructure', {
            status: 'False',
            reason: 'BuildFailed',
          }),
        ]),
        [APPS]: { status: 403, body: { kind: 'Status', code: 403 } },
      });
      const result = await probeCluster(client, 5_000);
      expect(result).toMatchObject({
        ok: true,
        controlPlaneHealthy: true,
        nodeCount: 1,
      });
      expect(result).not.toHaveProperty('gitops');
    });

    it('reports no GitOps state rather than a part of it when a list does not end', async () => {
      const pages: Record<string, Answer> = {};
      for (let page = 0; page < 101; page++) {
        pages[page === 0 ? HR : `${HR}&continue=p${page}`] = list(
          [],
          `p${page + 1}`,
        );
      }
      const { client } = server({ ...healthy, ...pages });
      const result = await probeCluster(client, 5_000);
      expect(result).toMatchObject({ ok: true });
      expect(result).not.toHaveProperty('gitops');
    });

    it('does not fail the health probe when a GitOps list is slower than the deadline', async () => {
      const { client } = server(healthy);
      const slow = {
        ...client,
        get: async (path: string, deadline: number) => {
          if (path.startsWith('/apis/argoproj.io/')) {
            // Answers only after the deadline, as ClusterClient would time out.
            await new Promise(r => setTimeout(r, deadline - Date.now() + 20));
            throw new ClusterRequestError(`GET ${path} timed out`);
          }
          return client.get(path, deadline);
        },
        getJson: async <T>(path: string, deadline: number): Promise<T> => {
          const { status, body } = await slow.get(path, deadline);
          if (status !== 200) {
            throw new ClusterRequestError(`${path}: ${status}`, status);
          }
          return JSON.parse(body) as T;
        },
      };
      const started = Date.now();
      const result = await probeCluster(slow, 300);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(result).toMatchObject({ ok: true, controlPlaneHealthy: true });
      expect(result).not.toHaveProperty('gitops');
    });
  });
});
