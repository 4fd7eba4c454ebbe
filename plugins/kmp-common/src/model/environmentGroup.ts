import { z } from 'zod';
import { dnsLabelSchema, entityRefSchema, environmentSchema } from './common';

/**
 * A fleet segment: clusters grouped by environment, geography or function
 * (for example `payments-prod` or `retail-edge`). Personas are granted per
 * environment group.
 *
 * @public
 */
export const environmentGroupSchema = z.object({
  name: dnsLabelSchema,
  title: z.string().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
  environment: environmentSchema,
  owner: entityRefSchema,
});

/** @public */
export type EnvironmentGroup = z.infer<typeof environmentGroupSchema>;
