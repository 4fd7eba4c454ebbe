/**
 * The OpenAPI document of the KMP backend. It is both the published contract
 * (served at `/api/kmp/openapi.json`) and the request validator: routes are
 * mounted on a router created from it, so a request that does not match it is
 * rejected with a 400 before a handler runs.
 */
export const spec = {
  openapi: '3.1.0',
  info: {
    title: 'kmp',
    version: '1',
    description:
      'Kubernetes Management Platform for Backstage: cluster registry, access broker, audit and policy governance.',
    license: { name: 'Apache-2.0' },
  },
  servers: [{ url: '/' }],
  components: {
    examples: {},
    headers: {},
    parameters: {},
    requestBodies: {},
    responses: {
      ErrorResponse: {
        description: 'An error response from the backend.',
        content: {
          'application/json': {
            schema: { $ref: '#/components/schemas/Error' },
          },
        },
      },
    },
    schemas: {
      Error: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              message: { type: 'string' },
            },
            required: ['name', 'message'],
          },
          request: {
            type: 'object',
            properties: {
              method: { type: 'string' },
              url: { type: 'string' },
            },
          },
          response: {
            type: 'object',
            properties: { statusCode: { type: 'number' } },
          },
        },
        required: ['error', 'response'],
      },
      Health: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: ['ok', 'unavailable'] },
          database: { type: 'string', enum: ['ok', 'unavailable'] },
        },
        required: ['status', 'database'],
      },
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
    },
    securitySchemes: {
      JWT: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    },
  },
  paths: {
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
  },
} as const;
