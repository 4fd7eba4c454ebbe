import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { z } from 'zod';
import { describeConfigIssue } from '../registry/config';

const MiB = 1024 * 1024;

const brokerConfigSchema = z
  .object({
    /** Read by the registry and the catalog module, not by the proxy. */
    externalUrl: z.string().optional(),
    gitopsIdentities: z.array(z.string().min(1)).default([]),
    /**
     * How long a cluster's registry record (state, environment, URL) is
     * reused between requests; a decommission takes effect within it.
     */
    clusterCacheMs: z.number().int().min(0).max(60_000).default(1_000),
    maxRequestBodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * MiB)
      .default(3 * MiB),
    timeouts: z
      .object({
        connectMs: z.number().int().min(100).max(60_000).default(3_000),
        stallProbeMs: z.number().int().min(100).max(600_000).default(2_000),
        responseMs: z.number().int().min(1_000).max(3_600_000).default(60_000),
      })
      .strict()
      .default({ connectMs: 3_000, stallProbeMs: 2_000, responseMs: 60_000 }),
    circuitBreaker: z
      .object({
        failureThreshold: z.number().int().min(1).max(100).default(3),
        coolDownMs: z.number().int().min(100).max(600_000).default(10_000),
      })
      .strict()
      .default({ failureThreshold: 3, coolDownMs: 10_000 }),
    tokens: z
      .object({
        defaultTtlSeconds: z.number().int().min(60).max(86_400).default(3_600),
        maxTtlSeconds: z.number().int().min(60).max(604_800).default(28_800),
      })
      .strict()
      .default({ defaultTtlSeconds: 3_600, maxTtlSeconds: 28_800 })
      .refine(t => t.defaultTtlSeconds <= t.maxTtlSeconds, {
        message: 'defaultTtlSeconds must not exceed maxTtlSeconds',
      }),
  })
  .strict();

/** Settings of the access broker (`kmp.broker`). */
export type BrokerConfig = z.infer<typeof brokerConfigSchema>;

/**
 * Reads `kmp.broker`; a malformed value fails start-up with one line naming
 * the key.
 */
export function readBrokerConfig(config: Config): BrokerConfig {
  const parsed = brokerConfigSchema.safeParse(
    config.getOptional('kmp.broker') ?? {},
  );
  if (!parsed.success) {
    throw new InputError(describeConfigIssue('kmp.broker', parsed.error));
  }
  return parsed.data;
}
