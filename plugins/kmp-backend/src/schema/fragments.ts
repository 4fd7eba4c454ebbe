/** Building blocks shared by the domains' OpenAPI fragments. */

/** The error response every KMP route may answer with. */
export const errorResponse = {
  $ref: '#/components/responses/ErrorResponse',
} as const;

/** A JSON content map for a request or response body. */
export const json = <T>(schema: T) =>
  ({ 'application/json': { schema } } as const);

/**
 * A repeatable query parameter (`?name=a&name=b`), at most `maxItems`
 * values; one value arrives as a string, several as an array.
 */
export const listParam = (
  name: string,
  description: string,
  items: object,
  maxItems = 50,
) =>
  ({
    name,
    in: 'query',
    required: false,
    description,
    style: 'form',
    explode: true,
    schema: { type: 'array', items, maxItems },
  } as const);

/** A query parameter's value as a list (given once it is a string). */
export function queryList(value: unknown): unknown[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value : [value];
}

/** The `limit` (1 to 1000, default 100) and `offset` of a paged list. */
export const pagingParams = [
  {
    name: 'limit',
    in: 'query',
    required: false,
    schema: { type: 'string', pattern: '^([1-9][0-9]{0,2}|1000)$' },
    description: 'Page size, 1 to 1000 (default 100)',
  },
  {
    name: 'offset',
    in: 'query',
    required: false,
    schema: { type: 'string', pattern: '^[0-9]{1,9}$' },
    description: 'Items to skip (default 0)',
  },
] as const;

/** At most this many clusters per list filter: one page of the fleet table. */
export const MAX_CLUSTER_FILTER = 100;

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
