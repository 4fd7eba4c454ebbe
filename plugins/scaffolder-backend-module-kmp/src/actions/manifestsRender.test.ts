import { mockServices } from '@backstage/backend-test-utils';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { createManifestsRenderAction } from './manifestsRender';

async function run(input: Record<string, unknown>) {
  const workspacePath = await fs.mkdtemp(path.join(os.tmpdir(), 'kmp-render-'));
  const outputs: Record<string, unknown> = {};
  const action = createManifestsRenderAction();
  await action.handler({
    input,
    workspacePath,
    logger: mockServices.logger.mock(),
    output: (name: string, value: unknown) => {
      outputs[name] = value;
    },
    createTemporaryDirectory: async () =>
      fs.mkdtemp(path.join(os.tmpdir(), 'kmp-tmp-')),
    checkpoint: async (opts: { fn: () => Promise<unknown> }) => opts.fn(),
    getInitiatorCredentials: async () => ({
      $$type: '@backstage/BackstageCredentials',
      principal: { type: 'user', userEntityRef: 'user:default/alice' },
    }),
  } as any);
  return { workspacePath, outputs };
}

const baseInput = {
  name: 'payments-api',
  namespace: 'team-payments',
  image: 'registry.example.com/payments/api:1.4.2',
  team: 'payments',
  owner: 'group:default/payments',
  costCentre: 'cc-1042',
};

describe('kmp:manifests:render', () => {
  it('writes one file per object plus a kustomization, applying defaults', async () => {
    const { workspacePath, outputs } = await run({
      ...baseInput,
      route: {
        gateway: { name: 'shared', namespace: 'gateway-system' },
        hostnames: ['pay.example.com'],
      },
    });
    expect(outputs.files).toEqual([
      'manifests/deployment.yaml',
      'manifests/service.yaml',
      'manifests/httproute.yaml',
      'manifests/poddisruptionbudget.yaml',
      'manifests/horizontalpodautoscaler.yaml',
      'manifests/kustomization.yaml',
    ]);

    const deployment = parse(
      await fs.readFile(
        path.join(workspacePath, 'manifests/deployment.yaml'),
        'utf8',
      ),
    );
    expect(deployment.metadata.labels['backstage.io/kubernetes-id']).toBe(
      'payments-api',
    );
    expect(deployment.spec.replicas).toBe(2);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(
      deployment.spec.template.spec.securityContext.seccompProfile.type,
    ).toBe('RuntimeDefault');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');

    const route = parse(
      await fs.readFile(
        path.join(workspacePath, 'manifests/httproute.yaml'),
        'utf8',
      ),
    );
    expect(route.spec.parentRefs[0]).toMatchObject({
      name: 'shared',
      namespace: 'gateway-system',
    });
    expect(route.spec.hostnames).toEqual(['pay.example.com']);

    const kustomization = parse(
      await fs.readFile(
        path.join(workspacePath, 'manifests/kustomization.yaml'),
        'utf8',
      ),
    );
    expect(kustomization.namespace).toBe('team-payments');
    expect(kustomization.resources).toHaveLength(5);
  });

  it('renders identical output on a second run (idempotent)', async () => {
    const first = await run(baseInput);
    const second = await run(baseInput);
    expect(second.outputs.manifests).toEqual(first.outputs.manifests);
  });

  it('omits the HTTPRoute without a gateway and sorts env vars', async () => {
    const { outputs } = await run({
      ...baseInput,
      env: { ZED: '1', ALPHA: '2' },
    });
    const manifests = outputs.manifests as any[];
    expect(manifests.map(m => m.kind)).toEqual([
      'Deployment',
      'Service',
      'PodDisruptionBudget',
      'HorizontalPodAutoscaler',
    ]);
    expect(manifests[0].spec.template.spec.containers[0].env).toEqual([
      { name: 'ALPHA', value: '2' },
      { name: 'ZED', value: '1' },
    ]);
  });

  it.each([
    [{ name: 'Payments_API' }, 'at name: must be a DNS-1123 label'],
    [
      {
        resources: {
          requests: { cpu: 'lots', memory: '1Gi' },
          limits: { cpu: '1', memory: '1Gi' },
        },
      },
      'at resources.requests.cpu: must be a Kubernetes quantity',
    ],
    [{ replicas: 0 }, 'at replicas: '],
    [{ unknownField: true }, "Unrecognized key(s) in object: 'unknownField'"],
    [
      { autoscaling: { minReplicas: 5, maxReplicas: 3 } },
      'autoscaling.minReplicas (5) must not exceed autoscaling.maxReplicas (3)',
    ],
  ])('rejects %j with a precise message', async (patch, message) => {
    await expect(run({ ...baseInput, ...patch })).rejects.toThrow(message);
  });

  it('refuses an output path outside the workspace', async () => {
    await expect(
      run({ ...baseInput, outputPath: '../../etc' }),
    ).rejects.toThrow(/outside|not allowed/i);
  });
});
