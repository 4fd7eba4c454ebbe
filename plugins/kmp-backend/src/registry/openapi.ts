/** OpenAPI paths and schemas of the registry domain. */
export const registryPaths = {
  '/environment-groups': {
    get: {
      operationId: 'ListEnvironmentGroups',
      description: 'Lists the environment groups of the fleet.',
      security: [{}, { JWT: [] }],
      responses: {
        '200': {
          description: 'The environment groups, ordered by name.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  items: {
                    type: 'array',
                    items: {
                      $ref: '#/components/schemas/EnvironmentGroup',
                    },
                  },
                },
                required: ['items'],
              },
            },
          },
        },
        default: { $ref: '#/components/responses/ErrorResponse' },
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
} as const;
