/** OpenAPI paths and schemas of the persona RBAC mapper. */
import { errorResponse, json } from '../schema/fragments';

export const personaPaths = {
  '/me': {
    get: {
      operationId: 'GetMe',
      description:
        'The caller as KMP sees them: entity ref (or service subject), ownership refs, whether they are the GitOps identity, and their personas per environment group (from kmp.personas). The portal shows or hides actions with it and the persona matrix; the broker and the permission policy decide with the same mapping.',
      security: [{}, { JWT: [] }],
      responses: {
        '200': {
          description: 'The caller and their personas.',
          content: json({ $ref: '#/components/schemas/Me' }),
        },
        default: errorResponse,
      },
    },
  },
} as const;

export const personaSchemas = {
  Me: {
    type: 'object',
    properties: {
      user: { type: 'string' },
      ownershipRefs: { type: 'array', items: { type: 'string' } },
      gitops: { type: 'boolean' },
      personas: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            environmentGroup: { type: 'string' },
            environment: {
              type: 'string',
              enum: ['production', 'non-production', 'edge'],
            },
            persona: {
              type: 'string',
              enum: ['developer', 'ops', 'platform-engineer', 'edge-operator'],
            },
          },
          required: ['environmentGroup', 'environment', 'persona'],
        },
      },
    },
    required: ['user', 'ownershipRefs', 'gitops', 'personas'],
  },
} as const;
