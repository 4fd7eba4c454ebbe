import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import {
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
