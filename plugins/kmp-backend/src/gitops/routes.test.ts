import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import {
  cloneHead,
  commitCount,
  GitServer,
  startGitServer,
} from '@kmp/plugin-kmp-node/testUtils';
import request from 'supertest';
import { parse, stringify } from 'yaml';
import {
  denyListPermissionsFactory,
  groupsUserInfoFactory,
  testKmpConfig,
} from '../__testUtils__/testServices';
import { kmpPlugin } from '../plugin';

jest.setTimeout(60_000);

const GIT_AUTH = { username: 'x-access-token', password: 'gitops-secret-7f3a' };

const petra = mockCredentials.user.header('user:default/petra');
const mallory = mockCredentials.user.header('user:default/mallory');
const nobody = mockCredentials.user.header('user:default/nobody');
const ci = mockCredentials.service.header({
  onBehalfOf: mockCredentials.service('external:ci'),
  targetPluginId: 'kmp',
});

/** The ClickOps card's deploy form, for a non-production cluster. */
const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'api', namespace: 'team-payments' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'api' } },
    template: {
      metadata: { labels: { app: 'api' } },
      spec: { containers: [{ name: 'api', image: 'busybox:1.36' }] },
    },
  },
};

/** A Deployment the production bundle admits. */
const compliant = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'checkout',
    namespace: 'team-payments',
    labels: { 'kmp.backstage.io/team': 'team-payments' },
    annotations: {
      'kmp.backstage.io/owner': 'group:default/team-payments',
      'kmp.backstage.io/cost-centre': 'cc-42',
    },
  },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'checkout' } },
    template: {
      metadata: { labels: { app: 'checkout' } },
      spec: {
        securityContext: {
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        containers: [
          {
            name: 'checkout',
            image: 'registry.kmp.example.com/payments/checkout:1.4.2',
            resources: {
              requests: { cpu: '100m', memory: '128Mi' },
              limits: { cpu: '500m', memory: '256Mi' },
            },
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
            },
          },
        ],
      },
    },
  },
};

describe('POST /clusters/{name}/gitops/publish', () => {
  let git: GitServer;
  let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
  let prodRepo: string;
  let devRepo: string;
  const clones: Array<{ cleanup(): Promise<void> }> = [];

  const head = async (url: string) => {
    const c = await cloneHead(url, 'main', GIT_AUTH);
    clones.push(c);
    return c;
  };
  const publish = (cluster: string, who: string | undefined, body: unknown) => {
    const r = request(server).post(
      `/api/kmp/clusters/${cluster}/gitops/publish`,
    );
    return (who ? r.set('Authorization', who) : r).send(body as object);
  };
  const auditEvent = async (id: string) => {
    const res = await request(server)
      .get('/api/kmp/audit/events?action=gitops.publish&limit=100')
      .set('Authorization', petra);
    expect(res.status).toBe(200);
    return res.body.items.find((e: { id: string }) => e.id === id);
  };

  beforeAll(async () => {
    git = await startGitServer({ auth: GIT_AUTH });
    prodRepo = await git.createRepo('apps-prod');
    devRepo = await git.createRepo('apps-nonprod');
    const kmp = testKmpConfig();
    const backend = await startTestBackend({
      features: [
        kmpPlugin,
        mockServices.rootConfig.factory({
          data: {
            kmp: {
              ...kmp,
              goldenPaths: {
                gitops: {
                  committer: {
                    name: 'KMP GitOps publisher',
                    email: 'kmp-gitops@test.invalid',
                  },
                  repositories: [
                    {
                      environmentGroup: 'apps-prod',
                      url: prodRepo,
                      auth: GIT_AUTH,
                    },
                    {
                      environmentGroup: 'apps-nonprod',
                      url: devRepo,
                      path: 'clusters/{cluster}/{namespace}',
                      auth: GIT_AUTH,
                    },
                  ],
                },
              },
            },
          },
        }),
        denyListPermissionsFactory({
          'user:default/mallory': ['kmp.cluster.access.write'],
        }),
        groupsUserInfoFactory({
          'user:default/petra': ['group:default/platform-team'],
          'user:default/mallory': ['group:default/platform-team'],
        }),
        mockServices.httpAuth.factory({
          defaultCredentials: mockCredentials.none(),
        }),
      ],
    });
    server = backend.server;
    for (const [name, group, profile] of [
      ['prod-eu1', 'apps-prod', 'hardened'],
      ['dev-eu1', 'apps-nonprod', 'standard'],
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
          // Unreachable: publishing needs Git, not the cluster.
          apiServerUrl: 'https://127.0.0.1:1',
          credentials: { token: `secret-${name}` },
        });
      if (res.status !== 201) {
        throw new Error(`registering ${name}: ${JSON.stringify(res.body)}`);
      }
    }
  });

  afterAll(async () => {
    await Promise.all(clones.map(c => c.cleanup()));
    await git?.stop();
  });

  it('commits the objects as the caller, pushes them and records the audit event', async () => {
    const res = await publish('dev-eu1', petra, {
      manifests: [deployment],
      message: 'Deploy api 1.36',
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      branch: 'main',
      repoUrl: devRepo,
      paths: ['clusters/dev-eu1/team-payments/deployment-api.yaml'],
      changed: true,
      auditId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });

    const commit = await head(devRepo);
    expect(commit.sha).toBe(res.body.commit);
    expect(commit.authorName).toBe('petra');
    expect(commit.authorEmail).toBe('petra@users.noreply.backstage.invalid');
    expect(commit.committerName).toBe('KMP GitOps publisher');
    expect(commit.subject).toBe('Deploy api 1.36');
    expect(commit.body).toContain(
      'Requested by user:default/petra through KMP.',
    );
    expect(commit.body).toContain(`KMP-Audit-Id: ${res.body.auditId}`);
    expect(
      parse(
        await commit.read('clusters/dev-eu1/team-payments/deployment-api.yaml'),
      ),
    ).toEqual(deployment);

    const event = await auditEvent(res.body.auditId);
    expect(event).toMatchObject({
      action: 'gitops.publish',
      actor: { type: 'human', ref: 'user:default/petra' },
      target: {
        cluster: 'dev-eu1',
        environmentGroup: 'apps-nonprod',
        namespace: 'team-payments',
      },
      decision: { result: 'allow' },
      outcome: 'success',
      details: {
        commit: res.body.commit,
        repoUrl: devRepo,
        objects: ['Deployment team-payments/api'],
      },
    });
    // The Git credential is in neither the answer nor the audit trail.
    expect(JSON.stringify(res.body)).not.toContain(GIT_AUTH.password);
    expect(JSON.stringify(event)).not.toContain(GIT_AUTH.password);
  });

  it('merges YAML into the declared object in place and makes no commit when nothing changes', async () => {
    const scale = stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api' },
      spec: { replicas: 5 },
    });
    const res = await publish('dev-eu1', petra, {
      manifests: `---\n${scale}`,
      namespace: 'team-payments',
    });
    expect(res.status).toBe(201);
    expect(res.body.paths).toEqual([
      'clusters/dev-eu1/team-payments/deployment-api.yaml',
    ]);
    const commit = await head(devRepo);
    expect(commit.subject).toBe(
      'kmp: publish Deployment/api to dev-eu1/team-payments',
    );
    const declared = parse(
      await commit.read('clusters/dev-eu1/team-payments/deployment-api.yaml'),
    );
    expect(declared.spec.replicas).toBe(5);
    expect(declared.spec.template).toEqual(deployment.spec.template);

    const commits = await commitCount(git, 'apps-nonprod', 'main');
    const again = await publish('dev-eu1', petra, {
      manifests: scale,
      namespace: 'team-payments',
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ changed: false, commit: commit.sha });
    expect(await commitCount(git, 'apps-nonprod', 'main')).toBe(commits);
  });

  it('publishes to production: Git is the way changes reach it', async () => {
    const res = await publish('prod-eu1', petra, { manifests: [compliant] });
    expect(res.status).toBe(201);
    expect(res.body.paths).toEqual([
      'clusters/prod-eu1/namespaces/team-payments/deployment-checkout.yaml',
    ]);
    const commit = await head(prodRepo);
    expect(commit.sha).toBe(res.body.commit);
    expect((await auditEvent(res.body.auditId)).severity).toBe('high');
  });

  it("refuses what the cluster's policy bundle denies, naming every violation, and commits nothing", async () => {
    const before = await commitCount(git, 'apps-prod', 'main');
    const privileged = {
      ...deployment,
      spec: {
        ...deployment.spec,
        template: {
          ...deployment.spec.template,
          spec: {
            containers: [
              {
                name: 'api',
                image: 'docker.io/evil/miner:latest',
                securityContext: { privileged: true },
              },
            ],
          },
        },
      },
    };
    const res = await publish('prod-eu1', petra, { manifests: [privileged] });
    expect(res.status).toBe(403);
    expect(res.body.error.name).toBe('NotAllowedError');
    expect(res.body.error.message).toMatch(/^the policy pre-flight \(bundle /);
    expect(res.body.error.message).toContain(
      '[pod-security-privileged] Deployment team-payments/api',
    );
    expect(res.body.error.message).toContain('[approved-registries]');
    expect(await commitCount(git, 'apps-prod', 'main')).toBe(before);

    const { body } = await request(server)
      .get(
        '/api/kmp/audit/events?action=gitops.publish&decision=deny&limit=100',
      )
      .set('Authorization', petra);
    const event = body.items.find(
      (e: { details?: { violations?: string[] } }) =>
        e.details?.violations?.includes('pod-security-privileged'),
    );
    expect(event).toMatchObject({
      decision: { result: 'deny' },
      outcome: 'failure',
      target: { cluster: 'prod-eu1' },
    });
  });

  it('refuses callers the permission policy denies kmp.cluster.access.write', async () => {
    const res = await publish('dev-eu1', mallory, { manifests: [deployment] });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe(
      'kmp.cluster.access.write is not granted on cluster dev-eu1',
    );
  });

  it('refuses production publications of callers without a persona there, naming the rule', async () => {
    const res = await publish('prod-eu1', nobody, { manifests: [compliant] });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe(
      'no KMP persona in environment group apps-prod',
    );
  });

  it('refuses service callers: a commit is authored by a person', async () => {
    const res = await publish('dev-eu1', ci, { manifests: [deployment] });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('authored by a person');
  });

  it('answers 404 for a cluster that is not registered', async () => {
    const res = await publish('nowhere', petra, { manifests: [deployment] });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe("cluster 'nowhere' is not registered");
  });

  it.each([
    ['no manifests', {}, 'manifests'],
    [
      'an unknown field',
      { manifests: [deployment], force: true },
      'additional properties',
    ],
    [
      'an object without a kind',
      { manifests: [{ apiVersion: 'v1', metadata: { name: 'x' } }] },
      'body.manifests[0].kind',
    ],
    [
      'a Secret',
      {
        manifests: [
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'db', namespace: 'team-payments' },
            stringData: { password: 'x' },
          },
        ],
      },
      'Secret values do not go to Git',
    ],
    [
      'objects of two namespaces',
      {
        manifests: [
          deployment,
          { ...deployment, metadata: { name: 'b', namespace: 'other' } },
        ],
      },
      'belong to one namespace, got other, team-payments',
    ],
    [
      'objects without a namespace',
      { manifests: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n' },
      'give one',
    ],
    ['YAML that does not parse', { manifests: 'a: [' }, 'YAML document 1'],
  ])('answers 400 for %s', async (_what, body, message) => {
    const res = await publish('dev-eu1', petra, body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(message);
  });

  it('answers 401 without credentials', async () => {
    const res = await publish('dev-eu1', undefined, {
      manifests: [deployment],
    });
    expect(res.status).toBe(401);
  });
});
