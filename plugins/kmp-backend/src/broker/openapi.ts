/**
 * OpenAPI paths and schemas of the broker's REST routes (just-in-time
 * kubeconfigs). The Kubernetes-API-compatible proxy under
 * `/proxy/clusters/{name}/…` is not described here: it speaks the
 * cluster's own API and is mounted before the validating router.
 */

import { clusterNameParam, errorResponse, json } from '../schema/fragments';
import { operationPaths, operationSchemas } from './operationsOpenapi';

export const brokerPaths = {
  ...operationPaths,
  '/clusters/{name}/tenant-namespaces': {
    get: {
      operationId: 'ListMyTenantNamespaces',
      description:
        "The caller's teams' tenant namespaces on the cluster: namespaces labelled kmp.backstage.io/team with one of the caller's groups, read with the registry's credential (developers may not list namespaces through the broker). Needs kmp.cluster.access.read on the cluster; 503 when the cluster cannot be reached.",
      security: [{}, { JWT: [] }],
      parameters: [clusterNameParam],
      responses: {
        '200': {
          description: "The tenant namespaces of the caller's teams.",
          content: json({
            type: 'object',
            properties: {
              cluster: { type: 'string' },
              teams: { type: 'array', items: { type: 'string' } },
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    name: { type: 'string' },
                    team: { type: 'string' },
                    phase: { type: 'string' },
                  },
                  required: ['name', 'team'],
                },
              },
            },
            required: ['cluster', 'teams', 'items'],
          }),
        },
        default: errorResponse,
      },
    },
  },
  '/clusters/{name}/kubeconfig': {
    post: {
      operationId: 'IssueKubeconfig',
      description:
        'Issues a kubeconfig whose server is the KMP broker and whose only credential is a short-lived bearer token bound to the caller, the cluster and an access level (read, or write where the caller may write; production kubeconfigs are read-only except for the GitOps identity). The token is returned once and stored only as a hash.',
      security: [{}, { JWT: [] }],
      parameters: [clusterNameParam],
      requestBody: {
        required: false,
        content: json({
          type: 'object',
          properties: {
            expiresInSeconds: {
              type: 'integer',
              minimum: 1,
              description:
                'Lifetime; default kmp.broker.tokens.defaultTtlSeconds (1 h), capped at maxTtlSeconds (8 h)',
            },
            access: { type: 'string', enum: ['read', 'write'] },
            namespace: {
              type: 'string',
              maxLength: 63,
              description: 'Default namespace of the kubeconfig context',
            },
          },
          additionalProperties: false,
        }),
      },
      responses: {
        '201': {
          description: 'The kubeconfig, its token and the token record.',
          content: json({
            allOf: [
              { $ref: '#/components/schemas/KubeconfigToken' },
              {
                type: 'object',
                properties: {
                  token: { type: 'string' },
                  kubeconfig: { type: 'string', description: 'YAML' },
                },
                required: ['token', 'kubeconfig'],
              },
            ],
          }),
        },
        default: errorResponse,
      },
    },
  },
  '/kubeconfig-tokens': {
    get: {
      operationId: 'ListKubeconfigTokens',
      description: "Lists the caller's kubeconfig tokens, newest first.",
      security: [{}, { JWT: [] }],
      responses: {
        '200': {
          description: 'The tokens (never the token values).',
          content: json({
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: { $ref: '#/components/schemas/KubeconfigToken' },
              },
            },
            required: ['items'],
          }),
        },
        default: errorResponse,
      },
    },
  },
  '/kubeconfig-tokens/{id}': {
    delete: {
      operationId: 'RevokeKubeconfigToken',
      description:
        "Revokes one of the caller's kubeconfig tokens; the broker refuses it from then on.",
      security: [{}, { JWT: [] }],
      parameters: [
        {
          name: 'id',
          in: 'path',
          required: true,
          schema: { type: 'string', format: 'uuid' },
        },
      ],
      responses: {
        '200': {
          description: 'The revoked token.',
          content: json({ $ref: '#/components/schemas/KubeconfigToken' }),
        },
        default: errorResponse,
      },
    },
  },
} as const;

export const brokerSchemas = {
  ...operationSchemas,
  KubeconfigToken: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      actorRef: { type: 'string' },
      actorKind: { type: 'string', enum: ['user', 'service'] },
      cluster: { type: 'string' },
      access: { type: 'string', enum: ['read', 'write'] },
      createdAt: { type: 'string', format: 'date-time' },
      expiresAt: { type: 'string', format: 'date-time' },
      revokedAt: { type: 'string', format: 'date-time' },
      revokedBy: { type: 'string' },
      state: { type: 'string', enum: ['active', 'expired', 'revoked'] },
    },
    required: [
      'id',
      'actorRef',
      'actorKind',
      'cluster',
      'access',
      'createdAt',
      'expiresAt',
      'state',
    ],
  },
} as const;
