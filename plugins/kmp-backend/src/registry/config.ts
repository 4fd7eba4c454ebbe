import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import {
  clusterProfileSchema,
  clusterRegistrationSchema,
  EnvironmentGroup,
  environmentGroupSchema,
} from '@kmp/plugin-kmp-common';
import { z } from 'zod';

/**
 * Formats the first issue of a failed parse as one line naming the config
 * key, e.g. `kmp.environmentGroups[1].environment: Invalid option: ...`.
 */
export function describeConfigIssue(root: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const key = issue.path.reduce<string>(
    (acc, part) =>
      typeof part === 'number' ? `${acc}[${part}]` : `${acc}.${String(part)}`,
    root,
  );
  return `Invalid configuration at ${key}: ${issue.message}`;
}

/**
 * Reads `kmp.environmentGroups`. Throws an InputError with one line naming
 * the offending key when the configuration is malformed.
 */
export function readEnvironmentGroupsConfig(
  config: Config,
): EnvironmentGroup[] {
  const raw = config.getOptional('kmp.environmentGroups') ?? [];
  const parsed = z.array(environmentGroupSchema.strict()).safeParse(raw);
  if (!parsed.success) {
    throw new InputError(
      describeConfigIssue('kmp.environmentGroups', parsed.error),
    );
  }
  const seen = new Set<string>();
  parsed.data.forEach((group, index) => {
    if (seen.has(group.name)) {
      throw new InputError(
        `Invalid configuration at kmp.environmentGroups[${index}].name: '${group.name}' is declared twice`,
      );
    }
    seen.add(group.name);
  });
  return parsed.data;
}

/** Settings of the registry's refresh loop. */
export interface RefreshSettings {
  intervalSeconds: number;
  timeoutSeconds: number;
  concurrency: number;
  unreachableAfter: number;
}

const refreshSchema = z
  .object({
    intervalSeconds: z.number().int().min(1).max(86400).default(30),
    timeoutSeconds: z.number().min(0.5).max(300).default(10),
    concurrency: z.number().int().min(1).max(256).default(16),
    unreachableAfter: z.number().int().min(1).max(100).default(2),
  })
  .strict();

const configuredClusterSchema = clusterRegistrationSchema;

/**
 * Reads `kmp.registry.*`, `kmp.profiles` and `kmp.clusters`, throwing an
 * InputError naming the key at the first problem.
 */
export function readRegistryConfig(config: Config) {
  const parse = <T extends z.ZodType>(
    key: string,
    schema: T,
    fallback: unknown,
  ) => {
    const result = schema.safeParse(config.getOptional(key) ?? fallback);
    if (!result.success) {
      throw new InputError(describeConfigIssue(key, result.error));
    }
    return result.data as z.infer<T>;
  };
  const refresh: RefreshSettings = parse(
    'kmp.registry.refresh',
    refreshSchema,
    {},
  );
  const profiles = parse(
    'kmp.profiles',
    z.array(clusterProfileSchema.strict()),
    [],
  );
  const clusters = parse('kmp.clusters', z.array(configuredClusterSchema), []);
  const encryptionKey = config.getOptionalString('kmp.registry.encryptionKey');
  const publicBrokerUrl = config.getOptionalString('kmp.broker.externalUrl');
  return { refresh, profiles, clusters, encryptionKey, publicBrokerUrl };
}
