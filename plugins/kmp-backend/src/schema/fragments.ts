/** Building blocks shared by the domains' OpenAPI fragments. */

/** The error response every KMP route may answer with. */
export const errorResponse = {
  $ref: '#/components/responses/ErrorResponse',
} as const;

/** A JSON content map for a request or response body. */
export const json = <T>(schema: T) =>
  ({ 'application/json': { schema } } as const);

/** A `{name}` path parameter holding a cluster name (DNS-1123 label). */
export const clusterNameParam = {
  name: 'name',
  in: 'path',
  required: true,
  description: 'Cluster name (DNS-1123 label)',
  schema: {
    type: 'string',
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    maxLength: 63,
  },
} as const;
