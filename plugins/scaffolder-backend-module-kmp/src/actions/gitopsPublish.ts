import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { RegisteredCluster } from '@kmp/plugin-kmp-common';
import { promises as fs } from 'node:fs';
import { stringify } from 'yaml';
import { z as zod } from 'zod/v3';
import {
  GitIdentity,
  gitopsLayoutFolder,
  GitopsPublisher,
  gitopsRepositoryFor,
  GitopsRepository,
  PublishEntry,
  PublishResult,
  readFolderFiles,
} from '@kmp/plugin-kmp-node';
import { GoldenPathsConfig } from '../config';
import {
  KmpActionDeps,
  dnsLabel,
  initiatorClient,
  parseActionInput,
} from './util';

const ID = 'kmp:gitops:publish';

const relativePath = (z: typeof zod) =>
  z
    .string()
    .min(1)
    .refine(p => !p.startsWith('/') && !p.split('/').includes('..'), {
      message: 'must be a relative path without ..',
    });

const inputSchema = (z: typeof zod) =>
  z
    .object({
      clusters: z
        .array(dnsLabel(z))
        .min(1)
        .max(100)
        .optional()
        .describe('Clusters whose GitOps folders receive the manifests'),
      environmentGroup: dnsLabel(z)
        .optional()
        .describe('Or: every cluster of this environment group'),
      namespace: dnsLabel(z).describe('Namespace the manifests belong to'),
      sourcePath: relativePath(z).describe(
        'Workspace folder of the manifests; {cluster} is replaced per cluster',
      ),
      folder: relativePath(z)
        .optional()
        .describe(
          "Sub-folder of the namespace's folder this publication owns, e.g. tenant or apps/payments-api",
        ),
      title: z
        .string()
        .min(1)
        .max(200)
        .optional()
        .describe('First line of the commit message'),
      review: z
        .boolean()
        .default(false)
        .describe('Push to a review branch instead of the base branch'),
      branch: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'must be a branch name')
        .refine(b => !b.includes('..') && !b.endsWith('/'), {
          message: 'must be a branch name',
        })
        .optional()
        .describe('Review branch; default kmp/<namespace>[-<folder>]'),
      dryRun: z
        .boolean()
        .default(false)
        .describe('Commit locally, push nothing'),
    })
    .strict();

/** A workspace folder's files; a missing folder is an error here. */
async function readFolder(dir: string): Promise<Map<string, string>> {
  await fs.stat(dir);
  return readFolderFiles(dir);
}

/** The initiator as a Git identity: catalog profile, else the entity ref. */
function authorOf(user?: {
  ref?: string;
  entity?: { spec?: { profile?: { displayName?: string; email?: string } } };
}): GitIdentity {
  const ref = user?.ref;
  if (!ref) {
    throw new InputError(`${ID} needs a user to author the commit`);
  }
  const { name } = parseEntityRef(ref);
  const profile = user?.entity?.spec?.profile;
  return {
    name: profile?.displayName ?? name,
    email: profile?.email ?? `${name}@users.noreply.backstage.invalid`,
  };
}

/**
 * `kmp:gitops:publish` writes manifests into the GitOps repository of each
 * cluster's environment group (layout from `kmp.goldenPaths.gitops`), as one
 * commit per repository authored by the initiator, and pushes it to the
 * base branch or to a review branch. For production this is the only way a
 * template delivers. Re-running with the same content makes no commit.
 *
 * @public
 */
export function createGitopsPublishAction(
  deps: KmpActionDeps & { config: GoldenPathsConfig },
) {
  const { config } = deps;
  return createTemplateAction({
    id: ID,
    description:
      "Publishes manifests to the environment's GitOps repository as one commit authored by the user running the template, optionally on a review branch.",
    supportsDryRun: true,
    examples: [
      {
        description: 'Publish a tenant namespace for review',
        example: stringify({
          steps: [
            {
              id: 'publish',
              action: ID,
              input: {
                clusters: ['payments-prod-eu1'],
                namespace: 'payments-api',
                sourcePath: 'namespaces/{cluster}',
                folder: 'tenant',
                review: true,
              },
            },
          ],
        }),
      },
    ],
    schema: {
      input: inputSchema,
      output: z =>
        z.object({
          commits: z
            .array(z.record(z.unknown()))
            .describe(
              'Per repository: repoUrl, branch, baseBranch, commit, changed, pushed, files',
            ),
          repoUrl: z.string(),
          branch: z.string(),
          commit: z.string(),
          changed: z.boolean(),
        }),
    },
    async handler(ctx) {
      const input = parseActionInput(ID, inputSchema(zod), ctx.input);
      if (!!input.clusters === !!input.environmentGroup) {
        throw new InputError(
          `Invalid input to ${ID}: give either clusters or environmentGroup`,
        );
      }
      const dryRun = input.dryRun || !!ctx.isDryRun;
      const author = authorOf(ctx.user);

      // Cluster facts come from the registry as the initiator: one cannot
      // publish to a cluster one may not see.
      const client = await initiatorClient(deps, ctx);
      const clusters: RegisteredCluster[] = input.clusters
        ? await Promise.all(input.clusters.map(c => client.getCluster(c)))
        : await client.listClusters(input.environmentGroup!);
      if (clusters.length === 0) {
        throw new InputError(
          `Environment group ${input.environmentGroup} has no clusters you may see`,
        );
      }

      const byRepo = new Map<
        GitopsRepository,
        { clusters: string[]; entries: PublishEntry[] }
      >();
      for (const cluster of clusters) {
        const repo = gitopsRepositoryFor(
          config.gitops,
          cluster.environmentGroup,
        );
        if (!repo) {
          throw new InputError(
            `No GitOps repository is configured for environment group ${cluster.environmentGroup} (kmp.goldenPaths.gitops.repositories)`,
          );
        }
        const source = resolveSafeChildPath(
          ctx.workspacePath,
          input.sourcePath.replaceAll('{cluster}', cluster.name),
        );
        const files = await readFolder(source).catch(() => {
          throw new InputError(
            `No manifests at ${input.sourcePath.replaceAll(
              '{cluster}',
              cluster.name,
            )} in the workspace`,
          );
        });
        if (files.size === 0) {
          throw new InputError(`${input.sourcePath} is empty`);
        }
        const group = byRepo.get(repo) ?? { clusters: [], entries: [] };
        group.clusters.push(cluster.name);
        group.entries.push({
          folder: gitopsLayoutFolder(
            repo,
            {
              cluster: cluster.name,
              environmentGroup: cluster.environmentGroup,
              namespace: input.namespace,
            },
            input.folder,
          ),
          files,
        });
        byRepo.set(repo, group);
      }

      const what = input.folder
        ? `${input.namespace}/${input.folder}`
        : input.namespace;
      const reviewBranch = input.review
        ? input.branch ??
          `kmp/${input.namespace}${
            input.folder ? `-${input.folder.replaceAll('/', '-')}` : ''
          }`
        : undefined;

      const results: PublishResult[] = [];
      for (const [repo, group] of byRepo) {
        const title =
          input.title ?? `kmp: publish ${what} to ${group.clusters.join(', ')}`;
        const message = [
          title,
          '',
          `Requested by ${ctx.user?.ref} through Backstage${
            ctx.task?.id ? ` (task ${ctx.task.id})` : ''
          }${
            ctx.templateInfo?.entityRef
              ? ` with ${ctx.templateInfo.entityRef}`
              : ''
          }.`,
          `Clusters: ${group.clusters.join(', ')}`,
          '',
        ].join('\n');
        const publisher = GitopsPublisher.create({
          repository: repo,
          committer: config.gitops.committer,
        });
        const result = await publisher.publish({
          dir: await ctx.createTemporaryDirectory(),
          entries: group.entries,
          message,
          author,
          reviewBranch,
          dryRun,
        });
        ctx.logger.info(
          result.changed
            ? `${dryRun ? '[dry run] Would publish' : 'Published'} ${what} to ${
                repo.url
              } (${result.branch}): commit ${result.commit}, ${
                result.files.length
              } files`
            : `${repo.url} (${result.branch}) already has ${what}; no commit`,
        );
        results.push(result);
      }

      ctx.output('commits', results as unknown as Record<string, unknown>[]);
      ctx.output('repoUrl', results[0].repoUrl);
      ctx.output('branch', results[0].branch);
      ctx.output('commit', results[0].commit);
      ctx.output(
        'changed',
        results.some(r => r.changed),
      );
    },
  });
}
