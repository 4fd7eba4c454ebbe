/** OpenAPI paths and schemas of the alerts domain. */

import {
  clusterNameParam,
  errorResponse,
  json,
  listParam,
  MAX_CLUSTER_FILTER,
  pagingParams,
} from '../schema/fragments';

const clusterFilter = listParam(
  'cluster',
  'Cluster names',
  { type: 'string', maxLength: 63 },
  MAX_CLUSTER_FILTER,
);
const statusFilter = listParam(
  'status',
  'firing (open) or resolved; both by default',
  { type: 'string', enum: ['firing', 'resolved'] },
);
const severityFilter = listParam('severity', 'critical or high', {
  type: 'string',
  enum: ['critical', 'high'],
});

const alertPage = json({
  type: 'object',
  properties: {
    items: { type: 'array', items: { $ref: '#/components/schemas/Alert' } },
    totalCount: { type: 'integer' },
    evaluation: { $ref: '#/components/schemas/AlertEvaluation' },
  },
  required: ['items', 'totalCount', 'evaluation'],
});

export const alertsPaths = {
  '/alerts': {
    get: {
      operationId: 'ListAlerts',
      description:
        'Lists the structural alerts KMP raised (firing first, then critical first, then newest first), limited to the clusters the caller may read (kmp.cluster.read). evaluation tells whether alert rules are evaluated at all, so that an empty list can be told from an unconfigured source.',
      security: [{}, { JWT: [] }],
      parameters: [
        clusterFilter,
        statusFilter,
        severityFilter,
        ...pagingParams,
      ],
      responses: {
        '200': { description: 'One page of alerts.', content: alertPage },
        default: errorResponse,
      },
    },
  },
  '/alerts/summary': {
    get: {
      operationId: 'GetAlertSummary',
      description:
        'Counts of firing (open) alerts by severity, fleet-wide and per cluster (only clusters with firing alerts are listed), limited to the clusters the caller may read; `cluster` limits it to those clusters (e.g. one page of the fleet table).',
      security: [{}, { JWT: [] }],
      parameters: [clusterFilter],
      responses: {
        '200': {
          description: 'The counts.',
          content: json({ $ref: '#/components/schemas/AlertSummary' }),
        },
        default: errorResponse,
      },
    },
  },
  '/alerts/receivers': {
    get: {
      operationId: 'ListAlertReceivers',
      description:
        'Delivery state of the configured alert receivers (never their URLs or headers). Needs kmp.cluster.read on every cluster.',
      security: [{}, { JWT: [] }],
      responses: {
        '200': {
          description: 'The receivers, by name.',
          content: json({
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: { $ref: '#/components/schemas/AlertReceiverStatus' },
              },
            },
            required: ['items'],
          }),
        },
        default: errorResponse,
      },
    },
  },
  '/alerts/metrics': {
    get: {
      operationId: 'GetAlertMetrics',
      description:
        'The firing alerts, firing counts, last evaluation time and receiver delivery state as Prometheus metrics (text format 0.0.4), for scraping with a service token. Needs kmp.cluster.read on every cluster.',
      security: [{}, { JWT: [] }],
      responses: {
        '200': {
          description: 'Prometheus text exposition.',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
        default: errorResponse,
      },
    },
  },
  '/clusters/{name}/alerts': {
    get: {
      operationId: 'ListClusterAlerts',
      description:
        'The alerts of one cluster, firing first. 404 for a cluster that is not registered, 403 for one the caller may not read.',
      security: [{}, { JWT: [] }],
      parameters: [
        clusterNameParam,
        statusFilter,
        severityFilter,
        ...pagingParams,
      ],
      responses: {
        '200': {
          description: 'One page of the alerts of the cluster.',
          content: alertPage,
        },
        default: errorResponse,
      },
    },
  },
} as const;

export const alertsSchemas = {
  Alert: {
    type: 'object',
    properties: {
      fingerprint: {
        type: 'string',
        description: 'Stable identity of the alert (alertname and cluster)',
      },
      cluster: { type: 'string' },
      alertname: { type: 'string' },
      severity: { type: 'string', enum: ['critical', 'high'] },
      status: { type: 'string', enum: ['firing', 'resolved'] },
      summary: { type: 'string' },
      description: { type: 'string' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      startsAt: { type: 'string', format: 'date-time' },
      endsAt: { type: 'string', format: 'date-time' },
    },
    required: [
      'fingerprint',
      'cluster',
      'alertname',
      'severity',
      'status',
      'summary',
      'description',
      'labels',
      'startsAt',
    ],
  },
  AlertEvaluation: {
    type: 'object',
    properties: {
      enabled: {
        type: 'boolean',
        description: 'Whether this backend evaluates alert rules',
      },
      intervalSeconds: { type: 'integer' },
      lastEvaluatedAt: {
        type: 'string',
        format: 'date-time',
        description: 'Absent until the first evaluation ran',
      },
      receivers: {
        type: 'integer',
        description: 'How many out-of-band receivers are configured',
      },
    },
    required: ['enabled', 'intervalSeconds', 'receivers'],
  },
  AlertSummary: {
    type: 'object',
    properties: {
      firing: { type: 'integer' },
      bySeverity: {
        type: 'object',
        additionalProperties: { type: 'integer' },
      },
      clusters: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            cluster: { type: 'string' },
            firing: { type: 'integer' },
            bySeverity: {
              type: 'object',
              additionalProperties: { type: 'integer' },
            },
          },
          required: ['cluster', 'firing', 'bySeverity'],
        },
      },
      evaluation: { $ref: '#/components/schemas/AlertEvaluation' },
    },
    required: ['firing', 'bySeverity', 'clusters', 'evaluation'],
  },
  AlertReceiverStatus: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      type: { type: 'string' },
      state: {
        type: 'string',
        enum: ['idle', 'healthy', 'retrying', 'failing'],
      },
      consecutiveFailures: { type: 'integer' },
      lastError: { type: 'string' },
      lastErrorAt: { type: 'string', format: 'date-time' },
      lastSuccessAt: { type: 'string', format: 'date-time' },
      delivered: { type: 'integer' },
      pending: {
        type: 'integer',
        description: 'Transitions waiting in the outbox for this receiver',
      },
    },
    required: [
      'name',
      'type',
      'state',
      'consecutiveFailures',
      'delivered',
      'pending',
    ],
  },
} as const;
