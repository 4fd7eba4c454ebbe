import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import {
  policyDistributionModeSchema,
  policyEnforcementSchema,
} from '@kmp/plugin-kmp-common';
import path from 'node:path';
import { z } from 'zod';
import { describeConfigIssue } from '../registry/config';

/** The bundle shipped with the plugin. */
export const DEFAULT_BUNDLE_DIR = resolvePackagePath(
  '@kmp/plugin-kmp-backend',
  'policies',
);

const policyConfigSchema = z
  .object({
    bundleDir: z.string().min(1).optional(),
    enforcement: z
      .object({
        'non-production': policyEnforcementSchema.optional(),
        edge: policyEnforcementSchema.optional(),
      })
      .strict()
      .optional(),
    limits: z
      .object({
        maxManifests: z.number().int().min(1).max(5000).optional(),
      })
      .strict()
      .optional(),
    distribution: z
      .object({
        mode: policyDistributionModeSchema.optional(),
        gitopsDir: z.string().min(1).optional(),
        gitopsPath: z
          .string()
          .min(1)
          .refine(p => !p.startsWith('/') && !p.split('/').includes('..'), {
            message: 'must be a relative path without ..',
          })
          .optional(),
      })
      .strict()
      .optional(),
    compliance: z
      .object({
        enabled: z.boolean().optional(),
        intervalSeconds: z.number().int().min(10).optional(),
        concurrency: z.number().int().min(1).max(64).optional(),
        timeoutSeconds: z.number().int().min(1).max(600).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export interface PolicyConfig {
  bundleDir: string;
  enforcement: z.infer<typeof policyConfigSchema>['enforcement'];
  maxManifests: number;
  distribution: {
    mode: z.infer<typeof policyDistributionModeSchema>;
    gitopsDir?: string;
    /** Folder of a cluster's policies in its GitOps repository. */
    gitopsPath: string;
  };
  compliance: {
    enabled: boolean;
    intervalSeconds: number;
    concurrency: number;
    timeoutSeconds: number;
  };
}

/** Reads `kmp.policy`; throws one line naming the key when it is malformed. */
export function readPolicyConfig(config: Config): PolicyConfig {
  const parsed = policyConfigSchema.safeParse(
    config.getOptional('kmp.policy') ?? {},
  );
  if (!parsed.success) {
    throw new InputError(describeConfigIssue('kmp.policy', parsed.error));
  }
  const c = parsed.data;
  return {
    bundleDir: c.bundleDir ? path.resolve(c.bundleDir) : DEFAULT_BUNDLE_DIR,
    enforcement: c.enforcement,
    maxManifests: c.limits?.maxManifests ?? 500,
    distribution: {
      mode: c.distribution?.mode ?? 'apply',
      gitopsDir: c.distribution?.gitopsDir
        ? path.resolve(c.distribution.gitopsDir)
        : undefined,
      gitopsPath:
        c.distribution?.gitopsPath ?? 'clusters/{cluster}/kmp-policies',
    },
    compliance: {
      enabled: c.compliance?.enabled ?? true,
      intervalSeconds: c.compliance?.intervalSeconds ?? 300,
      concurrency: c.compliance?.concurrency ?? 4,
      timeoutSeconds: c.compliance?.timeoutSeconds ?? 30,
    },
  };
}
