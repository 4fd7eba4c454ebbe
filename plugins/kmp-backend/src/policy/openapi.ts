/** OpenAPI paths and schemas of the policy domain. */

import {
  errorResponse,
  json,
  listParam,
  MAX_CLUSTER_FILTER,
  pagingParams,
} from '../schema/fragments';

const dnsLabel = {
  type: 'string',
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  maxLength: 63,
} as const;
const query = (name: string, schema: object, description?: string) =>
  ({
    name,
    in: 'query',
    required: false,
    ...(description ? { description } : {}),
    schema,
  } as const);

export const policyPaths = {
  '/policies/evaluate': {
    post: {
      operationId: 'EvaluatePolicies',
      description:
        'Evaluates Kubernetes manifests against the policy bundle of a cluster or an environment (and environment group), in process, with the decision the cluster admission would make. Used by the broker pre-flight, the scaffolder and the portal. Malformed manifests are reported per item.',
      security: [{}, { JWT: [] }],
      requestBody: {
        required: true,
        content: json({ $ref: '#/components/schemas/PolicyEvaluateRequest' }),
      },
      responses: {
        '200': {
          description:
            'Per manifest: allowed, and every violation with rule id, severity, enforcement, object, path and message.',
          content: json({
            $ref: '#/components/schemas/PolicyEvaluateResponse',
          }),
        },
        default: errorResponse,
      },
    },
  },
  '/policies/bundle': {
    get: {
      operationId: 'GetPolicyBundle',
      description:
        'The effective (versioned) policy bundle of a cluster, or of an environment and optional environment group. With `render`, the bundle rendered for a policy engine as multi-document YAML.',
      security: [{}, { JWT: [] }],
      parameters: [
        query('cluster', dnsLabel),
        query('environment', {
          type: 'string',
          enum: ['production', 'non-production', 'edge'],
        }),
        query('environmentGroup', dnsLabel),
        query(
          'render',
          { type: 'string', enum: ['vap', 'gatekeeper', 'kyverno'] },
          'vap: ValidatingAdmissionPolicy + binding; gatekeeper: ConstraintTemplate (K8sNativeValidation) + constraint; kyverno: ValidatingPolicy',
        ),
      ],
      responses: {
        '200': {
          description: 'The effective bundle, or its rendering as YAML.',
          content: {
            ...json({ $ref: '#/components/schemas/PolicyBundle' }),
            'application/yaml': { schema: { type: 'string' } },
          },
        },
        default: errorResponse,
      },
    },
  },
  '/policies/installations': {
    get: {
      operationId: 'ListPolicyInstallations',
      description:
        'Per cluster: the installed bundle version, mode (apply or gitops) and the last drift check.',
      security: [{}, { JWT: [] }],
      parameters: [...pagingParams],
      responses: {
        '200': {
          description: 'One page of installations.',
          content: json({
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: { $ref: '#/components/schemas/PolicyInstallation' },
              },
              totalCount: { type: 'integer' },
            },
            required: ['items', 'totalCount'],
          }),
        },
        default: errorResponse,
      },
    },
  },
  '/policies/distribute': {
    post: {
      operationId: 'DistributePolicies',
      description:
        "Installs a cluster's governed bundle: `apply` server-side-applies the ValidatingAdmissionPolicies to the cluster, `gitops` writes the rendered bundle to the GitOps directory. Records version and mode.",
      security: [{}, { JWT: [] }],
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          properties: {
            cluster: dnsLabel,
            mode: { type: 'string', enum: ['apply', 'gitops'] },
          },
          required: ['cluster'],
          additionalProperties: false,
        }),
      },
      responses: {
        '200': {
          description: 'The recorded installation.',
          content: json({ $ref: '#/components/schemas/PolicyInstallation' }),
        },
        default: errorResponse,
      },
    },
  },
  '/policies/compliance': {
    get: {
      operationId: 'GetPolicyCompliance',
      description:
        "With `cluster`: that cluster's compliance report (governed and installed bundle version, mode, drift, violations per rule from the cluster's engines and KMP's scan). Without: a page of per-cluster summaries of the clusters the caller may read, optionally only those named by `name` (e.g. one page of the fleet table).",
      security: [{}, { JWT: [] }],
      parameters: [
        query('cluster', dnsLabel),
        listParam('name', 'Only these clusters', dnsLabel, MAX_CLUSTER_FILTER),
        ...pagingParams,
      ],
      responses: {
        '200': {
          description: 'A compliance report or a page of summaries.',
          content: json({
            oneOf: [
              { $ref: '#/components/schemas/PolicyComplianceReport' },
              {
                type: 'object',
                properties: {
                  items: { type: 'array', items: { type: 'object' } },
                  totalCount: { type: 'integer' },
                },
              },
            ],
          }),
        },
        default: errorResponse,
      },
    },
  },
  '/policies/compliance/scan': {
    post: {
      operationId: 'ScanPolicyCompliance',
      description:
        'Checks drift and scans a cluster now (the scheduler does this periodically).',
      security: [{}, { JWT: [] }],
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          properties: { cluster: dnsLabel },
          required: ['cluster'],
          additionalProperties: false,
        }),
      },
      responses: {
        '200': {
          description: 'The fresh compliance report.',
          content: json({
            $ref: '#/components/schemas/PolicyComplianceReport',
          }),
        },
        default: errorResponse,
      },
    },
  },
} as const;

const objectRef = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    namespace: { type: 'string' },
    name: { type: 'string' },
  },
} as const;

export const policySchemas = {
  PolicyEvaluateRequest: {
    type: 'object',
    description:
      'Validated in full by the backend; see the kmp-common policyEvaluateRequestSchema.',
    properties: {
      target: {
        type: 'object',
        properties: {
          cluster: { type: 'string' },
          environment: { type: 'string' },
          environmentGroup: { type: 'string' },
        },
      },
      manifests: {
        type: 'array',
        minItems: 1,
        maxItems: 500,
        items: {},
      },
      namespaces: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          additionalProperties: { type: 'string' },
        },
      },
      defaultNamespace: { type: 'string' },
    },
    required: ['target', 'manifests'],
  },
  PolicyViolation: {
    type: 'object',
    properties: {
      ruleId: { type: 'string' },
      severity: { type: 'string', enum: ['low', 'medium', 'high', 'critical'] },
      enforcement: { type: 'string', enum: ['Deny', 'Warn', 'Audit'] },
      object: objectRef,
      path: { type: 'string' },
      message: { type: 'string' },
      error: { type: 'boolean' },
    },
    required: ['ruleId', 'severity', 'enforcement', 'object', 'message'],
  },
  PolicyEvaluateResponse: {
    type: 'object',
    properties: {
      allowed: { type: 'boolean' },
      bundle: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          version: { type: 'string' },
          environment: { type: 'string' },
          environmentGroup: { type: 'string' },
        },
      },
      results: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            index: { type: 'integer' },
            object: objectRef,
            allowed: { type: 'boolean' },
            violations: {
              type: 'array',
              items: { $ref: '#/components/schemas/PolicyViolation' },
            },
            error: { type: 'string' },
          },
        },
      },
      summary: {
        type: 'object',
        properties: {
          objects: { type: 'integer' },
          denied: { type: 'integer' },
          violations: { type: 'integer' },
          errors: { type: 'integer' },
        },
      },
    },
    required: ['allowed', 'bundle', 'results', 'summary'],
  },
  PolicyBundle: {
    type: 'object',
    description: 'See the kmp-common effectivePolicyBundleSchema.',
    properties: {
      name: { type: 'string' },
      version: { type: 'string' },
      environment: { type: 'string' },
      environmentGroup: { type: 'string' },
      overlays: { type: 'array', items: { type: 'string' } },
      variables: { type: 'array', items: { type: 'object' } },
      rules: { type: 'array', items: { type: 'object' } },
    },
    required: ['name', 'version', 'environment', 'overlays', 'rules'],
  },
  PolicyInstallation: {
    type: 'object',
    properties: {
      cluster: { type: 'string' },
      bundleVersion: { type: 'string' },
      mode: { type: 'string', enum: ['apply', 'gitops'] },
      enforcement: {
        type: 'object',
        additionalProperties: { type: 'string' },
      },
      contentHash: { type: 'string' },
      location: { type: 'string' },
      installedAt: { type: 'string', format: 'date-time' },
      installedBy: { type: 'string' },
      drift: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: ['in-sync', 'drifted', 'unknown'] },
          checkedAt: { type: 'string', format: 'date-time' },
          details: { type: 'array', items: { type: 'string' } },
          liveVersion: { type: 'string' },
        },
      },
    },
    required: ['cluster', 'bundleVersion', 'mode', 'installedAt', 'drift'],
  },
  PolicyComplianceReport: {
    type: 'object',
    description: 'See the kmp-common policyComplianceReportSchema.',
    properties: {
      cluster: { type: 'string' },
      environment: { type: 'string' },
      environmentGroup: { type: 'string' },
      governedVersion: { type: 'string' },
      installation: { $ref: '#/components/schemas/PolicyInstallation' },
      scan: { type: 'object' },
      rules: { type: 'array', items: { type: 'object' } },
      findings: { type: 'array', items: { type: 'object' } },
      truncated: { type: 'boolean' },
    },
    required: ['cluster', 'governedVersion', 'rules', 'findings'],
  },
} as const;
