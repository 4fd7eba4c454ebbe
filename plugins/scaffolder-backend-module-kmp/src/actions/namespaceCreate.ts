import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { RegisteredCluster } from '@kmp/plugin-kmp-common';
import { promises as fs } from 'node:fs';
import { stringify } from 'yaml';
import { z as zod } from 'zod/v3';
import { ApplyResult, ServerSideApply } from '../client/ServerSideApply';
import { GoldenPathsConfig } from '../config';
import { renderTenantNamespace } from '../namespace/renderTenantNamespace';
import {
  KmpActionDeps,
  dnsLabel,
  initiatorClient,
  parseActionInput,
} from './util';

const ID = 'kmp:namespace:create';

const inputSchema = (z: typeof zod) =>
  z
    .object({
      name: dnsLabel(z).describe('Name of the tenant namespace'),
      team: dnsLabel(z).describe(
        'Owning team: its group name, e.g. team-payments',
      ),
      owner: z
        .string()
        .min(1)
        .optional()
        .describe('Owner entity ref; default group:default/<team>'),
      costCentre: z
        .string()
        .min(1)
        .max(63)
        .regex(
          /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
          'must be a label value',
        )
        .describe('Cost centre for chargeback'),
      sizeTier: dnsLabel(z)
        .optional()
        .describe(
          'Size tier (kmp.goldenPaths.sizeTiers); default the platform default',
        ),
      clusters: z
        .array(dnsLabel(z))
        .min(1)
        .max(100)
        .optional()
        .describe('Clusters to create the namespace on'),
      environmentGroup: dnsLabel(z)
        .optional()
        .describe('Or: every cluster of this environment group'),
      target: z
        .object({
          cluster: dnsLabel(z).optional(),
          environmentGroup: dnsLabel(z).optional(),
        })
        .strict()
        .optional()
        .describe(
          'Or: the value of the KmpClusterPicker field, a cluster or an environment group',
        ),
      outputPath: z
        .string()
        .default('namespaces')
        .describe(
          'Workspace folder for the manifests, one sub-folder per cluster',
        ),
      dryRun: z
        .boolean()
        .default(false)
        .describe('Server-side dry run: validate everything, persist nothing'),
    })
    .strict();

const resultSchema = (z: typeof zod) =>
  z.object({
    cluster: z.string(),
    environment: z.string(),
    environmentGroup: z.string(),
    delivery: z
      .enum(['applied', 'gitops'])
      .describe('applied through the broker, or left for kmp:gitops:publish'),
    path: z.string().describe('Workspace folder of this cluster’s manifests'),
    objects: z.array(z.record(z.unknown())),
  });

/**
 * `kmp:namespace:create` creates a tenant namespace from the platform's
 * standard on one or more clusters, as the initiator, through the broker.
 * Production clusters only accept GitOps, so their manifests are written to
 * the workspace for `kmp:gitops:publish` and listed in `gitopsClusters`.
 *
 * @public
 */
export function createNamespaceCreateAction(
  deps: KmpActionDeps & { config: GoldenPathsConfig },
) {
  const { config } = deps;
  return createTemplateAction({
    id: ID,
    description:
      'Creates a tenant namespace (labels, Pod Security, quota, limits, network policies, role bindings) on clusters of the fleet, as the user running the template.',
    supportsDryRun: true,
    examples: [
      {
        description: 'A medium namespace on every cluster of a group',
        example: stringify({
          steps: [
            {
              id: 'namespace',
              action: ID,
              input: {
                name: 'payments-api',
                team: 'team-payments',
                costCentre: 'cc-1042',
                sizeTier: 'medium',
                environmentGroup: 'payments-nonprod',
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
          namespace: z.string(),
          sizeTier: z.string(),
          clusters: z.array(resultSchema(z)),
          appliedClusters: z.array(z.string()),
          gitopsClusters: z
            .array(z.string())
            .describe('Production clusters: publish with kmp:gitops:publish'),
          path: z.string(),
        }),
    },
    async handler(ctx) {
      const input = parseActionInput(ID, inputSchema(zod), ctx.input);
      const clusterNames =
        input.clusters ??
        (input.target?.cluster ? [input.target.cluster] : undefined);
      const environmentGroup =
        input.environmentGroup ?? input.target?.environmentGroup;
      if (
        !!clusterNames === !!environmentGroup ||
        (input.target && (input.clusters || input.environmentGroup))
      ) {
        throw new InputError(
          `Invalid input to ${ID}: give either clusters or environmentGroup (or target with one of them)`,
        );
      }
      const sizeTier = input.sizeTier ?? config.defaultSizeTier;
      const tier = config.sizeTiers[sizeTier];
      if (!tier) {
        throw new InputError(
          `Invalid input to ${ID} at sizeTier: '${sizeTier}' is not a size tier of the platform (${Object.keys(
            config.sizeTiers,
          ).join(', ')})`,
        );
      }
      const dryRun = input.dryRun || !!ctx.isDryRun;
      const client = await initiatorClient(deps, ctx);

      let targets: RegisteredCluster[];
      if (clusterNames) {
        targets = await Promise.all(
          clusterNames.map(c => client.getCluster(c)),
        );
      } else {
        targets = await client.listClusters(environmentGroup!);
        if (targets.length === 0) {
          throw new InputError(
            `Environment group ${environmentGroup} has no clusters you may see`,
          );
        }
      }
      const profiles = new Map(
        (await client.listProfiles()).map(p => [p.name, p]),
      );

      const results: zod.infer<ReturnType<typeof resultSchema>>[] = [];
      for (const cluster of targets) {
        if (cluster.lifecycleState === 'decommissioned') {
          throw new InputError(`Cluster ${cluster.name} is decommissioned`);
        }
        const manifests = renderTenantNamespace({
          name: input.name,
          team: input.team,
          owner: input.owner ?? `group:default/${input.team}`,
          costCentre: input.costCentre,
          environment: cluster.environment,
          environmentGroup: cluster.environmentGroup,
          cluster: cluster.name,
          sizeTier,
          tier,
          // An unknown profile gets the strictest level, never a laxer one.
          podSecurity:
            profiles.get(cluster.profile)?.podSecurity ?? 'restricted',
          gatewayNamespaces: config.gatewayNamespaces,
          roleBindings: config.roleBindings,
        });

        const relative = `${input.outputPath}/${cluster.name}`;
        const dir = resolveSafeChildPath(ctx.workspacePath, relative);
        await fs.rm(dir, { recursive: true, force: true });
        await fs.mkdir(dir, { recursive: true });
        for (const m of manifests) {
          await fs.writeFile(
            `${dir}/${m.kind.toLowerCase()}-${m.metadata.name}.yaml`,
            stringify(m),
          );
        }

        if (cluster.environment === 'production') {
          ctx.logger.info(
            `${cluster.name} is a production cluster: its namespace ${input.name} is delivered through GitOps (manifests in ${relative})`,
          );
          results.push({
            cluster: cluster.name,
            environment: cluster.environment,
            environmentGroup: cluster.environmentGroup,
            delivery: 'gitops',
            path: relative,
            objects: manifests.map(m => ({
              apiVersion: m.apiVersion,
              kind: m.kind,
              name: m.metadata.name,
              ...(m.metadata.namespace
                ? { namespace: m.metadata.namespace }
                : {}),
            })),
          });
          continue;
        }

        const ssa = new ServerSideApply(client, cluster.name);
        const exists = dryRun ? await ssa.namespaceExists(input.name) : true;
        const objects: ApplyResult[] = [];
        for (const m of manifests) {
          if (dryRun && !exists && m.kind !== 'Namespace') {
            // A server-side dry run cannot place objects in a namespace
            // that does not exist yet; they would be created.
            objects.push({
              apiVersion: m.apiVersion,
              kind: m.kind,
              name: m.metadata.name,
              namespace: m.metadata.namespace,
              operation: 'created',
              dryRun: true,
            });
            continue;
          }
          objects.push(await ssa.apply(m, { dryRun }));
        }
        const counts = objects.reduce<Record<string, number>>((acc, o) => {
          acc[o.operation] = (acc[o.operation] ?? 0) + 1;
          return acc;
        }, {});
        ctx.logger.info(
          `${dryRun ? '[dry run] ' : ''}Namespace ${input.name} on ${
            cluster.name
          }: ${Object.entries(counts)
            .map(([op, n]) => `${n} ${op}`)
            .join(', ')}`,
        );
        results.push({
          cluster: cluster.name,
          environment: cluster.environment,
          environmentGroup: cluster.environmentGroup,
          delivery: 'applied',
          path: relative,
          objects: objects as unknown as Record<string, unknown>[],
        });
      }

      ctx.output('namespace', input.name);
      ctx.output('sizeTier', sizeTier);
      ctx.output('clusters', results);
      ctx.output(
        'appliedClusters',
        results.filter(r => r.delivery === 'applied').map(r => r.cluster),
      );
      ctx.output(
        'gitopsClusters',
        results.filter(r => r.delivery === 'gitops').map(r => r.cluster),
      );
      ctx.output('path', input.outputPath);
    },
  });
}
