import { Config, readDurationFromConfig } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { durationToMilliseconds } from '@backstage/types';
import { z } from 'zod';
import { describeConfigIssue } from '../registry/config';

export interface AuditSinkConfig {
  name: string;
  kind: string;
  /** The whole `kmp.audit.sinks[]` entry, for the kind's factory. */
  config: Config;
  batchSize: number;
  timeoutMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  startFrom: 'beginning' | 'end';
}

export interface AuditRetentionConfig {
  maxAgeMs: number;
  checkpointKey: string;
  exportDirectory?: string;
  frequencyMs: number;
}

export interface AuditConfig {
  sinks: AuditSinkConfig[];
  retention?: AuditRetentionConfig;
  /** The key that signs and checks retention checkpoints, when configured. */
  checkpointKey?: string;
  forwardAuditorEvents: boolean;
  maxBatchSize: number;
}

const sinkSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/,
        "must be lower-case letters, digits, '-', '_' or '.', at most 63 characters",
      ),
    kind: z.string().min(1),
    batchSize: z.number().int().min(1).max(10_000).default(500),
    timeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    minBackoffMs: z.number().int().min(1).default(500),
    maxBackoffMs: z.number().int().min(1).default(60_000),
    startFrom: z.enum(['beginning', 'end']).default('beginning'),
  })
  .loose();

/**
 * Reads `kmp.audit`. Throws an InputError with one line naming the offending
 * key when it is malformed or names a sink kind nobody registered.
 */
export function readAuditConfig(
  root: Config,
  knownKinds: string[],
): AuditConfig {
  const audit = root.getOptionalConfig('kmp.audit');
  const sinkConfigs = audit?.getOptionalConfigArray('sinks') ?? [];
  const seen = new Set<string>();
  const sinks = sinkConfigs.map((config, index) => {
    const key = `kmp.audit.sinks[${index}]`;
    const parsed = sinkSchema.safeParse(config.get());
    if (!parsed.success) {
      throw new InputError(describeConfigIssue(key, parsed.error));
    }
    const sink = parsed.data;
    if (!knownKinds.includes(sink.kind)) {
      throw new InputError(
        `Invalid configuration at ${key}.kind: unknown audit sink kind '${
          sink.kind
        }'; known kinds: ${knownKinds.join(', ')}`,
      );
    }
    if (seen.has(sink.name)) {
      throw new InputError(
        `Invalid configuration at ${key}.name: '${sink.name}' is declared twice`,
      );
    }
    if (sink.maxBackoffMs < sink.minBackoffMs) {
      throw new InputError(
        `Invalid configuration at ${key}.maxBackoffMs: must not be below minBackoffMs`,
      );
    }
    seen.add(sink.name);
    return {
      name: sink.name,
      kind: sink.kind,
      config,
      batchSize: sink.batchSize,
      timeoutMs: sink.timeoutMs,
      minBackoffMs: sink.minBackoffMs,
      maxBackoffMs: sink.maxBackoffMs,
      startFrom: sink.startFrom,
    };
  });

  const checkpointKey = audit?.getOptionalString('retention.checkpointKey');
  if (checkpointKey !== undefined && checkpointKey.length < 32) {
    throw new InputError(
      'Invalid configuration at kmp.audit.retention.checkpointKey: must be at least 32 characters',
    );
  }
  let retention: AuditRetentionConfig | undefined;
  const retentionConfig = audit?.getOptionalConfig('retention');
  if (retentionConfig?.has('maxAge')) {
    const readMs = (key: string) => {
      try {
        return durationToMilliseconds(
          readDurationFromConfig(retentionConfig, { key }),
        );
      } catch (error) {
        throw new InputError(
          `Invalid configuration at kmp.audit.retention.${key}: ${
            error instanceof Error ? error.message : error
          }`,
        );
      }
    };
    const maxAgeMs = readMs('maxAge');
    if (!(maxAgeMs > 0)) {
      throw new InputError(
        'Invalid configuration at kmp.audit.retention.maxAge: must be a positive duration',
      );
    }
    if (!checkpointKey) {
      throw new InputError(
        'Invalid configuration at kmp.audit.retention.checkpointKey: required when maxAge is set, to sign the checkpoints that keep the pruned chain verifiable',
      );
    }
    retention = {
      maxAgeMs,
      checkpointKey,
      exportDirectory: retentionConfig.getOptionalString('exportDirectory'),
      frequencyMs: retentionConfig.has('frequency')
        ? readMs('frequency')
        : 60 * 60 * 1000,
    };
  }

  const maxBatchSize = audit?.getOptionalNumber('writer.maxBatchSize') ?? 5000;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new InputError(
      'Invalid configuration at kmp.audit.writer.maxBatchSize: must be a positive integer',
    );
  }
  return {
    sinks,
    retention,
    checkpointKey,
    forwardAuditorEvents:
      audit?.getOptionalBoolean('forwardAuditorEvents') ?? true,
    maxBatchSize,
  };
}
