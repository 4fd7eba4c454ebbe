/**
 * OpenAPI paths of the broker's typed operational actions (restart, scale,
 * delete a pod, logs). Each is one Kubernetes request through the broker's
 * request path; refusals are Kubernetes `Status` objects (403 naming the
 * rule, 422 for the admission pre-flight), and every answer carries the
 * `kmp-audit-id` header.
 */
import { clusterNameParam, json } from '../schema/fragments';

const pathParam = (
  name: string,
  description: string,
  schema: Record<string, unknown>,
) => ({ name, in: 'path', required: true, description, schema } as const);

const namespaceParam = pathParam('namespace', 'Namespace (DNS-1123 label)', {
  type: 'string',
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  maxLength: 63,
});

const objectNameSchema = {
  type: 'string',
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  maxLength: 253,
} as const;

const workloadParams = (kinds: readonly string[]) =>
  [
    clusterNameParam,
    namespaceParam,
    pathParam('kind', 'Workload resource', {
      type: 'string',
      enum: kinds,
    }),
    pathParam('workload', 'Workload name', objectNameSchema),
  ] as const;

const podParams = [
  clusterNameParam,
  namespaceParam,
  pathParam('pod', 'Pod name', objectNameSchema),
] as const;

const auditIdHeader = {
  'kmp-audit-id': {
    description: 'Correlation id of the audit events of the action',
    schema: { type: 'string', format: 'uuid' },
  },
} as const;

/** A refusal or failure: a Kubernetes `Status`. */
const statusResponse = {
  description:
    'Refused or failed: a Kubernetes Status naming the rule (401, 403, 404, 422, 503, …).',
  headers: auditIdHeader,
  content: json({ $ref: '#/components/schemas/KubernetesStatus' }),
} as const;

const done = (description: string, properties: Record<string, unknown>) =>
  ({
    description,
    headers: auditIdHeader,
    content: json({
      type: 'object',
      properties: {
        auditId: { type: 'string', format: 'uuid' },
        ...properties,
      },
      required: ['auditId'],
    }),
  } as const);

const booleanQuery = (name: string, description: string) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type: 'string', enum: ['true', 'false'] },
});

const countQuery = (name: string, description: string) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type: 'string', pattern: '^[0-9]{1,9}$' },
});

export const operationPaths = {
  '/clusters/{name}/namespaces/{namespace}/workloads/{kind}/{workload}/restart':
    {
      post: {
        operationId: 'RestartWorkload',
        description:
          'Restarts a workload as `kubectl rollout restart` does: the pod template annotation kubectl.kubernetes.io/restartedAt is set to now, through the broker (persona policy action `restart`, environment policy, pre-flight, impersonation, audit).',
        security: [{ JWT: [] }],
        parameters: workloadParams([
          'deployments',
          'statefulsets',
          'daemonsets',
        ]),
        responses: {
          '200': done('The restart was applied.', {
            restartedAt: { type: 'string', format: 'date-time' },
          }),
          default: statusResponse,
        },
      },
    },
  '/clusters/{name}/namespaces/{namespace}/workloads/{kind}/{workload}/scale': {
    post: {
      operationId: 'ScaleWorkload',
      description:
        "Sets a workload's replicas through its scale subresource, through the broker (persona policy action `scale`; production replicas are declared in Git).",
      security: [{ JWT: [] }],
      parameters: workloadParams(['deployments', 'statefulsets']),
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          properties: {
            replicas: { type: 'integer', minimum: 0, maximum: 10000 },
          },
          required: ['replicas'],
          additionalProperties: false,
        }),
      },
      responses: {
        '200': done('The new replica count was applied.', {
          replicas: { type: 'integer' },
        }),
        default: statusResponse,
      },
    },
  },
  '/clusters/{name}/namespaces/{namespace}/pods/{pod}': {
    delete: {
      operationId: 'DeletePod',
      description:
        'Deletes a pod (its controller replaces it), through the broker (persona policy action `delete-pod`).',
      security: [{ JWT: [] }],
      parameters: podParams,
      responses: {
        '200': done('The pod is being deleted.', {
          deleted: { type: 'string' },
        }),
        default: statusResponse,
      },
    },
  },
  '/clusters/{name}/namespaces/{namespace}/pods/{pod}/logs': {
    get: {
      operationId: 'PodLogs',
      description:
        "A container's log as plain text, streamed as the cluster sends it (follow keeps it open), through the broker (persona policy action `logs`). Long-running requests are audited when they start and when they end.",
      security: [{ JWT: [] }],
      parameters: [
        ...podParams,
        {
          name: 'container',
          in: 'query',
          required: false,
          description: 'Container; required when the pod has several',
          schema: {
            type: 'string',
            pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
            maxLength: 63,
          },
        },
        booleanQuery('previous', "The previous container instance's log"),
        booleanQuery('follow', 'Keep streaming new lines'),
        booleanQuery('timestamps', 'Prefix each line with its time'),
        countQuery('tailLines', 'Only the last lines'),
        countQuery('sinceSeconds', 'Only lines of the last seconds (≥ 1)'),
        countQuery('limitBytes', 'At most this many bytes (≥ 1)'),
      ],
      responses: {
        '200': {
          description: 'The log, streamed.',
          headers: auditIdHeader,
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
        default: statusResponse,
      },
    },
  },
} as const;

export const operationSchemas = {
  KubernetesStatus: {
    type: 'object',
    description: 'A Kubernetes meta/v1 Status',
    properties: {
      kind: { type: 'string', enum: ['Status'] },
      apiVersion: { type: 'string' },
      status: { type: 'string' },
      message: { type: 'string' },
      reason: { type: 'string' },
      code: { type: 'integer' },
      details: { type: 'object' },
    },
    required: ['kind', 'message', 'code'],
  },
} as const;
