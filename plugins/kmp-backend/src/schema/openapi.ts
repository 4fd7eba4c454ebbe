/**
 * The OpenAPI document of the KMP backend. It is both the published contract
 * (served at `/api/kmp/openapi.json`) and the request validator: routes are
 * mounted on a router created from it, so a request that does not match it is
 * rejected with a 400 before a handler runs.
 */
import { alertsPaths, alertsSchemas } from '../alerts/openapi';
import { auditPaths, auditSchemas } from '../audit/openapi';
import { brokerPaths, brokerSchemas } from '../broker/openapi';
import { breakGlassPaths, breakGlassSchemas } from '../breakglass/openapi';
import { gitopsPaths, gitopsSchemas } from '../gitops/openapi';
import { healthPaths, healthSchemas } from '../health/openapi';
import { personaPaths, personaSchemas } from '../personas/openapi';
import { policyPaths, policySchemas } from '../policy/openapi';
import { registryPaths, registrySchemas } from '../registry/openapi';

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
      ...healthSchemas,
      ...auditSchemas,
      ...registrySchemas,
      ...policySchemas,
      ...brokerSchemas,
      ...personaSchemas,
      ...breakGlassSchemas,
      ...gitopsSchemas,
      ...alertsSchemas,
    },
    securitySchemes: {
      JWT: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    },
  },
  paths: {
    ...healthPaths,
    ...auditPaths,
    ...registryPaths,
    ...policyPaths,
    ...brokerPaths,
    ...personaPaths,
    ...breakGlassPaths,
    ...gitopsPaths,
    ...alertsPaths,
  },
} as const;
