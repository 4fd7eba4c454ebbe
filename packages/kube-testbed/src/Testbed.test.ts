import fs from 'node:fs';
import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  AuthenticationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  V1Deployment,
} from '@kubernetes/client-node';
import { useTestbed } from './jest';
import { httpsRequest } from './net';
import { liveProcessCount } from './processes';

/** Retries fn until it stops throwing (RBAC/admission caches are eventually consistent). */
async function eventually<T>(
  fn: () => Promise<T>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise(r => setTimeout(r, 200));
    }
  }
}

/** The HTTP status of a rejected client-node call. */
async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (typeof code !== 'number') throw e;
    return code;
  }
}

function deployment(name: string, limits: boolean): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'registry.k8s.io/pause:3.10',
              resources: limits
                ? {
                    requests: { cpu: '10m', memory: '16Mi' },
                    limits: { cpu: '100m', memory: '64Mi' },
                  }
                : undefined,
            },
          ],
        },
      },
    },
  };
}

jest.setTimeout(60_000);

describe('Testbed', () => {
  const testbed = useTestbed({ clusters: ['alpha', 'beta'] });

  it('starts two clusters with their own CA, credentials and version', async () => {
    const [alpha, beta] = testbed().clusters;
    expect(alpha.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(alpha.server).not.toBe(beta.server);
    expect(alpha.caPem).not.toBe(beta.caPem);
    expect(alpha.token).not.toBe(beta.token);

    // the admin client certificate and the static token both work
    for (const auth of ['cert', 'token'] as const) {
      const core = alpha.kubeConfig({ auth }).makeApiClient(CoreV1Api);
      const ns = await core.listNamespace();
      expect(ns.items.map(n => n.metadata?.name)).toContain('kube-system');
    }
    const version = await httpsRequest(`${alpha.server}/version`, {
      ca: alpha.caPem,
      token: alpha.token,
    });
    expect(version.json().gitVersion).toMatch(/^v1\.\d+\.\d+/);

    // beta's server certificate is not trusted with alpha's CA
    await expect(
      httpsRequest(`${beta.server}/readyz`, { ca: alpha.caPem }),
    ).rejects.toThrow();

    // controllers run: the default ServiceAccount and kube-root-ca.crt appear
    const core = alpha.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'controllers' } } });
    await eventually(() =>
      core.readNamespacedServiceAccount({
        name: 'default',
        namespace: 'controllers',
      }),
    );
    await eventually(() =>
      core.readNamespacedConfigMap({
        name: 'kube-root-ca.crt',
        namespace: 'controllers',
      }),
    );
  });

  it('mints a ServiceAccount token with TokenRequest and creates a namespace with it', async () => {
    const alpha = testbed().cluster('alpha');
    const kc = alpha.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);

    await core.createNamespace({ body: { metadata: { name: 'sa-test' } } });
    await core.createNamespacedServiceAccount({
      namespace: 'sa-test',
      body: { metadata: { name: 'deployer' } },
    });
    const tr = await core.createNamespacedServiceAccountToken({
      name: 'deployer',
      namespace: 'sa-test',
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const token = tr.status?.token;
    expect(token).toMatch(/^ey/); // a JWT

    const saKc = new KubeConfig();
    saKc.loadFromOptions({
      clusters: [
        {
          name: 'alpha',
          server: alpha.server,
          caData: Buffer.from(alpha.caPem).toString('base64'),
        },
      ],
      users: [{ name: 'deployer', token }],
      contexts: [{ name: 'deployer', cluster: 'alpha', user: 'deployer' }],
      currentContext: 'deployer',
    });

    // the token authenticates as the ServiceAccount
    const review = await saKc
      .makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(
      'system:serviceaccount:sa-test:deployer',
    );

    const saCore = saKc.makeApiClient(CoreV1Api);
    const create = () =>
      saCore.createNamespace({
        body: { metadata: { name: 'made-by-deployer' } },
      });
    expect(await statusOf(create())).toBe(403);

    await rbac.createClusterRole({
      body: {
        metadata: { name: 'namespace-creator' },
        rules: [
          {
            apiGroups: [''],
            resources: ['namespaces'],
            verbs: ['create', 'get', 'list'],
          },
        ],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'deployer-namespace-creator' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'namespace-creator',
        },
        subjects: [
          { kind: 'ServiceAccount', name: 'deployer', namespace: 'sa-test' },
        ],
      },
    });
    const ns = await eventually(create);
    expect(ns.metadata?.name).toBe('made-by-deployer');
  });

  it('enforces RBAC for impersonated users', async () => {
    const alpha = testbed().cluster('alpha');
    const admin = alpha.kubeConfig();
    const core = admin.makeApiClient(CoreV1Api);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespace({ body: { metadata: { name: 'rbac-test' } } });
    await core.createNamespacedConfigMap({
      namespace: 'rbac-test',
      body: { metadata: { name: 'settings' }, data: { colour: 'blue' } },
    });

    // Impersonate-User header, sent with the admin credential
    const jane = alpha
      .kubeConfig({ impersonate: 'jane@example.com' })
      .makeApiClient(CoreV1Api);
    const readSettings = () =>
      jane.readNamespacedConfigMap({
        name: 'settings',
        namespace: 'rbac-test',
      });
    expect(await statusOf(readSettings())).toBe(403);

    // "view" is an aggregated ClusterRole: it only has rules because the
    // clusterrole-aggregation controller runs next to the apiserver
    await rbac.createNamespacedRoleBinding({
      namespace: 'rbac-test',
      body: {
        metadata: { name: 'jane-view' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'view',
        },
        subjects: [
          {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'User',
            name: 'jane@example.com',
          },
        ],
      },
    });
    const cm = await eventually(readSettings);
    expect(cm.data?.colour).toBe('blue');

    // still denied elsewhere, and read-only
    expect(
      await statusOf(
        jane.listNamespacedConfigMap({ namespace: 'kube-system' }),
      ),
    ).toBe(403);
    expect(
      await statusOf(
        jane.createNamespacedConfigMap({
          namespace: 'rbac-test',
          body: { metadata: { name: 'nope' } },
        }),
      ),
    ).toBe(403);
  });

  it('enforces a ValidatingAdmissionPolicy', async () => {
    const alpha = testbed().cluster('alpha');
    const kc = alpha.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const admission = kc.makeApiClient(AdmissionregistrationV1Api);

    await admission.createValidatingAdmissionPolicy({
      body: {
        metadata: { name: 'require-limits' },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: ['apps'],
                apiVersions: ['v1'],
                operations: ['CREATE', 'UPDATE'],
                resources: ['deployments'],
              },
            ],
          },
          validations: [
            {
              expression:
                "object.spec.template.spec.containers.all(c, has(c.resources) && has(c.resources.limits) && 'cpu' in c.resources.limits && 'memory' in c.resources.limits)",
              message: 'all containers must set cpu and memory limits',
            },
          ],
        },
      },
    });
    await admission.createValidatingAdmissionPolicyBinding({
      body: {
        metadata: { name: 'require-limits' },
        spec: {
          policyName: 'require-limits',
          validationActions: ['Deny'],
          matchResources: {
            namespaceSelector: { matchLabels: { 'vap-test': 'true' } },
          },
        },
      },
    });
    await core.createNamespace({
      body: { metadata: { name: 'vap-test', labels: { 'vap-test': 'true' } } },
    });

    // the policy becomes active asynchronously: probe with dry runs
    await eventually(async () => {
      const code = await statusOf(
        apps.createNamespacedDeployment({
          namespace: 'vap-test',
          body: deployment('probe', false),
          dryRun: 'All',
        }),
      );
      if (code !== 422) throw new Error(`expected 422, got ${code}`);
    });

    const rejected = await apps
      .createNamespacedDeployment({
        namespace: 'vap-test',
        body: deployment('no-limits', false),
      })
      .then(
        () => undefined,
        e => e,
      );
    expect(rejected?.code).toBe(422);
    expect(String(rejected?.message)).toContain(
      'all containers must set cpu and memory limits',
    );

    const ok = await apps.createNamespacedDeployment({
      namespace: 'vap-test',
      body: deployment('with-limits', true),
    });
    expect(ok.metadata?.uid).toBeTruthy();

    // namespaces without the label are not affected
    await core.createNamespace({ body: { metadata: { name: 'vap-free' } } });
    await apps.createNamespacedDeployment({
      namespace: 'vap-free',
      body: deployment('no-limits', false),
    });
  });

  it('keeps the clusters isolated', async () => {
    const alpha = testbed()
      .cluster('alpha')
      .kubeConfig()
      .makeApiClient(CoreV1Api);
    const beta = testbed()
      .cluster('beta')
      .kubeConfig()
      .makeApiClient(CoreV1Api);
    await alpha.createNamespace({
      body: { metadata: { name: 'only-in-alpha' } },
    });
    expect(await statusOf(alpha.readNamespace({ name: 'only-in-alpha' }))).toBe(
      200,
    );
    expect(await statusOf(beta.readNamespace({ name: 'only-in-alpha' }))).toBe(
      404,
    );
    const betaNames = (await beta.listNamespace()).items.map(
      n => n.metadata?.name,
    );
    expect(betaNames).not.toContain('sa-test');
    expect(betaNames).toContain('default');
  });

  it('deletes namespaces (namespace controller and garbage collector run)', async () => {
    const core = testbed()
      .cluster('alpha')
      .kubeConfig()
      .makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    const owner = await core.createNamespacedConfigMap({
      namespace: 'doomed',
      body: { metadata: { name: 'owner' } },
    });
    await core.createNamespacedConfigMap({
      namespace: 'doomed',
      body: {
        metadata: {
          name: 'dependent',
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              name: 'owner',
              uid: owner.metadata!.uid!,
            },
          ],
        },
      },
    });
    await core.deleteNamespacedConfigMap({
      name: 'owner',
      namespace: 'doomed',
    });
    await eventually(async () => {
      const code = await statusOf(
        core.readNamespacedConfigMap({
          name: 'dependent',
          namespace: 'doomed',
        }),
      );
      if (code !== 404) throw new Error('dependent still there');
    }, 30_000);

    await core.deleteNamespace({ name: 'doomed' });
    await eventually(async () => {
      const code = await statusOf(core.readNamespace({ name: 'doomed' }));
      if (code !== 404) throw new Error('namespace still there');
    }, 30_000);
    expect(await statusOf(core.readNamespace({ name: 'doomed' }))).toBe(404);
  });

  it('restarts a cluster on the same port with the same data, and makes it unreachable', async () => {
    const beta = testbed().cluster('beta');
    const core = () => beta.kubeConfig().makeApiClient(CoreV1Api);
    await core().createNamespace({
      body: { metadata: { name: 'survives-restart' } },
    });
    const server = beta.server;
    const pid = beta.pid;

    await beta.stop();
    expect(beta.pid).toBeUndefined();
    await expect(
      httpsRequest(`${server}/readyz`, { ca: beta.caPem }),
    ).rejects.toThrow(/ECONNREFUSED/);
    await beta.start();
    expect(beta.server).toBe(server);
    expect(beta.pid).not.toBe(pid);
    expect(
      await statusOf(core().readNamespace({ name: 'survives-restart' })),
    ).toBe(200);

    // 'hang': the process is stopped, connections hang until the timeout
    await beta.makeUnreachable();
    // Every thread is stopped by the time it returns, not merely signalled.
    const tasks = fs.readdirSync(`/proc/${beta.pid}/task`);
    expect(
      tasks.map(
        tid =>
          /^State:\s+(\S)/m.exec(
            fs.readFileSync(`/proc/${beta.pid}/task/${tid}/status`, 'utf8'),
          )?.[1],
      ),
    ).toEqual(tasks.map(() => 'T'));
    await expect(
      httpsRequest(`${server}/readyz`, { ca: beta.caPem, timeoutMs: 1500 }),
    ).rejects.toThrow(/timeout/);
    await beta.restore();
    expect(
      (await httpsRequest(`${server}/readyz`, { ca: beta.caPem })).status,
    ).toBe(200);

    // 'down': the process is gone, connections are refused
    await beta.makeUnreachable('down');
    await expect(
      httpsRequest(`${server}/readyz`, { ca: beta.caPem }),
    ).rejects.toThrow(/ECONNREFUSED/);
    await beta.restore();
    expect(
      await statusOf(core().readNamespace({ name: 'survives-restart' })),
    ).toBe(200);
  });

  it('tracks its server processes', () => {
    // etcd + 2 apiservers
    expect(liveProcessCount()).toBe(3);
  });
});
