import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { useTestbed } from '@kmp/kube-testbed';
import {
  AppsV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import permissionPlugin from '@backstage/plugin-permission-backend';
import kmpPolicyModule from '@kmp/plugin-permission-backend-module-kmp';
import http from 'node:http';
import request from 'supertest';
import { kmpPlugin } from '../plugin';
import {
  groupsUserInfoFactory,
  onBehalfOfHttpAuthFactory,
} from '../__testUtils__/testServices';

jest.setTimeout(300_000);

/**
 * The persona × environment × action matrix against real control planes
 * and a real permission backend with KMP's policy module: every cell is a
 * request through the broker; allowed cells pass KMP, refused ones are 403
 * Statuses naming the rule, with an audit event whose decision is deny.
 */

const testbed = useTestbed({
  clusters: ['mx-prod', 'mx-dev', 'mx-edge'],
  fixtures: { core: true, crds: false },
});

const CLUSTERS = {
  'mx-prod': 'payments-prod',
  'mx-dev': 'payments-nonprod',
  'mx-edge': 'retail-edge',
} as const;
type ClusterName = keyof typeof CLUSTERS;

/** Ownership refs of the demo organisation, as the catalog gives them. */
const GROUPS: Record<string, string[]> = {
  'user:default/alice': ['group:default/team-payments'],
  'user:default/oscar': ['group:default/ops-team'],
  'user:default/petra': ['group:default/platform-team'],
  'user:default/eddie': ['group:default/retail-ops'],
};

const userInfoFactory = groupsUserInfoFactory(GROUPS);
const httpAuthFactory = onBehalfOfHttpAuthFactory();

const as = (name: string) =>
  mockCredentials.user.header(`user:default/${name}`);
const gitops = mockCredentials.service.header({
  onBehalfOf: mockCredentials.service('external:gitops'),
  targetPluginId: 'kmp',
});

const TEAM = 'kmp.backstage.io/team';
const compliantLabels = { [TEAM]: 'team-payments', app: 'web' };
const compliantAnnotations = {
  'kmp.backstage.io/owner': 'group:default/team-payments',
  'kmp.backstage.io/cost-centre': 'cc-1',
  // The payments environment groups' policy overlay asks for it.
  'payments.kmp.example.com/pci-scope': 'none',
};
const podSpec = {
  securityContext: {
    runAsNonRoot: true,
    runAsUser: 65532,
    seccompProfile: { type: 'RuntimeDefault' },
  },
  containers: [
    {
      name: 'app',
      image: 'registry.k8s.io/pause:3.10',
      resources: {
        requests: { cpu: '10m', memory: '16Mi' },
        limits: { cpu: '100m', memory: '32Mi' },
      },
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
    },
  ],
};

type Action =
  | 'read'
  | 'read-secrets'
  | 'logs'
  | 'exec'
  | 'restart'
  | 'delete-pod'
  | 'scale'
  | 'write'
  | 'create-namespace';

const ACTIONS: Action[] = [
  'read',
  'read-secrets',
  'logs',
  'exec',
  'restart',
  'delete-pod',
  'scale',
  'write',
  'create-namespace',
];

const OK = 'allowed';
const GITOPS = 'production changes go through GitOps';
const IN_GIT = 'production replica counts are declared in Git';
const BG_EXEC =
  'exec, attach and port-forward in production only under an approved break-glass grant';
const BG_SECRETS =
  'Secret values in production are read only under an approved break-glass grant';

/**
 * PERSONAS.md, written out by hand for the demo organisation: who, on which
 * cluster, and per action either allowed or the rule that refuses it. The
 * namespace is `payments`, a tenant namespace of team-payments.
 */
const MATRIX: Array<{
  who: string;
  cluster: ClusterName;
  cells: Record<Action, string>;
}> = [
  {
    who: 'alice', // developer, non-production
    cluster: 'mx-dev',
    cells: {
      read: OK,
      'read-secrets': OK,
      logs: OK,
      exec: OK,
      restart: OK,
      'delete-pod': OK,
      scale: OK,
      write: OK,
      'create-namespace': OK,
    },
  },
  {
    who: 'alice', // developer, production
    cluster: 'mx-prod',
    cells: {
      read: OK,
      'read-secrets': 'developers do not read Secret values in production',
      logs: OK,
      exec: 'developers have no interactive access to production',
      restart: GITOPS,
      'delete-pod': GITOPS,
      scale: GITOPS,
      write: GITOPS,
      'create-namespace': GITOPS,
    },
  },
  {
    who: 'oscar', // ops, non-production
    cluster: 'mx-dev',
    cells: {
      read: OK,
      'read-secrets': 'Ops persona does not read Secret values',
      logs: OK,
      exec: OK,
      restart: OK,
      'delete-pod': OK,
      scale: OK,
      write: OK,
      'create-namespace': OK,
    },
  },
  {
    who: 'oscar', // ops, production
    cluster: 'mx-prod',
    cells: {
      read: OK,
      'read-secrets': 'Ops persona does not read Secret values',
      logs: OK,
      exec: BG_EXEC,
      restart: OK,
      'delete-pod': OK,
      scale: IN_GIT,
      write: GITOPS,
      'create-namespace': GITOPS,
    },
  },
  {
    who: 'petra', // platform engineer, non-production
    cluster: 'mx-dev',
    cells: {
      read: OK,
      'read-secrets': OK,
      logs: OK,
      exec: OK,
      restart: OK,
      'delete-pod': OK,
      scale: OK,
      write: OK,
      'create-namespace': OK,
    },
  },
  {
    who: 'petra', // platform engineer, production
    cluster: 'mx-prod',
    cells: {
      read: OK,
      'read-secrets': BG_SECRETS,
      logs: OK,
      exec: BG_EXEC,
      restart: OK,
      'delete-pod': OK,
      scale: IN_GIT,
      write: GITOPS,
      'create-namespace': GITOPS,
    },
  },
  {
    who: 'petra', // platform engineer on an edge cluster: non-production rules
    cluster: 'mx-edge',
    cells: {
      read: OK,
      'read-secrets': OK,
      logs: OK,
      exec: OK,
      restart: OK,
      'delete-pod': OK,
      scale: OK,
      write: OK,
      'create-namespace': OK,
    },
  },
  {
    who: 'eddie', // edge operator, edge
    cluster: 'mx-edge',
    cells: {
      read: OK,
      'read-secrets': 'Edge Operator persona does not read Secret values',
      logs: OK,
      exec: OK,
      restart: OK,
      'delete-pod': OK,
      scale: OK,
      write: OK,
      'create-namespace': OK,
    },
  },
  ...(
    [
      ['alice', 'mx-edge'],
      ['oscar', 'mx-edge'],
      ['eddie', 'mx-prod'],
      ['eddie', 'mx-dev'],
    ] as Array<[string, ClusterName]>
  ).map(([who, cluster]) => ({
    who,
    cluster,
    cells: Object.fromEntries(
      ACTIONS.map(a => [
        a,
        `no KMP persona in environment group ${CLUSTERS[cluster]}`,
      ]),
    ) as Record<Action, string>,
  })),
];

describe('the persona RBAC mapper: persona × environment × action', () => {
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let server: http.Server;
  let counter = 0;
  const unique = (prefix: string) => `${prefix}-${++counter}`;

  const core = (cluster: ClusterName) =>
    testbed().cluster(cluster).kubeConfig().makeApiClient(CoreV1Api);

  beforeAll(async () => {
    backend = await startTestBackend({
      features: [
        kmpPlugin,
        permissionPlugin,
        kmpPolicyModule,
        httpAuthFactory,
        userInfoFactory,
        mockServices.rootConfig.factory({
          data: {
            permission: { enabled: true },
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
                {
                  name: 'retail-edge',
                  environment: 'edge',
                  owner: 'group:default/retail-ops',
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
                {
                  name: 'edge',
                  environment: 'edge',
                  podSecurity: 'restricted',
                },
              ],
              registry: {
                encryptionKey: 'test-key-test-key-test-key-test-key-0000',
                allowedClusterHosts: ['127.0.0.1'],
                refresh: { intervalSeconds: 3600 },
              },
              broker: { gitopsIdentities: ['external:gitops'] },
              personas: [
                {
                  group: 'group:default/team-payments',
                  persona: 'developer',
                  environmentGroups: ['payments-nonprod', 'payments-prod'],
                },
                {
                  group: 'group:default/ops-team',
                  persona: 'ops',
                  environmentGroups: ['payments-nonprod', 'payments-prod'],
                },
                {
                  group: 'group:default/platform-team',
                  persona: 'platform-engineer',
                },
                {
                  group: 'group:default/retail-ops',
                  persona: 'edge-operator',
                  environmentGroups: ['retail-edge'],
                },
              ],
            },
          },
        }),
      ],
    });
    server = backend.server as http.Server;

    const profile = {
      'mx-prod': 'hardened',
      'mx-dev': 'standard',
      'mx-edge': 'edge',
    };
    for (const name of Object.keys(CLUSTERS) as ClusterName[]) {
      const cluster = testbed().cluster(name);
      // Registering a cluster is the platform engineer's.
      const registered = await request(server)
        .post('/api/kmp/clusters')
        .set('Authorization', as('petra'))
        .send({
          name,
          environmentGroup: CLUSTERS[name],
          region: 'eu-west-1',
          profile: profile[name],
          owner: 'group:default/platform-team',
          apiServerUrl: cluster.server,
          credentials: {
            certificateAuthority: cluster.caPem,
            token: cluster.token,
          },
        });
      if (registered.status !== 201) {
        throw new Error(`registering ${name}: ${registered.text}`);
      }

      // The same generic RBAC on every cluster: the persona groups KMP
      // impersonates are cluster-admins, so every refusal below is KMP's.
      const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
      await rbac.createClusterRoleBinding({
        body: {
          metadata: { name: 'kmp-personas' },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'ClusterRole',
            name: 'cluster-admin',
          },
          subjects: ['developer', 'ops', 'platform-engineer', 'edge-operator']
            .map(p => ({
              apiGroup: 'rbac.authorization.k8s.io',
              kind: 'Group',
              name: `kmp:persona:${p}`,
            }))
            // The GitOps engine's identity, as it would be bound.
            .concat({
              apiGroup: 'rbac.authorization.k8s.io',
              kind: 'User',
              name: 'external:gitops',
            }),
        },
      });

      // Tenant namespaces of two teams, each with a workload and a pod.
      const api = core(name);
      const apps = cluster.kubeConfig().makeApiClient(AppsV1Api);
      for (const [ns, team] of [
        ['payments', 'team-payments'],
        ['retail', 'team-retail'],
      ]) {
        await api.createNamespace({
          body: { metadata: { name: ns, labels: { [TEAM]: team } } },
        });
        await apps.createNamespacedDeployment({
          namespace: ns,
          body: {
            metadata: {
              name: 'web',
              labels: { ...compliantLabels, [TEAM]: team },
              annotations: compliantAnnotations,
            },
            spec: {
              replicas: 1,
              selector: { matchLabels: { app: 'web' } },
              template: {
                metadata: {
                  labels: { ...compliantLabels, [TEAM]: team },
                  annotations: compliantAnnotations,
                },
                spec: podSpec,
              },
            },
          },
        });
        await api.createNamespacedPod({
          namespace: ns,
          body: {
            metadata: {
              name: 'web-0',
              labels: { ...compliantLabels, [TEAM]: team },
              annotations: compliantAnnotations,
            },
            spec: podSpec,
          },
        });
        await api.createNamespacedSecret({
          namespace: ns,
          body: { metadata: { name: 'db' }, stringData: { password: 'x' } },
        });
      }
    }
  });

  afterAll(async () => {
    await backend?.stop();
  });

  /** One request through the broker. */
  const kube = (
    caller: string,
    cluster: string,
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ) => {
    const req = request(server)
      [method](`/api/kmp/proxy/clusters/${cluster}${path}`)
      .set('Authorization', caller)
      .set('Accept', 'application/json');
    return body === undefined
      ? req
      : req.set('Content-Type', contentType).send(JSON.stringify(body));
  };

  const auditOf = async (response: request.Response) => {
    const page = await request(server)
      .get(
        `/api/kmp/audit/events?correlationId=${response.headers['kmp-audit-id']}&order=asc`,
      )
      .set('Authorization', as('petra'));
    expect(page.status).toBe(200);
    return page.body.items as any[];
  };

  /** The request of one action, in namespace `ns` of `cluster`. */
  async function act(
    caller: string,
    cluster: ClusterName,
    action: Action,
    ns = 'payments',
  ) {
    const base = `/api/v1/namespaces/${ns}`;
    const deployment = `/apis/apps/v1/namespaces/${ns}/deployments/web`;
    switch (action) {
      case 'read':
        return kube(caller, cluster, 'get', `${base}/configmaps`);
      case 'read-secrets':
        return kube(caller, cluster, 'get', `${base}/secrets/db`);
      case 'logs':
        return kube(caller, cluster, 'get', `${base}/pods/web-0/log`);
      case 'exec':
        return kube(
          caller,
          cluster,
          'post',
          `${base}/pods/web-0/exec?command=true&stdout=true`,
        );
      case 'restart':
        return kube(
          caller,
          cluster,
          'patch',
          deployment,
          {
            spec: {
              template: {
                metadata: {
                  annotations: {
                    'kubectl.kubernetes.io/restartedAt':
                      new Date().toISOString(),
                  },
                },
              },
            },
          },
          'application/strategic-merge-patch+json',
        );
      case 'delete-pod': {
        const name = unique('victim');
        await core(cluster).createNamespacedPod({
          namespace: ns,
          body: {
            metadata: {
              name,
              labels: compliantLabels,
              annotations: compliantAnnotations,
            },
            spec: podSpec,
          },
        });
        return kube(caller, cluster, 'delete', `${base}/pods/${name}`);
      }
      case 'scale':
        return kube(
          caller,
          cluster,
          'patch',
          `${deployment}/scale`,
          { spec: { replicas: 2 } },
          'application/merge-patch+json',
        );
      case 'write':
        return kube(caller, cluster, 'post', `${base}/configmaps`, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: unique('clickops'),
            labels: compliantLabels,
            annotations: compliantAnnotations,
          },
          data: { a: 'b' },
        });
      case 'create-namespace':
        return kube(caller, cluster, 'post', '/api/v1/namespaces', {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: {
            name: unique('tenant'),
            labels: compliantLabels,
            annotations: compliantAnnotations,
          },
        });
      default:
        throw new Error(action);
    }
  }

  /** A refusal: 403 Status naming the rule, audited as a denial. */
  async function expectRefused(response: request.Response, rule: string) {
    expect([response.status, response.body.kind]).toEqual([403, 'Status']);
    expect(response.body.message).toContain(rule);
    const events = await auditOf(response);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'proxy.request',
      decision: { result: 'deny', reason: expect.stringContaining(rule) },
      outcome: 'failure',
      response: { status: 403 },
    });
  }

  /**
   * Allowed: KMP forwarded it and the cluster did it (2xx). Logs and exec
   * reach a pod that no kubelet runs, so the API server's answer there is
   * its own 400; what matters is that KMP let it through.
   */
  async function expectAllowed(response: request.Response, action: Action) {
    const events = await auditOf(response);
    expect(events.length).toBeGreaterThan(0);
    // (The Status message, if any, shows in a failure.)
    expect([
      events.every(e => e.decision.result === 'allow'),
      response.body?.message,
    ]).toEqual([true, response.body?.message]);
    if (action === 'logs' || action === 'exec') {
      expect(response.status).not.toBe(403);
      expect(response.status).toBeLessThan(500);
    } else {
      // 200 or 201, with the cluster's object (not a Status).
      expect([response.status, response.body?.kind]).toEqual([
        response.status === 201 ? 201 : 200,
        expect.not.stringMatching(/^Status$/),
      ]);
    }
  }

  const cells = MATRIX.flatMap(({ who, cluster, cells: row }) =>
    ACTIONS.map(action => [who, cluster, action, row[action]] as const),
  );

  it.each(cells)('%s on %s: %s → %s', async (who, cluster, action, want) => {
    expect.hasAssertions();
    const response = await act(as(who), cluster, action);
    if (want === OK) {
      await expectAllowed(response, action);
    } else {
      await expectRefused(response, want);
    }
  });

  it('keeps developers out of other teams’ namespaces, naming the owner', async () => {
    for (const action of ['read', 'logs', 'write', 'delete-pod'] as Action[]) {
      await expectRefused(
        await act(as('alice'), 'mx-dev', action, 'retail'),
        'namespace retail belongs to team team-retail',
      );
    }
    // Nor can they look across namespaces or at system namespaces.
    await expectRefused(
      await kube(as('alice'), 'mx-dev', 'get', '/api/v1/namespaces'),
      "developers work in their team's namespaces",
    );
    await expectRefused(
      await kube(as('alice'), 'mx-dev', 'get', '/api/v1/pods'),
      "developers work in their team's namespaces",
    );
    await expectRefused(
      await kube(
        as('alice'),
        'mx-dev',
        'get',
        '/api/v1/namespaces/kube-system/configmaps',
      ),
      'system namespace kube-system is for ops and platform engineers',
    );
    // API discovery stays open, so kubectl works.
    const discovery = await kube(as('alice'), 'mx-dev', 'get', '/api');
    expect(discovery.status).toBe(200);
    const version = await kube(as('alice'), 'mx-prod', 'get', '/version');
    expect(version.status).toBe(200);
  });

  it('lets ops read system namespaces but not change them', async () => {
    for (const cluster of ['mx-dev', 'mx-prod'] as ClusterName[]) {
      const read = await act(as('oscar'), cluster, 'read', 'kube-system');
      await expectAllowed(read, 'read');
      const nodes = await kube(as('oscar'), cluster, 'get', '/api/v1/nodes');
      expect(nodes.status).toBe(200);
      await expectRefused(
        await act(as('oscar'), cluster, 'delete-pod', 'kube-system'),
        'system namespace kube-system is read-only for the Ops persona',
      );
    }
    await expectRefused(
      await act(as('oscar'), 'mx-dev', 'write', 'kube-system'),
      'system namespace kube-system is read-only for the Ops persona',
    );
    // Every tenant namespace is theirs to operate, whichever team owns it.
    await expectAllowed(
      await act(as('oscar'), 'mx-prod', 'restart', 'retail'),
      'restart',
    );
  });

  it('gives platform engineers the whole cluster outside production changes', async () => {
    await expectAllowed(
      await act(as('petra'), 'mx-dev', 'write', 'kube-system'),
      'write',
    );
    const clusterRole = await kube(
      as('petra'),
      'mx-dev',
      'post',
      '/apis/rbac.authorization.k8s.io/v1/clusterroles',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'kmp-matrix-test' },
        rules: [],
      },
    );
    expect(clusterRole.status).toBe(201);
    const namespaces = await kube(
      as('petra'),
      'mx-prod',
      'get',
      '/api/v1/namespaces',
    );
    expect(namespaces.status).toBe(200);
    // Cluster-scoped changes are theirs alone.
    await expectRefused(
      await kube(
        as('oscar'),
        'mx-dev',
        'post',
        '/apis/rbac.authorization.k8s.io/v1/clusterroles',
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          metadata: { name: 'kmp-matrix-ops' },
          rules: [],
        },
      ),
      'cluster-scoped changes are for platform engineers',
    );
  });

  it('tells operational patches from changes by their body', async () => {
    expect.hasAssertions();
    const deployment = '/apis/apps/v1/namespaces/payments/deployments/web';
    // A replica change as a plain patch is a scale: declared in Git.
    await expectRefused(
      await kube(
        as('oscar'),
        'mx-prod',
        'patch',
        deployment,
        { spec: { replicas: 3 } },
        'application/merge-patch+json',
      ),
      IN_GIT,
    );
    // Anything more is a change: GitOps.
    await expectRefused(
      await kube(
        as('oscar'),
        'mx-prod',
        'patch',
        deployment,
        { metadata: { labels: { hand: 'made' } } },
        'application/merge-patch+json',
      ),
      GITOPS,
    );
  });

  it('refuses production writes to everybody but the GitOps identity', async () => {
    for (const who of ['alice', 'oscar', 'petra']) {
      await expectRefused(await act(as(who), 'mx-prod', 'write'), GITOPS);
    }
    const response = await act(gitops, 'mx-prod', 'write');
    expect([response.status, response.body.message]).toEqual([201, undefined]);
    const [pending, done] = await auditOf(response);
    expect(pending.actor).toMatchObject({
      type: 'gitops',
      ref: 'external:gitops',
    });
    expect(done).toMatchObject({
      decision: { result: 'allow' },
      outcome: 'success',
    });
  });

  it('impersonates the persona the mapper resolved and audits it', async () => {
    const response = await act(as('eddie'), 'mx-edge', 'read');
    const [event] = await auditOf(response);
    expect(event.actor).toMatchObject({
      type: 'human',
      ref: 'user:default/eddie',
      persona: 'edge-operator',
    });
  });

  it("lists a developer's tenant namespaces by team label, whatever their names", async () => {
    const mine = await request(server)
      .get('/api/kmp/clusters/mx-dev/tenant-namespaces')
      .set('Authorization', as('alice'));
    expect(mine.status).toBe(200);
    expect(mine.body.cluster).toBe('mx-dev');
    expect(mine.body.teams).toEqual(['team-payments']);
    // 'payments' is not named after the team; earlier cells add more.
    expect(mine.body.items).toContainEqual({
      name: 'payments',
      team: 'team-payments',
      phase: 'Active',
    });
    expect(
      mine.body.items.every((ns: any) => ns.team === 'team-payments'),
    ).toBe(true);
    expect(mine.body.items.map((ns: any) => ns.name)).not.toContain('retail');
    // Ops hold no team here: nothing is theirs, nothing leaks.
    const ops = await request(server)
      .get('/api/kmp/clusters/mx-dev/tenant-namespaces')
      .set('Authorization', as('oscar'));
    expect(ops.status).toBe(200);
    expect(ops.body.items).toEqual([]);
    // No persona in the cluster's environment group: refused.
    const outsider = await request(server)
      .get('/api/kmp/clusters/mx-dev/tenant-namespaces')
      .set('Authorization', as('eddie'));
    expect(outsider.status).toBe(403);
    const elsewhere = await request(server)
      .get('/api/kmp/clusters/mx-edge/tenant-namespaces')
      .set('Authorization', as('alice'));
    expect(elsewhere.status).toBe(403);
    const anonymous = await request(server).get(
      '/api/kmp/clusters/mx-dev/tenant-namespaces',
    );
    expect(anonymous.status).toBe(401);
  });

  it('answers GET /me with the personas per environment group', async () => {
    const me = await request(server)
      .get('/api/kmp/me')
      .set('Authorization', as('alice'));
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      user: 'user:default/alice',
      ownershipRefs: ['user:default/alice', 'group:default/team-payments'],
      gitops: false,
      personas: [
        {
          environmentGroup: 'payments-prod',
          environment: 'production',
          persona: 'developer',
        },
        {
          environmentGroup: 'payments-nonprod',
          environment: 'non-production',
          persona: 'developer',
        },
      ],
    });
    const petra = await request(server)
      .get('/api/kmp/me')
      .set('Authorization', as('petra'));
    expect(petra.body.personas).toHaveLength(3);
    const service = await request(server)
      .get('/api/kmp/me')
      .set('Authorization', gitops);
    expect(service.body).toEqual({
      user: 'external:gitops',
      ownershipRefs: [],
      gitops: true,
      personas: [],
    });
    const anonymous = await request(server).get('/api/kmp/me');
    expect(anonymous.status).toBe(401);
  });

  it('keeps platform management and the audit API to the personas that hold them', async () => {
    const register = await request(server)
      .post('/api/kmp/clusters')
      .set('Authorization', as('oscar'))
      .send({
        name: 'mx-other',
        environmentGroup: 'payments-nonprod',
        region: 'eu-west-1',
        profile: 'standard',
        owner: 'group:default/platform-team',
        connectivity: 'edge',
      });
    expect(register.status).toBe(403);
    // Developers read the audit trail of their own actions only.
    const audit = await request(server)
      .get('/api/kmp/audit/events?limit=1000')
      .set('Authorization', as('alice'));
    expect(audit.status).toBe(200);
    expect(audit.body.items.length).toBeGreaterThan(0);
    expect(
      audit.body.items.every((e: any) => e.actor.ref === 'user:default/alice'),
    ).toBe(true);
    const othersAudit = await request(server)
      .get('/api/kmp/audit/events?actor=user:default/oscar')
      .set('Authorization', as('alice'));
    expect(othersAudit.status).toBe(403);
    const opsAudit = await request(server)
      .get('/api/kmp/audit/events?limit=1')
      .set('Authorization', as('oscar'));
    expect(opsAudit.status).toBe(200);
    // A kubeconfig for a production cluster is read-only for people.
    const kubeconfig = await request(server)
      .post('/api/kmp/clusters/mx-prod/kubeconfig')
      .set('Authorization', as('alice'))
      .send({});
    expect([kubeconfig.status, kubeconfig.body.access]).toEqual([201, 'read']);
    const edgeKubeconfig = await request(server)
      .post('/api/kmp/clusters/mx-edge/kubeconfig')
      .set('Authorization', as('alice'))
      .send({});
    expect(edgeKubeconfig.status).toBe(403);
  });
});
