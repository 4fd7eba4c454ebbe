/** OpenAPI paths and schemas of the health domain. */
export const healthPaths = {
  '/health': {
    get: {
      operationId: 'GetHealth',
      description:
        'Liveness and database reachability. Unauthenticated so that load balancers can probe it; reveals nothing but status.',
      responses: {
        '200': {
          description: 'The plugin is serving and its database answers.',
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/Health' },
            },
          },
        },
        '503': {
          description: 'The database does not answer.',
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/Health' },
            },
          },
        },
      },
    },
  },
} as const;

export const healthSchemas = {
  Health: {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ok', 'unavailable'] },
      database: { type: 'string', enum: ['ok', 'unavailable'] },
    },
    required: ['status', 'database'],
  },
} as const;
