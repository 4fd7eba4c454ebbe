import { z } from 'zod';
import { dnsLabelSchema, entityRefSchema, environmentSchema } from './common';

/**
 * How KMP reaches a cluster: `direct` to its API server, `edge` through an
 * outbound-only agent tunnel, `edge-async` through queued commands that an
 * intermittently connected agent collects.
 *
 * @public
 */
export const connectivitySchema = z.enum(['direct', 'edge', 'edge-async']);

/** @public */
export type Connectivity = z.infer<typeof connectivitySchema>;

/**
 * Lifecycle of a cluster in the registry.
 *
 * @public
 */
export const clusterLifecycleStateSchema = z.enum([
  'registering',
  'active',
  'degraded',
  'unreachable',
  'decommissioned',
]);

/** @public */
export type ClusterLifecycleState = z.infer<typeof clusterLifecycleStateSchema>;

/**
 * A region identifier such as `eu-west-1`, `dc-frankfurt` or `store-0042`.
 *
 * @public
 */
export const regionSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/,
    "must be lower-case letters, digits, '-', '_' or '.'",
  );

/**
 * A Kubernetes version as reported by `/version`, e.g. `v1.34.2` or
 * `v1.33.5+k3s1`.
 *
 * @public
 */
export const kubernetesVersionSchema = z
  .string()
  .regex(
    /^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.+-]*)?$/,
    'must be a Kubernetes version such as v1.34.2',
  );

/**
 * A cluster as the registry knows it. Credentials are deliberately absent:
 * they live encrypted in the backend and never leave it.
 *
 * @public
 */
export const clusterSchema = z.object({
  name: dnsLabelSchema,
  title: z.string().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
  environment: environmentSchema,
  environmentGroup: dnsLabelSchema,
  region: regionSchema,
  profile: dnsLabelSchema,
  distribution: z.string().min(1).max(63).optional(),
  kubernetesVersion: kubernetesVersionSchema.optional(),
  connectivity: connectivitySchema,
  lifecycleState: clusterLifecycleStateSchema,
  owner: entityRefSchema,
  apiServerUrl: z.url({ protocol: /^https?$/ }).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

/** @public */
export type Cluster = z.infer<typeof clusterSchema>;
