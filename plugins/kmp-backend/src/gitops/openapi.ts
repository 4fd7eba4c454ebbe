/**
 * OpenAPI paths and schemas of GitOps publishing: manifests from the portal
 * (ClickOps) committed to the cluster's GitOps repository.
 */

import { clusterNameParam, errorResponse, json } from '../schema/fragments';

export const gitopsSchemas = {
  GitopsPublishResult: {
    type: 'object',
    properties: {
      commit: {
        type: 'string',
        description:
          'The commit on the branch: the new one, or the head when nothing changed',
      },
      branch: { type: 'string' },
      repoUrl: {
        type: 'string',
        description: 'The GitOps repository (never with credentials)',
      },
      paths: {
        type: 'array',
        items: { type: 'string' },
        description: 'Repository paths of the files written',
      },
      changed: {
        type: 'boolean',
        description: 'False when the repository already declared all of it',
      },
      auditId: { type: 'string', format: 'uuid' },
    },
    required: ['commit', 'branch', 'repoUrl', 'paths', 'changed', 'auditId'],
  },
} as const;

export const gitopsPaths = {
  '/clusters/{name}/gitops/publish': {
    post: {
      operationId: 'PublishToGitops',
      description:
        "Commits Kubernetes objects of one namespace to the GitOps repository of the cluster's environment group (kmp.goldenPaths.gitops), under the repository's layout for the cluster and namespace: an object already declared there is updated in place (merged like server-side apply), any other gets a file of its own. The commit is authored by the caller and carries the audit id. Allowed where the persona matrix lets the caller change objects in that namespace — directly (non-production) or through GitOps (production) — and checked against the cluster's policy bundle first: a denial answers 403 naming every violation. The YAML in Git is the record of the change; Secrets are refused (their values do not belong in Git).",
      security: [{}, { JWT: [] }],
      parameters: [clusterNameParam],
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          properties: {
            manifests: {
              description:
                'Kubernetes objects, as an array of objects or as YAML (several documents separated by ---)',
              oneOf: [
                {
                  type: 'array',
                  minItems: 1,
                  maxItems: 100,
                  items: { type: 'object' },
                },
                { type: 'string', minLength: 1, maxLength: 1048576 },
              ],
            },
            message: {
              type: 'string',
              maxLength: 2000,
              description:
                'Commit message; default "kmp: publish <objects> to <cluster>/<namespace>"',
            },
            namespace: {
              type: 'string',
              maxLength: 63,
              pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
              description:
                "The objects' namespace; default the namespace the objects name",
            },
          },
          required: ['manifests'],
          additionalProperties: false,
        }),
      },
      responses: {
        '200': {
          description: 'The repository already declared all of it; no commit.',
          content: json({ $ref: '#/components/schemas/GitopsPublishResult' }),
        },
        '201': {
          description: 'Committed and pushed.',
          content: json({ $ref: '#/components/schemas/GitopsPublishResult' }),
        },
        default: errorResponse,
      },
    },
  },
} as const;
