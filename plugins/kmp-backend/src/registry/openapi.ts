/** OpenAPI paths and schemas of the registry domain. */

import {
  clusterNameParam,
  errorResponse,
  json,
  pagingParams,
} from '../schema/fragments';

const listParam = (name: string, description: string) =>
  ({
    name,
    in: 'query',
    required: false,
    description,
    style: 'form',
    explode: true,
    schema: {
      type: 'array',
      items: { type: 'string', maxLength: 63 },
      maxItems: 50,
    },
  } as const);

/** A GitOps object failing or out of sync, in a cluster's status. */
const gitopsObject = {
  type: 'object',
  properties: {
    engine: { type: 'string', enum: ['flux', 'argocd'] },
    kind: { type: 'string' },
    namespace: { type: 'string' },
    name: { type: 'string' },
    state: {
      type: 'string',
      enum: [
        'ready',
        'progressing',
        'failed',
        'out-of-sync',
        'suspended',
        'unknown',
      ],
    },
    reason: { type: 'string' },
    message: { type: 'string', maxLength: 300 },
    since: { type: 'string', format: 'date-time' },
  },
  required: ['engine', 'kind', 'namespace', 'name', 'state'],
} as const;

export const registryPaths = {
  '/environment-groups': {
    get: {
      operationId: 'ListEnvironmentGroups',
      description: 'Lists the environment groups of the fleet.',
      security: [{}, { JWT: [] }],
      responses: {
        '200': {
          description: 'The environment groups, ordered by name.',
          content: json({
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: { $ref: '#/components/schemas/EnvironmentGroup' },
              },
            },
            required: ['items'],
          }),
        },
        default: errorResponse,
      },
    },
  },
  '/profiles': {
    get: {
      operationId: 'ListClusterProfiles',
      description: 'Lists the cluster profiles.',
      security: [{}, { JWT: [] }],
      responses: {
        '200': {
          description: 'The profiles, ordered by name.',
          content: json({
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: { $ref: '#/components/schemas/ClusterProfile' },
              },
            },
            required: ['items'],
          }),
        },
        default: errorResponse,
      },
    },
  },
  '/clusters': {
    get: {
      operationId: 'ListClusters',
      description:
        'Lists registered clusters with filters and paging. Results are limited to what the caller may read (kmp.cluster.read): the clusters of the environment groups where they hold a persona, edge operators only edge clusters; none without a persona. totalCount counts those.',
      security: [{}, { JWT: [] }],
      parameters: [
        listParam('environment', 'production, non-production or edge'),
        listParam('environmentGroup', 'Environment group names'),
        listParam('region', 'Regions'),
        listParam('profile', 'Profile names'),
        listParam('state', 'Lifecycle states'),
        listParam('connectivity', 'direct, edge or edge-async'),
        {
          name: 'q',
          in: 'query',
          required: false,
          description: 'Text search over name, title, description and region',
          schema: { type: 'string', maxLength: 200 },
        },
        {
          name: 'includeDecommissioned',
          in: 'query',
          required: false,
          schema: { type: 'string', enum: ['true', 'false'] },
        },
        {
          name: 'orderBy',
          in: 'query',
          required: false,
          schema: {
            type: 'string',
            enum: [
              'name',
              'environment',
              'environmentGroup',
              'region',
              'lifecycleState',
              'kubernetesVersion',
              'updatedAt',
            ],
          },
        },
        {
          name: 'order',
          in: 'query',
          required: false,
          schema: { type: 'string', enum: ['asc', 'desc'] },
        },
        ...pagingParams,
      ],
      responses: {
        '200': {
          description:
            'One page of clusters and the total count matching the filters.',
          content: json({
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: { $ref: '#/components/schemas/Cluster' },
              },
              totalCount: { type: 'integer' },
            },
            required: ['items', 'totalCount'],
          }),
        },
        default: errorResponse,
      },
    },
    post: {
      operationId: 'RegisterCluster',
      description:
        'Registers a cluster. Credentials are encrypted at rest and never returned. The API server URL must be https and publicly routable unless allow-listed.',
      security: [{}, { JWT: [] }],
      requestBody: {
        required: true,
        content: json({ $ref: '#/components/schemas/ClusterRegistration' }),
      },
      responses: {
        '201': {
          description: 'The registered cluster.',
          content: json({ $ref: '#/components/schemas/Cluster' }),
        },
        default: errorResponse,
      },
    },
  },
  '/clusters/import-kubeconfig': {
    post: {
      operationId: 'ImportKubeconfigContext',
      description:
        'Registers the cluster of one kubeconfig context. Only inline credentials are accepted (no file references, exec or auth-provider plugins).',
      security: [{}, { JWT: [] }],
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          properties: {
            kubeconfig: { type: 'string' },
            context: { type: 'string' },
            cluster: { type: 'object' },
          },
          required: ['kubeconfig', 'cluster'],
        }),
      },
      responses: {
        '201': {
          description: 'The registered cluster.',
          content: json({ $ref: '#/components/schemas/Cluster' }),
        },
        default: errorResponse,
      },
    },
  },
  '/clusters/summary': {
    get: {
      operationId: 'GetClusterSummary',
      description:
        'Counts of live clusters by lifecycle state, environment and connectivity, limited to what the caller may read.',
      security: [{}, { JWT: [] }],
      responses: {
        '200': {
          description: 'The fleet summary.',
          content: json({
            type: 'object',
            properties: {
              total: { type: 'integer' },
              byLifecycleState: {
                type: 'object',
                additionalProperties: { type: 'integer' },
              },
              byEnvironment: {
                type: 'object',
                additionalProperties: { type: 'integer' },
              },
              byConnectivity: {
                type: 'object',
                additionalProperties: { type: 'integer' },
              },
            },
            required: [
              'total',
              'byLifecycleState',
              'byEnvironment',
              'byConnectivity',
            ],
          }),
        },
        default: errorResponse,
      },
    },
  },
  '/clusters/changes': {
    get: {
      operationId: 'ListClusterChanges',
      description:
        'Clusters changed after a registry revision, in revision order, decommissioned ones included. Used by the catalog module for incremental updates.',
      security: [{}, { JWT: [] }],
      parameters: [
        {
          name: 'since',
          in: 'query',
          required: false,
          schema: { type: 'string', pattern: '^[0-9]{1,15}$' },
        },
        {
          name: 'limit',
          in: 'query',
          required: false,
          schema: { type: 'string', pattern: '^([1-9][0-9]{0,3}|10000)$' },
        },
      ],
      responses: {
        '200': {
          description:
            'The changed clusters and the revision to ask from next.',
          content: json({
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: { $ref: '#/components/schemas/Cluster' },
              },
              revision: { type: 'integer' },
              currentRevision: { type: 'integer' },
            },
            required: ['items', 'revision', 'currentRevision'],
          }),
        },
        default: errorResponse,
      },
    },
  },
  '/clusters/{name}': {
    get: {
      operationId: 'GetCluster',
      description:
        'One registered cluster. 404 when it is not registered; 403 naming the rule when the caller may not read it (kmp.cluster.read).',
      security: [{}, { JWT: [] }],
      parameters: [clusterNameParam],
      responses: {
        '200': {
          description: 'The cluster.',
          content: json({ $ref: '#/components/schemas/Cluster' }),
        },
        default: errorResponse,
      },
    },
    patch: {
      operationId: 'UpdateCluster',
      description:
        'Changes metadata (and optionally rotates credentials) of a cluster.',
      security: [{}, { JWT: [] }],
      parameters: [clusterNameParam],
      requestBody: { required: true, content: json({ type: 'object' }) },
      responses: {
        '200': {
          description: 'The updated cluster.',
          content: json({ $ref: '#/components/schemas/Cluster' }),
        },
        default: errorResponse,
      },
    },
    delete: {
      operationId: 'DecommissionCluster',
      description:
        'Decommissions a cluster: it leaves the catalog and the refresh loop and its credentials are erased.',
      security: [{}, { JWT: [] }],
      parameters: [clusterNameParam],
      responses: {
        '200': {
          description: 'The decommissioned cluster.',
          content: json({ $ref: '#/components/schemas/Cluster' }),
        },
        default: errorResponse,
      },
    },
  },
  '/clusters/{name}/history': {
    get: {
      operationId: 'GetClusterHistory',
      description: 'Who registered or changed what, oldest first.',
      security: [{}, { JWT: [] }],
      parameters: [clusterNameParam],
      responses: {
        '200': {
          description: 'The history of the cluster.',
          content: json({
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    action: { type: 'string' },
                    actor: { type: 'string' },
                    at: { type: 'string', format: 'date-time' },
                    changes: { type: 'object' },
                  },
                },
              },
            },
            required: ['items'],
          }),
        },
        default: errorResponse,
      },
    },
  },
} as const;

export const registrySchemas = {
  Environment: {
    type: 'string',
    enum: ['production', 'non-production', 'edge'],
  },
  EnvironmentGroup: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      title: { type: 'string' },
      description: { type: 'string' },
      environment: { $ref: '#/components/schemas/Environment' },
      owner: { type: 'string' },
    },
    required: ['name', 'environment', 'owner'],
  },
  ClusterProfile: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      title: { type: 'string' },
      description: { type: 'string' },
      environment: { $ref: '#/components/schemas/Environment' },
      podSecurity: {
        type: 'string',
        enum: ['privileged', 'baseline', 'restricted'],
      },
      policyOverlays: { type: 'array', items: { type: 'string' } },
    },
    required: ['name', 'environment', 'podSecurity', 'policyOverlays'],
  },
  ClusterRegistration: {
    type: 'object',
    description:
      'Validated in full by the backend; see the kmp-common clusterRegistrationSchema.',
    properties: {
      name: { type: 'string' },
      title: { type: 'string' },
      description: { type: 'string' },
      environmentGroup: { type: 'string' },
      region: { type: 'string' },
      profile: { type: 'string' },
      distribution: { type: 'string' },
      connectivity: { type: 'string', enum: ['direct', 'edge', 'edge-async'] },
      owner: { type: 'string' },
      apiServerUrl: { type: 'string' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      credentials: {
        type: 'object',
        properties: {
          token: { type: 'string' },
          clientCertificate: { type: 'string' },
          clientKey: { type: 'string' },
          certificateAuthority: { type: 'string' },
          skipTlsVerify: { type: 'boolean' },
        },
      },
    },
    required: ['name', 'environmentGroup', 'region', 'profile', 'owner'],
  },
  Cluster: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      title: { type: 'string' },
      description: { type: 'string' },
      environment: { $ref: '#/components/schemas/Environment' },
      environmentGroup: { type: 'string' },
      region: { type: 'string' },
      profile: { type: 'string' },
      distribution: { type: 'string' },
      kubernetesVersion: { type: 'string' },
      connectivity: { type: 'string', enum: ['direct', 'edge', 'edge-async'] },
      lifecycleState: {
        type: 'string',
        enum: [
          'registering',
          'active',
          'degraded',
          'unreachable',
          'decommissioned',
        ],
      },
      owner: { type: 'string' },
      apiServerUrl: { type: 'string' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      source: { type: 'string', enum: ['config', 'api', 'kubeconfig'] },
      status: {
        type: 'object',
        properties: {
          nodeCount: { type: 'integer' },
          nodesReady: { type: 'integer' },
          controlPlaneHealthy: { type: 'boolean' },
          lastSeenAt: { type: 'string', format: 'date-time' },
          lastCheckedAt: { type: 'string', format: 'date-time' },
          lastError: { type: 'string' },
          consecutiveFailures: { type: 'integer' },
          servingCertificate: {
            type: 'object',
            description:
              "The API server's serving certificate, from the registry's last TLS handshake with it.",
            properties: {
              notAfter: { type: 'string', format: 'date-time' },
              subject: { type: 'string' },
            },
            required: ['notAfter', 'subject'],
          },
          gitops: {
            type: 'object',
            description:
              'Flux Kustomizations and HelmReleases and Argo CD Applications failing or out of sync (at most 50 of each, with total counts), from the last refresh that could list them all; absent when never observed.',
            properties: {
              objects: { type: 'integer' },
              failingCount: { type: 'integer' },
              outOfSyncCount: { type: 'integer' },
              failing: {
                type: 'array',
                maxItems: 50,
                items: gitopsObject,
              },
              outOfSync: {
                type: 'array',
                maxItems: 50,
                items: gitopsObject,
              },
              checkedAt: { type: 'string', format: 'date-time' },
            },
            required: [
              'objects',
              'failingCount',
              'outOfSyncCount',
              'failing',
              'outOfSync',
            ],
          },
          nodeProblems: {
            type: 'object',
            description:
              'Nodes reporting MemoryPressure, DiskPressure or PIDPressure, cordoned nodes (spec.unschedulable) and nodes whose network (CNI) is not set up (NetworkUnavailable), at most 50 of each sorted by name, with total counts; from the last refresh that read the node list, absent when never observed.',
            properties: {
              pressure: {
                type: 'array',
                maxItems: 50,
                items: {
                  type: 'object',
                  properties: {
                    node: { type: 'string' },
                    conditions: {
                      type: 'array',
                      minItems: 1,
                      items: {
                        type: 'string',
                        enum: ['MemoryPressure', 'DiskPressure', 'PIDPressure'],
                      },
                    },
                  },
                  required: ['node', 'conditions'],
                },
              },
              pressureCount: { type: 'integer' },
              unschedulable: {
                type: 'array',
                maxItems: 50,
                items: { type: 'string' },
              },
              unschedulableCount: { type: 'integer' },
              networkUnavailable: {
                type: 'array',
                maxItems: 50,
                items: { type: 'string' },
              },
              networkUnavailableCount: { type: 'integer' },
              checkedAt: { type: 'string', format: 'date-time' },
            },
            required: [
              'pressure',
              'pressureCount',
              'unschedulable',
              'unschedulableCount',
              'networkUnavailable',
              'networkUnavailableCount',
            ],
          },
        },
      },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
      decommissionedAt: { type: 'string', format: 'date-time' },
      revision: { type: 'integer' },
      tenants: {
        type: 'array',
        description:
          'Tenant namespaces (labelled kmp.backstage.io/team) last observed on the cluster; absent when never observed.',
        items: {
          type: 'object',
          properties: {
            namespace: { type: 'string' },
            team: { type: 'string' },
          },
          required: ['namespace', 'team'],
        },
      },
    },
    required: [
      'name',
      'environment',
      'environmentGroup',
      'region',
      'profile',
      'connectivity',
      'lifecycleState',
      'owner',
      'source',
      'status',
      'revision',
    ],
  },
} as const;
