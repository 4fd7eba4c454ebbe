import { NotAllowedError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { stringify } from 'yaml';
import { z as zod } from 'zod/v3';
import {
  ApplyResult,
  ServerSideApply,
  inApplyOrder,
} from '../client/ServerSideApply';
import {
  KmpActionDeps,
  dnsLabel,
  initiatorClient,
  manifestsFromInput,
  parseActionInput,
} from './util';

const ID = 'kmp:apply';

const inputSchema = (z: typeof zod) =>
  z
    .object({
      cluster: dnsLabel(z).describe('Non-production cluster to apply to'),
      manifests: z
        .array(z.record(z.unknown()))
        .optional()
        .describe('Kubernetes objects (or give path)'),
      path: z
        .string()
        .optional()
        .describe('Workspace file or folder of YAML manifests'),
      namespace: dnsLabel(z)
        .optional()
        .describe('Namespace for namespaced objects that name none'),
      dryRun: z
        .boolean()
        .default(false)
        .describe('Server-side dry run: validate everything, persist nothing'),
    })
    .strict();

/**
 * `kmp:apply` server-side-applies manifests to a non-production cluster
 * through the broker, as the initiator (field manager `kmp-golden-path`,
 * forcing its own fields so that a re-run converges). Production clusters
 * are refused: production changes go through GitOps.
 *
 * @public
 */
export function createApplyAction(deps: KmpActionDeps) {
  return createTemplateAction({
    id: ID,
    description:
      'Applies manifests to a non-production cluster through the KMP broker, as the user running the template. Production is GitOps-only.',
    supportsDryRun: true,
    examples: [
      {
        description: 'Apply rendered manifests to a development cluster',
        example: stringify({
          steps: [
            {
              id: 'apply',
              action: ID,
              input: {
                cluster: 'payments-dev-eu1',
                path: 'manifests',
                namespace: 'payments-api',
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
          objects: z
            .array(z.record(z.unknown()))
            .describe(
              'Per object: kind, name, namespace, operation (created, configured, unchanged), audit id',
            ),
          auditIds: z
            .array(z.string())
            .describe('KMP audit correlation ids of the writes'),
        }),
    },
    async handler(ctx) {
      const input = parseActionInput(ID, inputSchema(zod), ctx.input);
      const dryRun = input.dryRun || !!ctx.isDryRun;
      const client = await initiatorClient(deps, ctx);

      const cluster = await client.getCluster(input.cluster);
      if (cluster.environment === 'production') {
        throw new NotAllowedError(
          `${ID} refuses production cluster ${cluster.name} (environment group ${cluster.environmentGroup}): production changes go through GitOps. Publish the manifests with kmp:gitops:publish instead.`,
        );
      }
      const objects = inApplyOrder(
        await manifestsFromInput(ctx.workspacePath, input),
      );

      const ssa = new ServerSideApply(client, cluster.name);
      const results: ApplyResult[] = [];
      for (const object of objects) {
        const result = await ssa.apply(object, {
          dryRun,
          defaultNamespace: input.namespace,
        });
        ctx.logger.info(
          `${dryRun ? '[dry run] ' : ''}${result.kind} ${
            result.namespace ? `${result.namespace}/` : ''
          }${result.name} ${result.operation} on ${cluster.name}`,
        );
        results.push(result);
      }
      ctx.output('objects', results as unknown as Record<string, unknown>[]);
      ctx.output(
        'auditIds',
        results.flatMap(r => (r.auditId ? [r.auditId] : [])),
      );
    },
  });
}
