import { Config } from '@backstage/config';
import path from 'node:path';
import { z } from 'zod';

const dnsLabel = z
  .string()
  .max(63)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    "must be a DNS-1123 label: lower-case letters, digits and '-'",
  );

/**
 * One GitOps repository of `kmp.goldenPaths.gitops.repositories`: the
 * repository that configures the clusters of one environment group.
 *
 * @public
 */
export const gitopsRepositorySchema = z
  .object({
    /** Environment group whose clusters this repository configures. */
    environmentGroup: dnsLabel,
    url: z
      .url({ protocol: /^https?$/ })
      .refine(u => !new URL(u).username && !new URL(u).password, {
        message: 'credentials go in auth, never in the URL',
      }),
    branch: z.string().min(1).default('main'),
    /**
     * Folder of one namespace's manifests; `{cluster}`, `{environmentGroup}`
     * and `{namespace}` are replaced.
     */
    path: z
      .string()
      .min(1)
      .default('clusters/{cluster}/namespaces/{namespace}')
      .refine(p => !p.startsWith('/') && !p.split('/').includes('..'), {
        message: 'must be a relative path without ..',
      }),
    auth: z
      .object({
        username: z.string().min(1).default('x-access-token'),
        password: z.string().min(1),
      })
      .strict()
      .optional(),
  })
  .strict();

/** @public */
export type GitopsRepository = z.infer<typeof gitopsRepositorySchema>;

/** @public */
export interface GitIdentity {
  name: string;
  email: string;
}

const DEFAULT_COMMITTER: GitIdentity = {
  name: 'KMP GitOps publisher',
  email: 'kmp-gitops@backstage.invalid',
};

/**
 * `kmp.goldenPaths.gitops`: the committer of published commits and the
 * repository of each environment group.
 *
 * @public
 */
export const gitopsConfigSchema = z
  .object({
    committer: z
      .object({ name: z.string().min(1), email: z.string().min(3) })
      .strict()
      .default(DEFAULT_COMMITTER),
    repositories: z.array(gitopsRepositorySchema).default([]),
  })
  .strict()
  .default({ committer: DEFAULT_COMMITTER, repositories: [] });

/** @public */
export interface GitopsConfig {
  committer: GitIdentity;
  repositories: GitopsRepository[];
}

/** The config key of the GitOps settings. */
const KEY = 'kmp.goldenPaths.gitops';

/**
 * Reads `kmp.goldenPaths.gitops`, validated and with defaults; a malformed
 * setting throws one line naming the key, e.g.
 * `Invalid configuration at kmp.goldenPaths.gitops.repositories[0].url: …`.
 * Both the scaffolder's `kmp:gitops:publish` and the KMP backend's publish
 * route read it, so a repository is configured once.
 *
 * @public
 */
export function readGitopsConfig(config: Config): GitopsConfig {
  const parsed = gitopsConfigSchema.safeParse(config.getOptional(KEY));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.reduce<string>(
      (acc, part) =>
        typeof part === 'number' ? `${acc}[${part}]` : `${acc}.${String(part)}`,
      KEY,
    );
    throw new Error(`Invalid configuration at ${key}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * The GitOps repository of an environment group, if one is configured.
 *
 * @public
 */
export function gitopsRepositoryFor(
  config: GitopsConfig,
  environmentGroup: string,
): GitopsRepository | undefined {
  return config.repositories.find(r => r.environmentGroup === environmentGroup);
}

/**
 * The repository folder of one namespace on one cluster under the
 * repository's layout (`path`), optionally a sub-folder of it.
 *
 * @public
 */
export function gitopsLayoutFolder(
  repo: Pick<GitopsRepository, 'path'>,
  values: { cluster: string; environmentGroup: string; namespace: string },
  folder?: string,
): string {
  const base = repo.path
    .replaceAll('{cluster}', values.cluster)
    .replaceAll('{environmentGroup}', values.environmentGroup)
    .replaceAll('{namespace}', values.namespace);
  return path.posix.normalize(folder ? `${base}/${folder}` : base);
}
