import { useTestbed } from '@kmp/kube-testbed';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  GoldenPathBackend,
  eventually,
  startGoldenPathBackend,
} from '../__testUtils__/goldenPathBackend';
import { readGoldenPathsConfig } from '../config';
import { ConfigReader } from '@backstage/config';
import { createApplyAction } from './apply';
import { createClusterRegisterAction } from './clusterRegister';
import { createManifestsRenderAction } from './manifestsRender';
import { createNamespaceCreateAction } from './namespaceCreate';
import { createPolicyCheckAction } from './policyCheck';
import { createGitopsPublishAction } from './gitopsPublish';
import {
  GitServer,
  branchExists,
  cloneHead,
  commitCount,
  startGitServer,
} from '@kmp/plugin-kmp-node/testUtils';

jest.setTimeout(180_000);

const testbed = useTestbed({
  clusters: ['gp-dev', 'gp-prod', 'gp-spare'],
  fixtures: false,
});

const PETRA = 'user:default/petra';
const ALICE = 'user:default/alice';
const OUTSIDER = 'user:default/outsider';
const GIT_AUTH = { username: 'kmp-publisher', password: 's3cret-git-token' };

const admin = (cluster: string) => testbed().cluster(cluster).kubeConfig();
const core = (cluster: string) => admin(cluster).makeApiClient(CoreV1Api);

/** What an object looks like on the cluster, for before/after comparisons. */
async function snapshot(cluster: string, ns: string) {
  const kc: KubeConfig = admin(cluster);
  const c = kc.makeApiClient(CoreV1Api);
  const n = kc.makeApiClient(NetworkingV1Api);
  const r = kc.makeApiClient(RbacAuthorizationV1Api);
  const strip = (items: any[]) =>
    items
      .map(i => ({
        name: i.metadata.name,
        uid: i.metadata.uid,
        resourceVersion: i.metadata.resourceVersion,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  const namespace = await c.readNamespace({ name: ns });
  return {
    namespace: {
      uid: namespace.metadata!.uid,
      resourceVersion: namespace.metadata!.resourceVersion,
    },
    quotas: strip(
      (await c.listNamespacedResourceQuota({ namespace: ns })).items,
    ),
    limits: strip((await c.listNamespacedLimitRange({ namespace: ns })).items),
    netpols: strip(
      (await n.listNamespacedNetworkPolicy({ namespace: ns })).items,
    ),
    bindings: strip(
      (await r.listNamespacedRoleBinding({ namespace: ns })).items,
    ),
  };
}

async function namespaceExists(cluster: string, name: string) {
  try {
    await core(cluster).readNamespace({ name });
    return true;
  } catch (e: any) {
    if (e.code === 404) return false;
    throw e;
  }
}

describe('golden-path actions against real control planes', () => {
  let backend: GoldenPathBackend;
  let namespaceCreate: ReturnType<typeof createNamespaceCreateAction>;
  let apply: ReturnType<typeof createApplyAction>;
  let policyCheck: ReturnType<typeof createPolicyCheckAction>;
  let clusterRegister: ReturnType<typeof createClusterRegisterAction>;
  let publish: ReturnType<typeof createGitopsPublishAction>;
  let git: GitServer;
  let prodRepoUrl: string;
  const render = createManifestsRenderAction();

  beforeAll(async () => {
    backend = await startGoldenPathBackend({
      clusters: [
        {
          name: 'gp-dev',
          cluster: testbed().cluster('gp-dev'),
          environmentGroup: 'apps-nonprod',
        },
        {
          name: 'gp-prod',
          cluster: testbed().cluster('gp-prod'),
          environmentGroup: 'apps-prod',
        },
      ],
    });
    const config = readGoldenPathsConfig(new ConfigReader({}));
    namespaceCreate = createNamespaceCreateAction({ ...backend.deps, config });
    apply = createApplyAction(backend.deps);
    policyCheck = createPolicyCheckAction(backend.deps);
    clusterRegister = createClusterRegisterAction(backend.deps);

    git = await startGitServer({ auth: GIT_AUTH });
    prodRepoUrl = await git.createRepo('apps-prod');
    publish = createGitopsPublishAction({
      ...backend.deps,
      config: readGoldenPathsConfig(
        new ConfigReader({
          kmp: {
            goldenPaths: {
              gitops: {
                repositories: [
                  {
                    environmentGroup: 'apps-prod',
                    url: prodRepoUrl,
                    auth: GIT_AUTH,
                  },
                ],
              },
            },
          },
        }),
      ),
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await git?.stop();
  });

  describe('kmp:namespace:create', () => {
    const input = {
      name: 'payments-api',
      team: 'team-payments',
      costCentre: 'cc-1042',
      sizeTier: 'medium',
      clusters: ['gp-dev'],
    };

    it('creates the standard tenant namespace, as the initiator', async () => {
      const { outputs, workspacePath } = await backend.runAction(
        namespaceCreate,
        input,
      );
      expect(outputs.appliedClusters).toEqual(['gp-dev']);
      expect(outputs.gitopsClusters).toEqual([]);
      expect(
        outputs.clusters[0].objects.map((o: any) => [o.kind, o.operation]),
      ).toEqual([
        ['Namespace', 'created'],
        ['ResourceQuota', 'created'],
        ['LimitRange', 'created'],
        ['NetworkPolicy', 'created'],
        ['NetworkPolicy', 'created'],
        ['NetworkPolicy', 'created'],
        ['NetworkPolicy', 'created'],
        ['RoleBinding', 'created'],
        ['RoleBinding', 'created'],
      ]);
      // Every write went through the broker and has an audit id.
      expect(
        outputs.clusters[0].objects.every((o: any) =>
          /^[0-9a-f-]{36}$/.test(o.auditId),
        ),
      ).toBe(true);
      expect(
        (
          await fs.readdir(path.join(workspacePath, 'namespaces/gp-dev'))
        ).sort(),
      ).toContain('namespace-payments-api.yaml');
      // ... and the audit trail names the initiator, not the scaffolder.
      const audit = await backend.fetchJson(
        PETRA,
        'GET',
        `/api/kmp/audit/events?correlationId=${outputs.clusters[0].objects[0].auditId}&order=asc`,
      );
      expect(audit.body.items.at(-1)).toMatchObject({
        action: 'proxy.request',
        actor: { type: 'human', ref: PETRA },
        target: { cluster: 'gp-dev' },
        request: { method: 'PATCH' },
        outcome: 'success',
      });

      const c = core('gp-dev');
      const ns = await c.readNamespace({ name: 'payments-api' });
      expect(ns.metadata!.labels).toMatchObject({
        'kmp.backstage.io/team': 'team-payments',
        'kmp.backstage.io/environment': 'non-production',
        'kmp.backstage.io/environment-group': 'apps-nonprod',
        'kmp.backstage.io/size-tier': 'medium',
        // The 'standard' profile of the cluster enforces baseline.
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/warn': 'baseline',
      });
      expect(ns.metadata!.annotations).toMatchObject({
        'kmp.backstage.io/owner': 'group:default/team-payments',
        'kmp.backstage.io/cost-centre': 'cc-1042',
      });
      // Field ownership: the golden path's field manager wrote it.
      expect(ns.metadata!.managedFields!.map(f => f.manager)).toContain(
        'kmp-golden-path',
      );

      const quota = await c.readNamespacedResourceQuota({
        name: 'tenant-quota',
        namespace: 'payments-api',
      });
      expect(quota.spec!.hard).toMatchObject({
        'requests.cpu': '8',
        'requests.memory': '16Gi',
        'limits.cpu': '16',
        'limits.memory': '32Gi',
        pods: '60',
      });
      const limits = await c.readNamespacedLimitRange({
        name: 'tenant-limits',
        namespace: 'payments-api',
      });
      expect(limits.spec!.limits[0]).toMatchObject({
        type: 'Container',
        defaultRequest: { cpu: '100m', memory: '128Mi' },
        _default: { cpu: '500m', memory: '512Mi' },
        max: { cpu: '4', memory: '8Gi' },
      });

      const netpols = (
        await admin('gp-dev')
          .makeApiClient(NetworkingV1Api)
          .listNamespacedNetworkPolicy({ namespace: 'payments-api' })
      ).items;
      const byName = Object.fromEntries(
        netpols.map(p => [p.metadata!.name, p.spec]),
      );
      expect(Object.keys(byName).sort()).toEqual([
        'allow-dns',
        'allow-from-gateway',
        'allow-same-namespace',
        'default-deny',
      ]);
      expect(byName['default-deny']).toEqual({
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
      });
      expect(byName['allow-dns']!.egress![0]).toMatchObject({
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
        to: [
          {
            namespaceSelector: {
              matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
            },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
      });
      // client-node names the `from` field `_from`.
      expect((byName['allow-from-gateway']!.ingress![0] as any)._from).toEqual([
        {
          namespaceSelector: {
            matchLabels: { 'kubernetes.io/metadata.name': 'gateway-system' },
          },
        },
      ]);
      expect(byName['allow-same-namespace']).toMatchObject({
        ingress: [{ _from: [{ podSelector: {} }] }],
        egress: [{ to: [{ podSelector: {} }] }],
      });

      const bindings = (
        await admin('gp-dev')
          .makeApiClient(RbacAuthorizationV1Api)
          .listNamespacedRoleBinding({ namespace: 'payments-api' })
      ).items.map(b => ({
        name: b.metadata!.name,
        role: b.roleRef.name,
        subjects: b.subjects!.map(s => `${s.kind}:${s.name}`),
      }));
      expect(bindings).toEqual([
        {
          name: 'kmp-ops',
          role: 'edit',
          subjects: ['Group:kmp:persona:ops'],
        },
        {
          name: 'kmp-team',
          role: 'edit',
          subjects: ['Group:group:default/team-payments'],
        },
      ]);
    });

    it('the role bindings work: the team may now work in its namespace through the broker', async () => {
      const pods = await eventually(
        () =>
          backend.fetchJson(
            ALICE,
            'GET',
            '/api/kmp/proxy/clusters/gp-dev/api/v1/namespaces/payments-api/pods',
          ),
        r => r.status === 200,
      );
      expect(pods.status).toBe(200);
      const elsewhere = await backend.fetchJson(
        ALICE,
        'GET',
        '/api/kmp/proxy/clusters/gp-dev/api/v1/namespaces/default/pods',
      );
      expect(elsewhere.status).toBe(403);
    });

    it('converges: a second run changes nothing', async () => {
      const before = await snapshot('gp-dev', 'payments-api');
      const { outputs } = await backend.runAction(namespaceCreate, input);
      expect(outputs.clusters[0].objects.map((o: any) => o.operation)).toEqual(
        Array(9).fill('unchanged'),
      );
      expect(await snapshot('gp-dev', 'payments-api')).toEqual(before);
    });

    it('converges after drift: a changed quota is put back', async () => {
      await core('gp-dev').patchNamespacedResourceQuota({
        name: 'tenant-quota',
        namespace: 'payments-api',
        body: [{ op: 'replace', path: '/spec/hard/pods', value: '1000' }],
      });
      const { outputs } = await backend.runAction(namespaceCreate, input);
      const quotaResult = outputs.clusters[0].objects.find(
        (o: any) => o.kind === 'ResourceQuota',
      );
      expect(quotaResult.operation).toBe('configured');
      const quota = await core('gp-dev').readNamespacedResourceQuota({
        name: 'tenant-quota',
        namespace: 'payments-api',
      });
      expect(quota.spec!.hard!.pods).toBe('60');
    });

    it('dry run writes nothing', async () => {
      const { outputs } = await backend.runAction(
        namespaceCreate,
        { ...input, name: 'dry-run-ns' },
        { dryRun: true },
      );
      expect(outputs.clusters[0].objects[0]).toMatchObject({
        kind: 'Namespace',
        operation: 'created',
        dryRun: true,
      });
      expect(await namespaceExists('gp-dev', 'dry-run-ns')).toBe(false);
    });

    it('leaves production to GitOps: manifests in the workspace, nothing on the cluster', async () => {
      const { outputs, workspacePath } = await backend.runAction(
        namespaceCreate,
        {
          ...input,
          name: 'payments-prod-ns',
          clusters: undefined,
          environmentGroup: 'apps-prod',
        },
      );
      expect(outputs.gitopsClusters).toEqual(['gp-prod']);
      expect(outputs.appliedClusters).toEqual([]);
      const ns = await fs.readFile(
        path.join(
          workspacePath,
          'namespaces/gp-prod/namespace-payments-prod-ns.yaml',
        ),
        'utf8',
      );
      // The hardened profile enforces restricted; production bindings read.
      expect(ns).toContain('pod-security.kubernetes.io/enforce: restricted');
      const binding = await fs.readFile(
        path.join(
          workspacePath,
          'namespaces/gp-prod/rolebinding-kmp-team.yaml',
        ),
        'utf8',
      );
      expect(binding).toContain('name: view');
      expect(await namespaceExists('gp-prod', 'payments-prod-ns')).toBe(false);
    });

    it('acts as the initiator: cluster RBAC refuses a developer without namespace rights', async () => {
      await expect(
        backend.runAction(
          namespaceCreate,
          { ...input, name: 'alice-ns' },
          { user: ALICE },
        ),
      ).rejects.toThrow(
        /User "user:default\/alice" cannot (patch|get) resource "namespaces"/,
      );
      expect(await namespaceExists('gp-dev', 'alice-ns')).toBe(false);
    });

    it('refuses a caller KMP does not let see the cluster', async () => {
      await expect(
        backend.runAction(namespaceCreate, input, { user: OUTSIDER }),
      ).rejects.toThrow(/kmp\.cluster\.read/);
    });

    it.each([
      [
        { sizeTier: 'huge' },
        "'huge' is not a size tier of the platform (small, medium, large)",
      ],
      [{ name: 'Payments' }, 'at name: must be a DNS-1123 label'],
      [
        { environmentGroup: 'apps-nonprod' },
        'give either clusters or environmentGroup',
      ],
    ])('rejects %j with a precise message', async (patch, message) => {
      await expect(
        backend.runAction(namespaceCreate, { ...input, ...patch }),
      ).rejects.toThrow(message);
    });
  });

  describe('kmp:apply', () => {
    const app = {
      name: 'payments-api',
      namespace: 'payments-api',
      image: 'registry.kmp.example.com/payments/api:1.4.2',
      team: 'team-payments',
      owner: 'group:default/team-payments',
      costCentre: 'cc-1042',
    };

    it('applies rendered manifests as the developer, and converges on a re-run', async () => {
      const rendered = await backend.runAction(render, app, { user: ALICE });
      const first = await backend.runAction(
        apply,
        { cluster: 'gp-dev', path: 'manifests' },
        { user: ALICE, workspacePath: rendered.workspacePath },
      );
      expect(
        first.outputs.objects.map((o: any) => [o.kind, o.operation]),
      ).toEqual([
        ['Service', 'created'],
        ['Deployment', 'created'],
        ['HorizontalPodAutoscaler', 'created'],
        ['PodDisruptionBudget', 'created'],
      ]);
      const deployment = await admin('gp-dev')
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({
          name: 'payments-api',
          namespace: 'payments-api',
        });
      expect(deployment.spec!.template.spec!.containers[0].image).toBe(
        app.image,
      );

      const second = await backend.runAction(
        apply,
        { cluster: 'gp-dev', path: 'manifests' },
        { user: ALICE, workspacePath: rendered.workspacePath },
      );
      expect(second.outputs.objects.map((o: any) => o.operation)).toEqual(
        Array(4).fill('unchanged'),
      );
      const again = await admin('gp-dev')
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({
          name: 'payments-api',
          namespace: 'payments-api',
        });
      expect(again.metadata!.resourceVersion).toBe(
        deployment.metadata!.resourceVersion,
      );
    });

    it('dry run writes nothing', async () => {
      const { outputs } = await backend.runAction(
        apply,
        {
          cluster: 'gp-dev',
          namespace: 'payments-api',
          manifests: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: 'dry-run-config' },
              data: { a: '1' },
            },
          ],
        },
        { user: ALICE, dryRun: true },
      );
      expect(outputs.objects[0]).toMatchObject({
        kind: 'ConfigMap',
        namespace: 'payments-api',
        operation: 'created',
        dryRun: true,
      });
      await expect(
        core('gp-dev').readNamespacedConfigMap({
          name: 'dry-run-config',
          namespace: 'payments-api',
        }),
      ).rejects.toMatchObject({ code: 404 });
    });

    it('refuses production with the GitOps path, and writes nothing', async () => {
      await expect(
        backend.runAction(
          apply,
          {
            cluster: 'gp-prod',
            namespace: 'default',
            manifests: [
              {
                apiVersion: 'v1',
                kind: 'ConfigMap',
                metadata: { name: 'prod-config' },
                data: { a: '1' },
              },
            ],
          },
          { user: PETRA },
        ),
      ).rejects.toThrow(
        'kmp:apply refuses production cluster gp-prod (environment group apps-prod): production changes go through GitOps. Publish the manifests with kmp:gitops:publish instead.',
      );
      await expect(
        core('gp-prod').readNamespacedConfigMap({
          name: 'prod-config',
          namespace: 'default',
        }),
      ).rejects.toMatchObject({ code: 404 });
    });

    it('passes the cluster’s refusal on, naming the real user', async () => {
      await expect(
        backend.runAction(
          apply,
          {
            cluster: 'gp-dev',
            namespace: 'kube-system',
            manifests: [
              {
                apiVersion: 'v1',
                kind: 'ConfigMap',
                metadata: { name: 'sneaky' },
              },
            ],
          },
          { user: ALICE },
        ),
      ).rejects.toThrow(/user:default\/alice/);
    });
  });

  describe('kmp:policy:check', () => {
    it('passes compliant manifests', async () => {
      const rendered = await backend.runAction(render, {
        name: 'payments-api',
        namespace: 'payments-api',
        image: 'registry.kmp.example.com/payments/api:1.4.2',
        team: 'team-payments',
        owner: 'group:default/team-payments',
        costCentre: 'cc-1042',
      });
      const { outputs } = await backend.runAction(
        policyCheck,
        { cluster: 'gp-prod', path: 'manifests' },
        { workspacePath: rendered.workspacePath },
      );
      expect(outputs.allowed).toBe(true);
      expect(outputs.bundle).toMatch(/@/);
    });

    it('fails with every violation, rule id and message', async () => {
      const manifests = [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: 'bad',
            namespace: 'payments-api',
            labels: { 'kmp.backstage.io/team': 'team-payments' },
            annotations: {
              'kmp.backstage.io/owner': 'group:default/team-payments',
              'kmp.backstage.io/cost-centre': 'cc-1',
            },
          },
          spec: {
            containers: [
              {
                name: 'bad',
                image: 'docker.io/evil/miner:1.0',
                securityContext: { privileged: true },
              },
            ],
          },
        },
      ];
      let message = '';
      try {
        await backend.runAction(policyCheck, {
          cluster: 'gp-prod',
          manifests,
        });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(
        /^Policy check against .+@.+ failed with \d+ violations:/,
      );
      expect(message).toContain(
        '- [approved-registries] Pod payments-api/bad at spec.containers[*].image: images from unapproved registries: docker.io/evil/miner:1.0',
      );
      expect(message).toContain(
        '[pod-security-privileged] Pod payments-api/bad',
      );
      expect(message).toContain(
        '[require-requests-limits] Pod payments-api/bad',
      );
    });

    it('needs one target', async () => {
      await expect(
        backend.runAction(policyCheck, {
          manifests: [
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
          ],
        }),
      ).rejects.toThrow('give either cluster or environment');
    });
  });

  describe('kmp:cluster:register', () => {
    const spare = () => testbed().cluster('gp-spare');
    const registration = () => ({
      name: 'gp-spare',
      environmentGroup: 'apps-nonprod',
      region: 'eu-central-1',
      profile: 'standard',
      owner: 'group:default/platform-team',
      apiServerUrl: spare().server,
      credentials: {
        token: spare().token,
        certificateAuthority: spare().caPem,
      },
    });

    it('registers a cluster, then converges', async () => {
      const first = await backend.runAction(clusterRegister, registration());
      expect(first.outputs).toMatchObject({
        operation: 'registered',
        cluster: { name: 'gp-spare', environment: 'non-production' },
        entityRef: 'resource:default/gp-spare',
      });
      // No credential in the output or the log.
      expect(JSON.stringify(first.outputs)).not.toContain(spare().token);
      expect(first.log.join('\n')).not.toContain(spare().token);

      const { credentials: _, ...withoutCredentials } = registration();
      const second = await backend.runAction(
        clusterRegister,
        withoutCredentials,
      );
      expect(second.outputs.operation).toBe('unchanged');

      const third = await backend.runAction(clusterRegister, {
        ...withoutCredentials,
        region: 'eu-central-2',
      });
      expect(third.outputs.operation).toBe('updated');
      const record = await backend.fetchJson(
        PETRA,
        'GET',
        '/api/kmp/clusters/gp-spare',
      );
      expect(record.body.region).toBe('eu-central-2');
    });

    it('dry run registers nothing', async () => {
      const { outputs } = await backend.runAction(
        clusterRegister,
        { ...registration(), name: 'gp-dry' },
        { dryRun: true },
      );
      expect(outputs.operation).toBe('registered');
      const record = await backend.fetchJson(
        PETRA,
        'GET',
        '/api/kmp/clusters/gp-dry',
      );
      expect(record.status).toBe(404);
    });

    it('is refused for a user without the register permission', async () => {
      await expect(
        backend.runAction(
          clusterRegister,
          { ...registration(), name: 'gp-alice' },
          { user: ALICE },
        ),
      ).rejects.toThrow(/kmp\.cluster\.register/);
    });
  });

  describe('kmp:gitops:publish', () => {
    let workspacePath: string;
    const publishInput = {
      clusters: ['gp-prod'],
      namespace: 'payments-prod-ns',
      sourcePath: 'namespaces/{cluster}',
      folder: 'tenant',
    };

    beforeAll(async () => {
      ({ workspacePath } = await backend.runAction(namespaceCreate, {
        name: 'payments-prod-ns',
        team: 'team-payments',
        costCentre: 'cc-1042',
        clusters: ['gp-prod'],
      }));
    });

    it('publishes one commit authored by the initiator; clone shows the files', async () => {
      const { outputs, log } = await backend.runAction(publish, publishInput, {
        workspacePath,
      });
      expect(outputs).toMatchObject({
        repoUrl: prodRepoUrl,
        branch: 'main',
        changed: true,
      });
      const head = await cloneHead(prodRepoUrl, 'main', GIT_AUTH);
      try {
        expect(head.sha).toBe(outputs.commit);
        expect(head.authorName).toBe('Petra Platform');
        expect(head.authorEmail).toBe('petra@example.com');
        expect(head.committerName).toBe('KMP GitOps publisher');
        expect(head.subject).toBe(
          'kmp: publish payments-prod-ns/tenant to gp-prod',
        );
        expect(head.body).toContain(
          'Requested by user:default/petra through Backstage (task test-task).',
        );
        expect(head.parents).toBe(1);
        const dir = 'clusters/gp-prod/namespaces/payments-prod-ns/tenant';
        expect(head.files.filter(f => f.startsWith(dir)).sort()).toEqual(
          [
            'limitrange-tenant-limits.yaml',
            'namespace-payments-prod-ns.yaml',
            'networkpolicy-allow-dns.yaml',
            'networkpolicy-allow-from-gateway.yaml',
            'networkpolicy-allow-same-namespace.yaml',
            'networkpolicy-default-deny.yaml',
            'resourcequota-tenant-quota.yaml',
            'rolebinding-kmp-ops.yaml',
            'rolebinding-kmp-team.yaml',
          ].map(f => `${dir}/${f}`),
        );
        expect(head.files).toContain('README.md');
        expect(
          await head.read(`${dir}/namespace-payments-prod-ns.yaml`),
        ).toContain('kmp.backstage.io/team: team-payments');
      } finally {
        await head.cleanup();
      }
      // Nothing reached the production cluster.
      expect(await namespaceExists('gp-prod', 'payments-prod-ns')).toBe(false);
      // The Git credential is never logged.
      expect(log.join('\n')).not.toContain(GIT_AUTH.password);
      expect(git.requests.some(r => r.status === 401)).toBe(true);
    });

    it('converges: the same content makes no second commit', async () => {
      const before = await commitCount(git, 'apps-prod', 'main');
      const { outputs } = await backend.runAction(publish, publishInput, {
        workspacePath,
      });
      expect(outputs.changed).toBe(false);
      expect(await commitCount(git, 'apps-prod', 'main')).toBe(before);
    });

    it('removes files that are no longer part of the publication', async () => {
      await fs.rm(
        path.join(workspacePath, 'namespaces/gp-prod/rolebinding-kmp-ops.yaml'),
      );
      const { outputs } = await backend.runAction(publish, publishInput, {
        workspacePath,
      });
      expect(outputs.changed).toBe(true);
      const head = await cloneHead(prodRepoUrl, 'main', GIT_AUTH);
      try {
        expect(head.files).not.toContain(
          'clusters/gp-prod/namespaces/payments-prod-ns/tenant/rolebinding-kmp-ops.yaml',
        );
        expect(head.files).toContain(
          'clusters/gp-prod/namespaces/payments-prod-ns/tenant/rolebinding-kmp-team.yaml',
        );
      } finally {
        await head.cleanup();
      }
    });

    it('opens a review branch and leaves the base branch alone', async () => {
      await fs.writeFile(
        path.join(workspacePath, 'namespaces/gp-prod/configmap-extra.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n',
      );
      const mainBefore = await commitCount(git, 'apps-prod', 'main');
      const { outputs } = await backend.runAction(
        publish,
        { ...publishInput, review: true },
        { workspacePath, user: ALICE },
      );
      expect(outputs.branch).toBe('kmp/payments-prod-ns-tenant');
      expect(await commitCount(git, 'apps-prod', 'main')).toBe(mainBefore);
      const head = await cloneHead(
        prodRepoUrl,
        'kmp/payments-prod-ns-tenant',
        GIT_AUTH,
      );
      try {
        expect(head.authorName).toBe('Alice Developer');
        expect(head.files).toContain(
          'clusters/gp-prod/namespaces/payments-prod-ns/tenant/configmap-extra.yaml',
        );
      } finally {
        await head.cleanup();
      }
      // Re-running the review converges on the branch too.
      const again = await backend.runAction(
        publish,
        { ...publishInput, review: true },
        { workspacePath, user: ALICE },
      );
      expect(again.outputs.changed).toBe(false);
    });

    it('dry run pushes nothing', async () => {
      const { outputs } = await backend.runAction(
        publish,
        { ...publishInput, review: true, branch: 'kmp/dry-run' },
        { workspacePath, dryRun: true },
      );
      expect(outputs.commits[0]).toMatchObject({ pushed: false });
      expect(await branchExists(git, 'apps-prod', 'kmp/dry-run')).toBe(false);
    });

    it('names the missing repository of an environment group', async () => {
      await expect(
        backend.runAction(
          publish,
          { ...publishInput, clusters: ['gp-dev'] },
          { workspacePath },
        ),
      ).rejects.toThrow(
        'No GitOps repository is configured for environment group apps-nonprod (kmp.goldenPaths.gitops.repositories)',
      );
    });

    it('fails clearly with a wrong Git credential, without showing it', async () => {
      const wrong = createGitopsPublishAction({
        ...backend.deps,
        config: readGoldenPathsConfig(
          new ConfigReader({
            kmp: {
              goldenPaths: {
                gitops: {
                  repositories: [
                    {
                      environmentGroup: 'apps-prod',
                      url: prodRepoUrl,
                      auth: { username: 'kmp-publisher', password: 'wrong-pw' },
                    },
                  ],
                },
              },
            },
          }),
        ),
      });
      const error = await backend
        .runAction(wrong, publishInput, { workspacePath })
        .catch(e => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain(
        `Could not clone GitOps repository ${prodRepoUrl}`,
      );
      expect((error as Error).message).not.toContain('wrong-pw');
    });
  });
});
