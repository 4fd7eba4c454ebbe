import {
  ApiRouter,
  createValidatedOpenApiRouter,
} from '@backstage/backend-openapi-utils';
import { spec } from './openapi';

/** The express router typed and validated by the plugin's OpenAPI spec. */
export type KmpApiRouter = ApiRouter<typeof spec>;

export function createKmpApiRouter(): KmpApiRouter {
  return createValidatedOpenApiRouter<typeof spec>(spec);
}
