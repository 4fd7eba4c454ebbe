import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { RegisteredCluster } from '@kmp/plugin-kmp-common';
import { stringify } from 'yaml';
import { z as zod } from 'zod/v3';
import {
  KmpActionDeps,
  dnsLabel,
  initiatorClient,
  parseActionInput,
} from './util';

const ID = 'kmp:cluster:register';

const inputSchema = (z: typeof zod) =>
  z
    .object({
      name: dnsLabel(z).describe('Cluster name in the registry'),
      title: z.string().min(1).max(200).optional(),
      description: z.string().max(2000).optional(),
      environmentGroup: dnsLabel(z).describe('Environment group it joins'),
      region: z
        .string()
        .min(1)
        .max(63)
        .describe('Region, e.g. eu-west-1 or store-0042'),
      profile: dnsLabel(z).describe('Cluster profile'),
      owner: z.string().min(1).describe('Owner entity ref'),
      distribution: z.string().min(1).max(63).optional(),
      connectivity: z.enum(['direct', 'edge', 'edge-async']).default('direct'),
      apiServerUrl: z
        .string()
        .url()
        .optional()
        .describe('API server URL (direct clusters)'),
      labels: z.record(z.string()).optional(),
      credentials: z
        .object({
          token: z.string().min(1).optional(),
          certificateAuthority: z.string().min(1).optional(),
          clientCertificate: z.string().min(1).optional(),
          clientKey: z.string().min(1).optional(),
        })
        .strict()
        .optional()
        .describe(
          'Credentials KMP uses to reach the cluster; pass them from ${{ secrets.* }} so that they are never stored in the task',
        ),
    })
    .strict();

type Input = zod.infer<ReturnType<typeof inputSchema>>;

const COMPARED = [
  'title',
  'description',
  'environmentGroup',
  'region',
  'profile',
  'owner',
  'distribution',
  'apiServerUrl',
  'labels',
] as const;

/** The registry fields that differ from the input (credentials aside). */
function changedFields(current: RegisteredCluster, input: Input) {
  const update: Record<string, unknown> = {};
  for (const key of COMPARED) {
    const wanted = input[key];
    if (wanted === undefined) continue;
    if (JSON.stringify(current[key]) !== JSON.stringify(wanted)) {
      update[key] = wanted;
    }
  }
  return update;
}

/** The registry record without anything that is not for the task log. */
function summary(cluster: RegisteredCluster) {
  return {
    name: cluster.name,
    environment: cluster.environment,
    environmentGroup: cluster.environmentGroup,
    profile: cluster.profile,
    region: cluster.region,
    lifecycleState: cluster.lifecycleState,
    owner: cluster.owner,
  };
}

/**
 * `kmp:cluster:register` registers a cluster in KMP's registry as the
 * initiator (the registry checks `kmp.cluster.register` and audits it). A
 * re-run updates what differs and otherwise changes nothing.
 *
 * @public
 */
export function createClusterRegisterAction(deps: KmpActionDeps) {
  return createTemplateAction({
    id: ID,
    description:
      'Registers a Kubernetes cluster in the KMP registry (or converges its registration), as the user running the template.',
    supportsDryRun: true,
    examples: [
      {
        description: 'Register a directly connected cluster',
        example: stringify({
          steps: [
            {
              id: 'register',
              action: ID,
              input: {
                name: 'payments-dev-eu2',
                environmentGroup: 'payments-nonprod',
                region: 'eu-west-2',
                profile: 'standard',
                owner: 'group:default/platform-team',
                apiServerUrl: 'https://10.0.0.1:6443',
                credentials: {
                  token: '${{ secrets.clusterToken }}',
                  certificateAuthority:
                    '${{ parameters.certificateAuthority }}',
                },
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
          operation: z.enum(['registered', 'updated', 'unchanged']),
          cluster: z
            .record(z.unknown())
            .describe('Name, environment, group, profile, region, state'),
          entityRef: z.string().describe('Catalog entity of the cluster'),
        }),
    },
    async handler(ctx) {
      const input = parseActionInput(ID, inputSchema(zod), ctx.input);
      const dryRun = !!ctx.isDryRun;
      const client = await initiatorClient(deps, ctx);

      const existing = await client.request<RegisteredCluster>(
        'GET',
        `/clusters/${input.name}`,
        { accept: [404] },
      );
      let operation: 'registered' | 'updated' | 'unchanged';
      let cluster: RegisteredCluster | undefined;
      if (
        existing.status === 404 ||
        existing.body.lifecycleState === 'decommissioned'
      ) {
        operation = 'registered';
        if (!dryRun) {
          cluster = (
            await client.request<RegisteredCluster>('POST', '/clusters', {
              body: input,
            })
          ).body;
        }
      } else {
        const update = changedFields(existing.body, input);
        if (input.credentials) update.credentials = input.credentials;
        if (Object.keys(update).length === 0) {
          operation = 'unchanged';
          cluster = existing.body;
        } else {
          operation = 'updated';
          cluster = existing.body;
          if (!dryRun) {
            cluster = (
              await client.request<RegisteredCluster>(
                'PATCH',
                `/clusters/${input.name}`,
                { body: update },
              )
            ).body;
          }
          ctx.logger.info(
            `Cluster ${input.name}: ${Object.keys(update).join(', ')} ${
              dryRun ? 'would change' : 'changed'
            }`,
          );
        }
      }
      ctx.logger.info(
        `${dryRun ? '[dry run] ' : ''}Cluster ${input.name} ${operation}`,
      );
      ctx.output('operation', operation);
      ctx.output(
        'cluster',
        cluster
          ? summary(cluster)
          : { name: input.name, environmentGroup: input.environmentGroup },
      );
      ctx.output('entityRef', `resource:default/${input.name}`);
    },
  });
}
