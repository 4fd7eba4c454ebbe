import { Config } from '@backstage/config';
import { Environment } from '@kmp/plugin-kmp-common';
import { GitopsConfig, gitopsConfigSchema } from '@kmp/plugin-kmp-node';
import { z } from 'zod';

const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const quantity = z.string().regex(QUANTITY, 'must be a Kubernetes quantity');
const dnsLabel = z
  .string()
  .max(63)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    "must be a DNS-1123 label: lower-case letters, digits and '-'",
  );
const resources = z
  .object({ cpu: quantity, memory: quantity })
  .strict()
  .partial();

/** A size tier: the ResourceQuota and LimitRange a tenant namespace gets. */
export const sizeTierSchema = z
  .object({
    title: z.string().min(1).max(100).optional(),
    description: z.string().max(500).optional(),
    /** `ResourceQuota.spec.hard`. */
    quota: z.record(z.string().min(1), quantity),
    /** The `Container` item of the LimitRange. */
    limits: z
      .object({
        defaultRequest: resources,
        default: resources,
        max: resources.optional(),
      })
      .strict(),
  })
  .strict();

/** @public */
export type SizeTier = z.infer<typeof sizeTierSchema>;

/**
 * A RoleBinding every tenant namespace gets: a group (`{team}` is replaced
 * by the owning team) bound to a cluster role per environment; no role for
 * an environment means no binding there.
 */
const roleBindingSchema = z
  .object({
    name: dnsLabel,
    group: z.string().min(1).max(253),
    roles: z
      .object({
        production: z.string().min(1).optional(),
        'non-production': z.string().min(1).optional(),
        edge: z.string().min(1).optional(),
      })
      .strict(),
  })
  .strict();

/** @public */
export type TenantRoleBinding = z.infer<typeof roleBindingSchema>;

/** @public */
export type { GitopsRepository } from '@kmp/plugin-kmp-node';

const goldenPathsSchema = z
  .object({
    sizeTiers: z.record(dnsLabel, sizeTierSchema).optional(),
    defaultSizeTier: dnsLabel.default('small'),
    /** Namespaces whose pods may reach tenants (the ingress gateway). */
    gatewayNamespaces: z.array(dnsLabel).default(['gateway-system']),
    roleBindings: z.array(roleBindingSchema).optional(),
    // Shared with the KMP backend's publish route (one reader, one schema).
    gitops: gitopsConfigSchema,
  })
  .strict();

/**
 * The platform's default size tiers.
 *
 * @public
 */
export const DEFAULT_SIZE_TIERS: Record<string, SizeTier> = {
  small: {
    title: 'Small',
    description: 'A service or two; development and light workloads.',
    quota: {
      'requests.cpu': '2',
      'requests.memory': '4Gi',
      'limits.cpu': '4',
      'limits.memory': '8Gi',
      pods: '20',
      'services.loadbalancers': '0',
      persistentvolumeclaims: '5',
    },
    limits: {
      defaultRequest: { cpu: '100m', memory: '128Mi' },
      default: { cpu: '500m', memory: '256Mi' },
      max: { cpu: '2', memory: '2Gi' },
    },
  },
  medium: {
    title: 'Medium',
    description: 'A team with several services.',
    quota: {
      'requests.cpu': '8',
      'requests.memory': '16Gi',
      'limits.cpu': '16',
      'limits.memory': '32Gi',
      pods: '60',
      'services.loadbalancers': '0',
      persistentvolumeclaims: '15',
    },
    limits: {
      defaultRequest: { cpu: '100m', memory: '128Mi' },
      default: { cpu: '500m', memory: '512Mi' },
      max: { cpu: '4', memory: '8Gi' },
    },
  },
  large: {
    title: 'Large',
    description: 'Data-heavy or high-traffic workloads.',
    quota: {
      'requests.cpu': '32',
      'requests.memory': '64Gi',
      'limits.cpu': '64',
      'limits.memory': '128Gi',
      pods: '200',
      'services.loadbalancers': '2',
      persistentvolumeclaims: '40',
    },
    limits: {
      defaultRequest: { cpu: '250m', memory: '256Mi' },
      default: { cpu: '1', memory: '1Gi' },
      max: { cpu: '8', memory: '32Gi' },
    },
  },
};

/**
 * Default bindings, after PERSONAS.md: the owning team edits its namespace
 * outside production and reads it in production; ops (the persona group the
 * broker impersonates) likewise; edge operators edit tenants on edge.
 */
export const DEFAULT_ROLE_BINDINGS: TenantRoleBinding[] = [
  {
    name: 'kmp-team',
    group: 'group:default/{team}',
    roles: { 'non-production': 'edit', production: 'view', edge: 'edit' },
  },
  {
    name: 'kmp-ops',
    group: 'kmp:persona:ops',
    roles: { 'non-production': 'edit', production: 'view', edge: 'view' },
  },
  {
    name: 'kmp-edge-operator',
    group: 'kmp:persona:edge-operator',
    roles: { edge: 'edit' },
  },
];

/**
 * `kmp.goldenPaths`, validated and with defaults.
 *
 * @public
 */
export interface GoldenPathsConfig {
  sizeTiers: Record<string, SizeTier>;
  defaultSizeTier: string;
  gatewayNamespaces: string[];
  roleBindings: TenantRoleBinding[];
  gitops: GitopsConfig;
}

/**
 * Reads `kmp.goldenPaths`; a malformed setting throws one line naming the
 * key, e.g. `Invalid configuration at kmp.goldenPaths.sizeTiers.small.quota.pods: …`.
 *
 * @public
 */
export function readGoldenPathsConfig(config: Config): GoldenPathsConfig {
  const raw = config.getOptional('kmp.goldenPaths') ?? {};
  const parsed = goldenPathsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.reduce<string>(
      (acc, part) =>
        typeof part === 'number' ? `${acc}[${part}]` : `${acc}.${String(part)}`,
      'kmp.goldenPaths',
    );
    throw new Error(`Invalid configuration at ${key}: ${issue.message}`);
  }
  const value = parsed.data;
  const sizeTiers = value.sizeTiers ?? DEFAULT_SIZE_TIERS;
  if (!sizeTiers[value.defaultSizeTier]) {
    throw new Error(
      `Invalid configuration at kmp.goldenPaths.defaultSizeTier: '${
        value.defaultSizeTier
      }' is not one of the size tiers (${Object.keys(sizeTiers).join(', ')})`,
    );
  }
  return {
    sizeTiers,
    defaultSizeTier: value.defaultSizeTier,
    gatewayNamespaces: value.gatewayNamespaces,
    roleBindings: value.roleBindings ?? DEFAULT_ROLE_BINDINGS,
    gitops: value.gitops,
  };
}

/** The cluster role a binding grants in an environment, if any. */
export function roleFor(
  binding: TenantRoleBinding,
  environment: Environment,
): string | undefined {
  return binding.roles[environment];
}
