import { createValidatedOpenApiRouter } from '@backstage/backend-openapi-utils';
import { Router } from 'express';
import { spec } from './openapi';

/**
 * The plugin's express router. Requests are validated against the OpenAPI
 * document before a handler runs; the handlers validate bodies further with
 * the kmp-common zod schemas, which are stricter than JSON Schema can say.
 */
export type KmpApiRouter = Router;

export function createKmpApiRouter(): KmpApiRouter {
  return createValidatedOpenApiRouter<typeof spec>(spec) as unknown as Router;
}
