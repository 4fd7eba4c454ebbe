import {
  Environment,
  KMP_ANNOTATIONS,
  PodSecurityLevel,
} from '@kmp/plugin-kmp-common';
import { KubeObject } from '../client/ServerSideApply';
import { SizeTier, TenantRoleBinding, roleFor } from '../config';

/**
 * Parameters of a tenant namespace on one cluster.
 *
 * @public
 */
export interface TenantNamespaceParams {
  name: string;
  /** Owning team: the group name, e.g. `team-payments`. */
  team: string;
  /** Owner entity ref, e.g. `group:default/team-payments`. */
  owner: string;
  costCentre: string;
  environment: Environment;
  environmentGroup: string;
  cluster: string;
  sizeTier: string;
  tier: SizeTier;
  podSecurity: PodSecurityLevel;
  gatewayNamespaces: string[];
  roleBindings: TenantRoleBinding[];
}

/**
 * The platform's standard tenant namespace: labels and annotations
 * (team, owner, environment, cost centre), Pod Security admission labels of
 * the cluster's profile, a ResourceQuota and LimitRange from the size tier,
 * a default-deny NetworkPolicy plus the allowances every tenant needs (same
 * namespace, DNS, ingress from the gateway) and RoleBindings for the owning
 * team's personas. Deterministic, so applying it twice converges.
 *
 * @public
 */
export function renderTenantNamespace(
  params: TenantNamespaceParams,
): KubeObject[] {
  const { name } = params;
  const labels = {
    'app.kubernetes.io/managed-by': 'kmp',
    [KMP_ANNOTATIONS.team]: params.team,
    [KMP_ANNOTATIONS.environment]: params.environment,
    [KMP_ANNOTATIONS.environmentGroup]: params.environmentGroup,
    'kmp.backstage.io/size-tier': params.sizeTier,
  };
  const annotations = {
    [KMP_ANNOTATIONS.owner]: params.owner,
    [KMP_ANNOTATIONS.costCentre]: params.costCentre,
  };
  const meta = (objectName: string) => ({
    name: objectName,
    namespace: name,
    labels: { 'app.kubernetes.io/managed-by': 'kmp' },
  });

  const namespace: KubeObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: {
        ...labels,
        'pod-security.kubernetes.io/enforce': params.podSecurity,
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/audit': params.podSecurity,
        'pod-security.kubernetes.io/warn': params.podSecurity,
      },
      annotations,
    },
  };

  const quota: KubeObject = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: meta('tenant-quota'),
    spec: { hard: params.tier.quota },
  };

  const limitRange: KubeObject = {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: meta('tenant-limits'),
    spec: {
      limits: [
        {
          type: 'Container',
          defaultRequest: params.tier.limits.defaultRequest,
          default: params.tier.limits.default,
          ...(params.tier.limits.max ? { max: params.tier.limits.max } : {}),
        },
      ],
    },
  };

  const networkPolicy = (
    policyName: string,
    spec: Record<string, unknown>,
  ): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(policyName),
    spec: { podSelector: {}, ...spec },
  });
  const nameSelector = (ns: string) => ({
    namespaceSelector: {
      matchLabels: { 'kubernetes.io/metadata.name': ns },
    },
  });
  const networkPolicies = [
    networkPolicy('default-deny', { policyTypes: ['Ingress', 'Egress'] }),
    networkPolicy('allow-same-namespace', {
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }],
    }),
    networkPolicy('allow-dns', {
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              ...nameSelector('kube-system'),
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    }),
    ...(params.gatewayNamespaces.length > 0
      ? [
          networkPolicy('allow-from-gateway', {
            policyTypes: ['Ingress'],
            ingress: [{ from: params.gatewayNamespaces.map(nameSelector) }],
          }),
        ]
      : []),
  ];

  const roleBindings = params.roleBindings.flatMap(binding => {
    const role = roleFor(binding, params.environment);
    if (!role) return [];
    const rb: KubeObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(binding.name),
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: role,
      },
      subjects: [
        {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Group',
          name: binding.group.replaceAll('{team}', params.team),
        },
      ],
    };
    return [rb];
  });

  return [namespace, quota, limitRange, ...networkPolicies, ...roleBindings];
}
