import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { z } from 'zod';
import { describeConfigIssue } from '../registry/config';

const breakGlassConfigSchema = z
  .object({
    /** Longest grant a person may ask for. */
    maxDurationSeconds: z.number().int().min(60).max(86_400).default(14_400),
    /** A request's duration when it names none. */
    defaultDurationSeconds: z.number().int().min(60).max(86_400).default(3_600),
    /** How long a request waits for a decision before it lapses. */
    pendingSeconds: z.number().int().min(60).max(604_800).default(3_600),
  })
  .strict()
  .refine(c => c.defaultDurationSeconds <= c.maxDurationSeconds, {
    message: 'defaultDurationSeconds must not exceed maxDurationSeconds',
  });

/** Settings of break-glass (`kmp.breakGlass`). */
export type BreakGlassConfig = z.infer<typeof breakGlassConfigSchema>;

/**
 * Reads `kmp.breakGlass`; a malformed value fails start-up with one line
 * naming the key.
 */
export function readBreakGlassConfig(config: Config): BreakGlassConfig {
  const parsed = breakGlassConfigSchema.safeParse(
    config.getOptional('kmp.breakGlass') ?? {},
  );
  if (!parsed.success) {
    throw new InputError(describeConfigIssue('kmp.breakGlass', parsed.error));
  }
  return parsed.data;
}
