import { KMP_ANNOTATIONS } from '@kmp/plugin-kmp-common';

/**
 * Parameters of the golden-path application.
 *
 * @public
 */
export interface GoldenPathAppParams {
  name: string;
  namespace: string;
  image: string;
  team: string;
  owner: string;
  costCentre: string;
  port: number;
  replicas: number;
  resources: {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
  };
  probes: { livenessPath: string; readinessPath: string };
  env: Record<string, string>;
  autoscaling: {
    minReplicas: number;
    maxReplicas: number;
    targetCPUUtilization: number;
  };
  route?: {
    gateway: { name: string; namespace: string };
    hostnames: string[];
    pathPrefix: string;
  };
}

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
};

/**
 * Renders the platform's standard application: a Deployment with requests,
 * limits, probes and a restricted security context; a Service; an HTTPRoute
 * bound to the cluster's Gateway; a PodDisruptionBudget; and a
 * HorizontalPodAutoscaler. Output is deterministic for the same parameters,
 * so re-running a template converges.
 *
 * @public
 */
export function renderGoldenPathApp(params: GoldenPathAppParams): Manifest[] {
  const { name, namespace } = params;
  const selector = { 'app.kubernetes.io/name': name };
  const labels = {
    ...selector,
    'app.kubernetes.io/managed-by': 'kmp',
    'backstage.io/kubernetes-id': name,
    [KMP_ANNOTATIONS.team]: params.team,
  };
  const annotations = {
    [KMP_ANNOTATIONS.owner]: params.owner,
    [KMP_ANNOTATIONS.costCentre]: params.costCentre,
  };
  const metadata = { name, namespace, labels, annotations };
  const servicePort = 80;

  const deployment: Manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: {
      replicas: params.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 },
      },
      template: {
        metadata: { labels, annotations },
        spec: {
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name,
              image: params.image,
              ports: [
                { name: 'http', containerPort: params.port, protocol: 'TCP' },
              ],
              env: Object.entries(params.env)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([key, value]) => ({ name: key, value })),
              resources: params.resources,
              livenessProbe: {
                httpGet: { path: params.probes.livenessPath, port: 'http' },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              readinessProbe: {
                httpGet: { path: params.probes.readinessPath, port: 'http' },
                periodSeconds: 5,
                failureThreshold: 3,
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                privileged: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
        },
      },
    },
  };

  const service: Manifest = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [
        {
          name: 'http',
          port: servicePort,
          targetPort: 'http',
          protocol: 'TCP',
        },
      ],
    },
  };

  const pdb: Manifest = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata,
    spec:
      params.replicas > 1
        ? { maxUnavailable: 1, selector: { matchLabels: selector } }
        : { minAvailable: 0, selector: { matchLabels: selector } },
  };

  const hpa: Manifest = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: params.autoscaling.minReplicas,
      maxReplicas: params.autoscaling.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: {
              type: 'Utilization',
              averageUtilization: params.autoscaling.targetCPUUtilization,
            },
          },
        },
      ],
    },
  };

  const manifests = [deployment, service, pdb, hpa];

  if (params.route) {
    manifests.splice(2, 0, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata,
      spec: {
        parentRefs: [
          {
            group: 'gateway.networking.k8s.io',
            kind: 'Gateway',
            name: params.route.gateway.name,
            namespace: params.route.gateway.namespace,
          },
        ],
        ...(params.route.hostnames.length > 0
          ? { hostnames: params.route.hostnames }
          : {}),
        rules: [
          {
            matches: [
              { path: { type: 'PathPrefix', value: params.route.pathPrefix } },
            ],
            backendRefs: [{ name, port: servicePort }],
          },
        ],
      },
    });
  }

  return manifests;
}
