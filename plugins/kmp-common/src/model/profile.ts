import { z } from 'zod';
import { dnsLabelSchema, environmentSchema } from './common';

/**
 * The Pod Security Standards level a profile enforces on tenant namespaces.
 *
 * @public
 */
export const podSecurityLevelSchema = z.enum([
  'privileged',
  'baseline',
  'restricted',
]);

/** @public */
export type PodSecurityLevel = z.infer<typeof podSecurityLevelSchema>;

/**
 * A cluster profile: the standard a cluster is built and governed to
 * (for example `production-hardened`, `edge-minimal`).
 *
 * @public
 */
export const clusterProfileSchema = z.object({
  name: dnsLabelSchema,
  title: z.string().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
  environment: environmentSchema,
  podSecurity: podSecurityLevelSchema,
  policyOverlays: z.array(dnsLabelSchema).default([]),
});

/** @public */
export type ClusterProfile = z.infer<typeof clusterProfileSchema>;
