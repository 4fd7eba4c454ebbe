import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { PolicyViolation } from '@kmp/plugin-kmp-common';
import { stringify } from 'yaml';
import { z as zod } from 'zod/v3';
import {
  KmpActionDeps,
  describeObject,
  dnsLabel,
  initiatorClient,
  manifestsFromInput,
  parseActionInput,
} from './util';

const ID = 'kmp:policy:check';

const inputSchema = (z: typeof zod) =>
  z
    .object({
      cluster: dnsLabel(z)
        .optional()
        .describe("Evaluate against this cluster's bundle"),
      environment: z
        .enum(['production', 'non-production', 'edge'])
        .optional()
        .describe('Or against the bundle of an environment'),
      environmentGroup: dnsLabel(z)
        .optional()
        .describe('With environment: the environment group overlay'),
      manifests: z.array(z.record(z.unknown())).optional(),
      path: z
        .string()
        .optional()
        .describe('Workspace file or folder of YAML manifests'),
      namespace: dnsLabel(z)
        .optional()
        .describe('Namespace for namespaced objects that name none'),
      namespaceLabels: z
        .record(z.string())
        .optional()
        .describe(
          'Labels of that namespace, when it is not among the manifests',
        ),
    })
    .strict();

function formatViolation(v: PolicyViolation): string {
  return `[${v.ruleId}] ${describeObject(v.object)}${
    v.path ? ` at ${v.path}` : ''
  }: ${v.message}`;
}

/**
 * `kmp:policy:check` evaluates manifests with KMP's policy evaluator (the
 * same CEL bundle the cluster enforces) and fails the task listing every
 * violation with its rule id and message. Warnings are logged and returned.
 *
 * @public
 */
export function createPolicyCheckAction(deps: KmpActionDeps) {
  return createTemplateAction({
    id: ID,
    description:
      "Evaluates manifests against the platform's policy bundle for a cluster or environment and fails with every violation.",
    supportsDryRun: true,
    examples: [
      {
        description: 'Check rendered manifests against a cluster’s bundle',
        example: stringify({
          steps: [
            {
              id: 'policy',
              action: ID,
              input: { cluster: 'payments-prod-eu1', path: 'manifests' },
            },
          ],
        }),
      },
    ],
    schema: {
      input: inputSchema,
      output: z =>
        z.object({
          allowed: z.boolean(),
          bundle: z
            .string()
            .describe('Name and version of the evaluated bundle'),
          environment: z
            .enum(['production', 'non-production', 'edge'])
            .describe(
              'Environment of the target: templates deliver production through GitOps',
            ),
          violations: z
            .array(z.record(z.unknown()))
            .describe(
              'Every violation (rule id, severity, enforcement, object, path, message)',
            ),
          warnings: z
            .array(z.string())
            .describe('Violations of Warn and Audit rules, formatted'),
        }),
    },
    async handler(ctx) {
      const input = parseActionInput(ID, inputSchema(zod), ctx.input);
      if (!!input.cluster === !!input.environment) {
        throw new InputError(
          `Invalid input to ${ID}: give either cluster or environment`,
        );
      }
      if (input.cluster && input.environmentGroup) {
        throw new InputError(
          `Invalid input to ${ID}: environmentGroup goes with environment, not with cluster`,
        );
      }
      const manifests = await manifestsFromInput(ctx.workspacePath, input);
      const client = await initiatorClient(deps, ctx);
      const response = await client.evaluatePolicies({
        target: input.cluster
          ? { cluster: input.cluster }
          : {
              environment: input.environment!,
              ...(input.environmentGroup
                ? { environmentGroup: input.environmentGroup }
                : {}),
            },
        manifests,
        ...(input.namespace ? { defaultNamespace: input.namespace } : {}),
        ...(input.namespace && input.namespaceLabels
          ? { namespaces: { [input.namespace]: input.namespaceLabels } }
          : {}),
      });

      const violations = response.results.flatMap(r => r.violations);
      const denials = violations.filter(v => v.enforcement === 'Deny');
      const warnings = violations
        .filter(v => v.enforcement !== 'Deny')
        .map(formatViolation);
      const malformed = response.results.flatMap(r =>
        r.error ? [`${describeObject(r.object)}: ${r.error}`] : [],
      );
      const bundle = `${response.bundle.name}@${response.bundle.version}`;
      for (const w of warnings) ctx.logger.warn(`Policy warning ${w}`);

      if (!response.allowed) {
        const lines = [...denials.map(formatViolation), ...malformed];
        throw new InputError(
          `Policy check against ${bundle} failed with ${
            lines.length
          } violation${lines.length === 1 ? '' : 's'}:\n${lines
            .map(l => `- ${l}`)
            .join('\n')}`,
        );
      }
      ctx.logger.info(
        `${manifests.length} manifests pass policy bundle ${bundle}${
          warnings.length ? ` with ${warnings.length} warnings` : ''
        }`,
      );
      ctx.output('allowed', true);
      ctx.output('bundle', bundle);
      ctx.output('environment', response.bundle.environment);
      ctx.output(
        'violations',
        violations as unknown as Record<string, unknown>[],
      );
      ctx.output('warnings', warnings);
    },
  });
}
