import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { promises as fs } from 'node:fs';
import { stringify } from 'yaml';
import { z as zod } from 'zod/v3';
import { renderGoldenPathApp } from '../manifests/renderGoldenPathApp';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const dnsLabelMessage =
  "must be a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters";

const inputSchema = (z: typeof zod) =>
  z
    .object({
      name: z
        .string()
        .max(63)
        .regex(DNS_LABEL, dnsLabelMessage)
        .describe('Application name; also the Backstage kubernetes-id'),
      namespace: z
        .string()
        .max(63)
        .regex(DNS_LABEL, dnsLabelMessage)
        .describe('Tenant namespace the application runs in'),
      image: z
        .string()
        .min(1)
        .regex(/^[^\s]+$/, 'must not contain whitespace')
        .describe(
          'Container image reference, e.g. registry.example.com/team/app:1.0.0',
        ),
      team: z
        .string()
        .max(63)
        .regex(DNS_LABEL, dnsLabelMessage)
        .describe('Owning team'),
      owner: z
        .string()
        .min(1)
        .describe('Owner entity ref, e.g. group:default/payments'),
      costCentre: z
        .string()
        .min(1)
        .max(63)
        .describe('Cost centre for chargeback'),
      port: z
        .number()
        .int()
        .min(1)
        .max(65535)
        .default(8080)
        .describe('Container port serving HTTP'),
      replicas: z.number().int().min(1).max(100).default(2),
      resources: z
        .object({
          requests: z.object({
            cpu: z.string().regex(QUANTITY, 'must be a Kubernetes quantity'),
            memory: z.string().regex(QUANTITY, 'must be a Kubernetes quantity'),
          }),
          limits: z.object({
            cpu: z.string().regex(QUANTITY, 'must be a Kubernetes quantity'),
            memory: z.string().regex(QUANTITY, 'must be a Kubernetes quantity'),
          }),
        })
        .default({
          requests: { cpu: '100m', memory: '128Mi' },
          limits: { cpu: '500m', memory: '256Mi' },
        })
        .describe('CPU and memory requests and limits'),
      probes: z
        .object({
          livenessPath: z.string().startsWith('/').default('/healthz'),
          readinessPath: z.string().startsWith('/').default('/readyz'),
        })
        .default({}),
      env: z
        .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string())
        .default({})
        .describe('Plain environment variables (no secrets)'),
      autoscaling: z
        .object({
          minReplicas: z.number().int().min(1).max(100).optional(),
          maxReplicas: z.number().int().min(1).max(500).default(10),
          targetCPUUtilization: z.number().int().min(10).max(95).default(75),
        })
        .default({}),
      route: z
        .object({
          gateway: z.object({
            name: z.string().max(63).regex(DNS_LABEL, dnsLabelMessage),
            namespace: z.string().max(63).regex(DNS_LABEL, dnsLabelMessage),
          }),
          hostnames: z.array(z.string().min(1)).default([]),
          pathPrefix: z.string().startsWith('/').default('/'),
        })
        .optional()
        .describe("HTTPRoute bound to the cluster's Gateway"),
      outputPath: z
        .string()
        .default('manifests')
        .describe('Workspace folder to write the manifests into'),
    })
    .strict();

/**
 * `kmp:manifests:render` renders the golden-path application manifests
 * (Deployment, Service, HTTPRoute, PodDisruptionBudget,
 * HorizontalPodAutoscaler) into the workspace, one file per object plus a
 * `kustomization.yaml`, and returns them as output for later steps.
 *
 * @public
 */
export function createManifestsRenderAction() {
  return createTemplateAction({
    id: 'kmp:manifests:render',
    description:
      "Renders the platform's golden-path application manifests into the workspace.",
    supportsDryRun: true,
    examples: [
      {
        description: 'Render a service with a route on the cluster gateway',
        example: stringify({
          steps: [
            {
              id: 'render',
              action: 'kmp:manifests:render',
              input: {
                name: 'payments-api',
                namespace: 'team-payments',
                image: 'registry.example.com/payments/api:1.4.2',
                team: 'payments',
                owner: 'group:default/payments',
                costCentre: 'cc-1042',
                route: {
                  gateway: { name: 'shared', namespace: 'gateway-system' },
                  hostnames: ['payments.example.com'],
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
          manifests: z
            .array(z.record(z.unknown()))
            .describe('The rendered objects'),
          files: z
            .array(z.string())
            .describe('Workspace-relative paths written'),
          path: z
            .string()
            .describe('Workspace-relative folder of the manifests'),
        }),
    },
    async handler(ctx) {
      // The scaffolder checks input against the JSON schema only; parse it
      // here too so that defaults apply and the rules above hold.
      const parsed = inputSchema(zod).safeParse(ctx.input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new InputError(
          `Invalid input to kmp:manifests:render at ${
            issue.path.join('.') || '(root)'
          }: ${issue.message}`,
        );
      }
      const input = parsed.data;
      const minReplicas = input.autoscaling.minReplicas ?? input.replicas;
      if (minReplicas > input.autoscaling.maxReplicas) {
        throw new InputError(
          `autoscaling.minReplicas (${minReplicas}) must not exceed autoscaling.maxReplicas (${input.autoscaling.maxReplicas})`,
        );
      }

      const manifests = renderGoldenPathApp({
        ...input,
        autoscaling: { ...input.autoscaling, minReplicas },
      });

      const dir = resolveSafeChildPath(ctx.workspacePath, input.outputPath);
      await fs.mkdir(dir, { recursive: true });
      const files: string[] = [];
      for (const manifest of manifests) {
        const file = `${manifest.kind.toLowerCase()}.yaml`;
        await fs.writeFile(`${dir}/${file}`, stringify(manifest));
        files.push(file);
      }
      await fs.writeFile(
        `${dir}/kustomization.yaml`,
        stringify({
          apiVersion: 'kustomize.config.k8s.io/v1beta1',
          kind: 'Kustomization',
          namespace: input.namespace,
          resources: files,
        }),
      );
      files.push('kustomization.yaml');

      ctx.logger.info(
        `Rendered ${manifests.length} manifests for ${input.namespace}/${input.name} into ${input.outputPath}`,
      );
      ctx.output('manifests', manifests);
      ctx.output(
        'files',
        files.map(f => `${input.outputPath}/${f}`),
      );
      ctx.output('path', input.outputPath);
    },
  });
}
