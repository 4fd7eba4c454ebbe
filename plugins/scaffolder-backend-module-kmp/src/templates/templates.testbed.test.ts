import { mockCredentials } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import kubernetesBackend from '@backstage/plugin-kubernetes-backend';
import { useTestbed } from '@kmp/kube-testbed';
// The stock Kubernetes plugin reaches the clusters through the broker with
// KMP's auth strategy, as in a deployment.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import kubernetesModuleKmp from '@kmp/plugin-kubernetes-backend-module-kmp';
import {
  AppsV1Api,
  CoreV1Api,
  NetworkingV1Api,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import path from 'node:path';
import { parse } from 'yaml';
import {
  GitServer,
  cloneHead,
  commitCount,
  startGitServer,
} from '@kmp/plugin-kmp-node/testUtils';
import {
  GoldenPathBackend,
  READ_WORKSPACE_FILE_ACTION,
  eventually,
  loadTemplate,
  startGoldenPathBackend,
} from '../__testUtils__/goldenPathBackend';

jest.setTimeout(240_000);

const testbed = useTestbed({
  clusters: ['tp-dev', 'tp-prod', 'tp-spare'],
  fixtures: false,
});

const PETRA = 'user:default/petra';
const ALICE = 'user:default/alice';
const GIT_AUTH = { username: 'kmp-publisher', password: 'template-git-token' };

const kube = (cluster: string) => testbed().cluster(cluster).kubeConfig();

/** Names, uids and resource versions of a tenant namespace's objects. */
async function tenantObjects(cluster: string, ns: string) {
  const kc = kube(cluster);
  const core = kc.makeApiClient(CoreV1Api);
  const ids = (items: any[]) =>
    items
      .map(
        i =>
          `${i.metadata.name}:${i.metadata.uid}:${i.metadata.resourceVersion}`,
      )
      .sort();
  const namespace = await core.readNamespace({ name: ns });
  return {
    namespace: ids([namespace]),
    quotas: ids(
      (await core.listNamespacedResourceQuota({ namespace: ns })).items,
    ),
    limitRanges: ids(
      (await core.listNamespacedLimitRange({ namespace: ns })).items,
    ),
    networkPolicies: ids(
      (
        await kc
          .makeApiClient(NetworkingV1Api)
          .listNamespacedNetworkPolicy({ namespace: ns })
      ).items,
    ),
    roleBindings: ids(
      (
        await kc
          .makeApiClient(RbacAuthorizationV1Api)
          .listNamespacedRoleBinding({ namespace: ns })
      ).items,
    ),
  };
}

async function deploymentsNamed(cluster: string, name: string) {
  const list = await kube(cluster)
    .makeApiClient(AppsV1Api)
    .listDeploymentForAllNamespaces();
  return list.items.filter(d => d.metadata!.name === name);
}

async function namespaceExists(cluster: string, name: string) {
  try {
    await kube(cluster).makeApiClient(CoreV1Api).readNamespace({ name });
    return true;
  } catch (e: any) {
    if (e.code === 404) return false;
    throw e;
  }
}

describe('golden-path templates through the scaffolder task API', () => {
  let backend: GoldenPathBackend;
  let git: GitServer;
  let repoUrl: string;

  beforeAll(async () => {
    git = await startGitServer({ auth: GIT_AUTH });
    repoUrl = await git.createRepo('apps-prod');
    const templates = await Promise.all(
      [
        'tenant-namespace/template.yaml',
        'golden-path-service/template.yaml',
        'register-cluster/template.yaml',
      ].map(async file => {
        const entity = await loadTemplate(file);
        // Where the catalog read it from: fetch:template resolves ./skeleton
        // against it.
        entity.metadata.annotations = {
          'backstage.io/managed-by-location': `file:${path.resolve(
            __dirname,
            '../../../../templates',
            file,
          )}`,
        };
        return entity;
      }),
    );
    // A last, test-only step hands the rendered catalog-info.yaml back: the
    // task's workspace is removed when the task ends.
    const service = templates[1].spec as any;
    service.steps.push({
      id: 'catalogInfo',
      name: 'Read the rendered catalog-info.yaml (test only)',
      action: READ_WORKSPACE_FILE_ACTION,
      input: { path: 'catalog-info.yaml' },
    });
    service.output.catalogInfo = '${{ steps.catalogInfo.output.content }}';
    backend = await startGoldenPathBackend({
      clusters: [
        {
          name: 'tp-dev',
          cluster: testbed().cluster('tp-dev'),
          environmentGroup: 'apps-nonprod',
        },
        {
          name: 'tp-prod',
          cluster: testbed().cluster('tp-prod'),
          environmentGroup: 'apps-prod',
        },
      ],
      templates,
      goldenPaths: {
        gitops: {
          repositories: [
            { environmentGroup: 'apps-prod', url: repoUrl, auth: GIT_AUTH },
          ],
        },
      },
      features: [kubernetesBackend, kubernetesModuleKmp],
      config: {
        kubernetes: {
          serviceLocatorMethod: { type: 'multiTenant' },
          // The broker is on loopback in the test.
          clusterLocatorMethods: [
            { type: 'catalog', dangerouslyAllowClusterUrls: ['localhost'] },
          ],
        },
      },
    });
    // The registered clusters reach the catalog as KMP's catalog module
    // publishes them: pointing the stock Kubernetes plugin at the broker.
    await backend.catalog.publishClusters();
  });

  afterAll(async () => {
    await backend?.stop();
    await git?.stop();
  });

  describe('Tenant namespace', () => {
    const values = {
      name: 'team-payments-web',
      owner: 'group:default/team-payments',
      costCentre: 'cc-1042',
      sizeTier: 'small',
      target: { environmentGroup: 'apps-nonprod' },
    };

    it('run twice against a cluster, yields the same objects', async () => {
      const first = await backend.runTask(
        'template:default/kmp-tenant-namespace',
        values,
        PETRA,
      );
      expect(first.error).toBeUndefined();
      expect(first.status).toBe('completed');
      const before = await tenantObjects('tp-dev', 'team-payments-web');
      expect(before.quotas).toHaveLength(1);
      expect(before.limitRanges).toHaveLength(1);
      expect(before.networkPolicies).toHaveLength(4);
      expect(before.roleBindings).toHaveLength(2);
      expect(first.output?.text?.[0].content).toContain(
        'Applied through the broker on: tp-dev',
      );

      const second = await backend.runTask(
        'template:default/kmp-tenant-namespace',
        values,
        PETRA,
      );
      expect(second.status).toBe('completed');
      expect(await tenantObjects('tp-dev', 'team-payments-web')).toEqual(
        before,
      );

      const ns = await kube('tp-dev')
        .makeApiClient(CoreV1Api)
        .readNamespace({ name: 'team-payments-web' });
      expect(ns.metadata!.labels!['kmp.backstage.io/team']).toBe(
        'team-payments',
      );
      const quota = await kube('tp-dev')
        .makeApiClient(CoreV1Api)
        .readNamespacedResourceQuota({
          name: 'tenant-quota',
          namespace: 'team-payments-web',
        });
      expect(quota.spec!.hard!['requests.cpu']).toBe('2');
    });

    it('in production: commits to the GitOps repository and writes nothing to the cluster', async () => {
      const before = await commitCount(git, 'apps-prod', 'main');
      const run = await backend.runTask(
        'template:default/kmp-tenant-namespace',
        { ...values, target: { cluster: 'tp-prod' } },
        PETRA,
      );
      expect(run.error).toBeUndefined();
      expect(run.status).toBe('completed');
      expect(await commitCount(git, 'apps-prod', 'main')).toBe(before + 1);
      const head = await cloneHead(repoUrl, 'main', GIT_AUTH);
      try {
        expect(head.authorName).toBe('Petra Platform');
        expect(head.files).toContain(
          'clusters/tp-prod/namespaces/team-payments-web/tenant/resourcequota-tenant-quota.yaml',
        );
        expect(head.body).toContain(
          'with template:default/kmp-tenant-namespace',
        );
      } finally {
        await head.cleanup();
      }
      expect(await namespaceExists('tp-prod', 'team-payments-web')).toBe(false);
    });
  });

  describe('Dry run (the template editor)', () => {
    it('runs the tenant-namespace template without writing anything', async () => {
      const template = await loadTemplate('tenant-namespace/template.yaml');
      const response = await backend.fetchJson(
        PETRA,
        'POST',
        '/api/scaffolder/v2/dry-run',
        {
          template,
          values: {
            name: 'dry-run-tenant',
            owner: 'group:default/team-payments',
            costCentre: 'cc-1042',
            sizeTier: 'large',
            target: { cluster: 'tp-dev' },
          },
          directoryContents: [],
        },
      );
      expect(response.status).toBe(200);
      const messages = (response.body.log as Array<{ body: any }>).map(
        l => l.body.message as string,
      );
      expect(messages.join('\n')).toContain(
        '[dry run] Namespace dry-run-tenant on tp-dev: 9 created',
      );
      expect(
        response.body.directoryContents.map((f: any) => f.path).sort(),
      ).toContain('namespaces/tp-dev/resourcequota-tenant-quota.yaml');
      expect(await namespaceExists('tp-dev', 'dry-run-tenant')).toBe(false);
    });
  });

  describe('Golden-path service', () => {
    const values = {
      name: 'checkout',
      description: 'Checkout API',
      owner: 'group:default/team-payments',
      namespace: 'team-payments-web',
      image: 'registry.kmp.example.com/payments/checkout:1.0.0',
      costCentre: 'cc-1042',
      replicas: 2,
    };

    it('non-production: renders, checks and applies through the broker as the user', async () => {
      // The tenant namespace's RoleBinding lets the team in, once the API
      // server's authorizer has seen it.
      await eventually(
        () =>
          backend.fetchJson(
            ALICE,
            'GET',
            '/api/kmp/proxy/clusters/tp-dev/api/v1/namespaces/team-payments-web/pods',
          ),
        r => r.status === 200,
      );
      const run = await backend.runTask(
        'template:default/kmp-golden-path-service',
        { ...values, target: { cluster: 'tp-dev' } },
        ALICE,
      );
      expect(run.error).toBeUndefined();
      expect(run.status).toBe('completed');
      const [deployment] = await deploymentsNamed('tp-dev', 'checkout');
      expect(deployment.metadata!.namespace).toBe('team-payments-web');
      expect(deployment.spec!.template.spec!.containers[0].image).toBe(
        values.image,
      );
      expect(deployment.metadata!.managedFields!.map(f => f.manager)).toContain(
        'kmp-golden-path',
      );
      expect(run.output?.text?.[0].content).toContain(
        'Applied to tp-dev through the KMP broker.',
      );

      // The new component, as the catalog ingests it from the rendered
      // catalog-info.yaml: the stock Kubernetes plugin shows its workload,
      // read from the cluster through the broker as alice.
      const rendered = parse(run.output?.catalogInfo) as Entity;
      expect(rendered.metadata.annotations).toMatchObject({
        'backstage.io/kubernetes-id': 'checkout',
        'backstage.io/kubernetes-namespace': 'team-payments-web',
      });
      backend.catalog.add([rendered]);
      const component = await backend.catalog.service.getEntityByRef(
        'component:default/checkout',
        { credentials: mockCredentials.user(ALICE) },
      );
      expect(component?.spec?.owner).toBe('group:default/team-payments');
      const view = await backend.fetchJson(
        ALICE,
        'POST',
        '/api/kubernetes/services/checkout',
        { entity: component, auth: { kmp: mockCredentials.user.token(ALICE) } },
      );
      expect(view.status).toBe(200);
      const items = view.body.items as any[];
      const workloads = items.flatMap(item =>
        (
          item.resources.find((r: any) => r.type === 'deployments')
            ?.resources ?? []
        ).map((d: any) => ({
          cluster: item.cluster.name,
          name: d.metadata.name,
          namespace: d.metadata.namespace,
          replicas: d.spec.replicas,
        })),
      );
      expect(workloads).toEqual([
        {
          cluster: 'tp-dev',
          name: 'checkout',
          namespace: 'team-payments-web',
          replicas: values.replicas,
        },
      ]);
      const dev = items.find(item => item.cluster.name === 'tp-dev');
      expect(
        (dev.errors as any[]).filter(e =>
          e.resourcePath?.includes('/deployments'),
        ),
      ).toEqual([]);
    });

    it('production: produces a Git commit and no cluster write', async () => {
      const before = await commitCount(git, 'apps-prod', 'main');
      const run = await backend.runTask(
        'template:default/kmp-golden-path-service',
        { ...values, target: { cluster: 'tp-prod' } },
        ALICE,
      );
      expect(run.error).toBeUndefined();
      expect(run.status).toBe('completed');
      expect(await commitCount(git, 'apps-prod', 'main')).toBe(before + 1);
      const head = await cloneHead(repoUrl, 'main', GIT_AUTH);
      try {
        expect(run.output?.text?.[0].content).toContain(
          `Committed ${head.sha} to main of ${repoUrl}`,
        );
        expect(head.authorName).toBe('Alice Developer');
        expect(head.authorEmail).toBe('alice@example.com');
        expect(head.subject).toBe(
          'kmp: publish team-payments-web/apps/checkout to tp-prod',
        );
        const dir =
          'clusters/tp-prod/namespaces/team-payments-web/apps/checkout';
        expect(head.files.filter(f => f.startsWith(dir)).sort()).toEqual(
          [
            'deployment.yaml',
            'horizontalpodautoscaler.yaml',
            'kustomization.yaml',
            'poddisruptionbudget.yaml',
            'service.yaml',
          ].map(f => `${dir}/${f}`),
        );
        expect(await head.read(`${dir}/deployment.yaml`)).toContain(
          values.image,
        );
      } finally {
        await head.cleanup();
      }
      expect(await deploymentsNamed('tp-prod', 'checkout')).toEqual([]);
    });

    it('a manifest that violates policy stops the template with the rule’s message', async () => {
      const before = await commitCount(git, 'apps-prod', 'main');
      const run = await backend.runTask(
        'template:default/kmp-golden-path-service',
        {
          ...values,
          name: 'miner',
          image: 'docker.io/evil/miner:1.0',
          target: { cluster: 'tp-prod' },
        },
        ALICE,
      );
      expect(run.status).toBe('failed');
      expect(run.error).toContain(
        '[approved-registries] Deployment team-payments-web/miner at spec.template.spec.containers[*].image: images from unapproved registries: docker.io/evil/miner:1.0',
      );
      expect(await commitCount(git, 'apps-prod', 'main')).toBe(before);
      expect(await deploymentsNamed('tp-prod', 'miner')).toEqual([]);
    });
  });

  describe('Register a cluster', () => {
    it('registers the cluster as the platform engineer; the token stays secret', async () => {
      const spare = testbed().cluster('tp-spare');
      const run = await backend.runTask(
        'template:default/kmp-register-cluster',
        {
          name: 'tp-spare',
          environmentGroup: { environmentGroup: 'apps-nonprod' },
          region: 'eu-west-3',
          profile: 'standard',
          owner: 'group:default/platform-team',
          apiServerUrl: spare.server,
          certificateAuthority: spare.caPem,
        },
        PETRA,
        { token: spare.token },
      );
      expect(run.error).toBeUndefined();
      expect(run.status).toBe('completed');
      const record = await backend.fetchJson(
        PETRA,
        'GET',
        '/api/kmp/clusters/tp-spare',
      );
      expect(record.body).toMatchObject({
        environmentGroup: 'apps-nonprod',
        region: 'eu-west-3',
      });
      expect(run.log.join('\n')).not.toContain(spare.token);
      expect(JSON.stringify(run.output)).not.toContain(spare.token);
    });

    it('is refused for a developer', async () => {
      const spare = testbed().cluster('tp-spare');
      const run = await backend.runTask(
        'template:default/kmp-register-cluster',
        {
          name: 'tp-alice',
          environmentGroup: { environmentGroup: 'apps-nonprod' },
          region: 'eu-west-3',
          profile: 'standard',
          owner: 'group:default/team-payments',
          apiServerUrl: spare.server,
          certificateAuthority: spare.caPem,
        },
        ALICE,
        { token: spare.token },
      );
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(/kmp\.cluster\.register/);
    });
  });
});
