import { DEFAULT_ROLE_BINDINGS, DEFAULT_SIZE_TIERS } from '../config';
import {
  TenantNamespaceParams,
  renderTenantNamespace,
} from './renderTenantNamespace';

const params: TenantNamespaceParams = {
  name: 'store-apps',
  team: 'team-retail',
  owner: 'group:default/team-retail',
  costCentre: 'cc-7',
  environment: 'edge',
  environmentGroup: 'retail-edge',
  cluster: 'retail-store-0042',
  sizeTier: 'small',
  tier: DEFAULT_SIZE_TIERS.small,
  podSecurity: 'restricted',
  gatewayNamespaces: ['gateway-system', 'ingress-nginx'],
  roleBindings: DEFAULT_ROLE_BINDINGS,
};

const bindings = (objects: ReturnType<typeof renderTenantNamespace>) =>
  objects
    .filter(o => o.kind === 'RoleBinding')
    .map(o => ({
      name: o.metadata.name,
      role: (o as any).roleRef.name,
      group: (o as any).subjects[0].name,
    }));

describe('renderTenantNamespace', () => {
  it('binds edge operators on edge clusters, and the team and ops per environment', () => {
    expect(bindings(renderTenantNamespace(params))).toEqual([
      { name: 'kmp-team', role: 'edit', group: 'group:default/team-retail' },
      { name: 'kmp-ops', role: 'view', group: 'kmp:persona:ops' },
      {
        name: 'kmp-edge-operator',
        role: 'edit',
        group: 'kmp:persona:edge-operator',
      },
    ]);
    expect(
      bindings(renderTenantNamespace({ ...params, environment: 'production' })),
    ).toEqual([
      { name: 'kmp-team', role: 'view', group: 'group:default/team-retail' },
      { name: 'kmp-ops', role: 'view', group: 'kmp:persona:ops' },
    ]);
  });

  it('lets every gateway namespace in, and drops the allowance without one', () => {
    const gateway = renderTenantNamespace(params).find(
      o => o.metadata.name === 'allow-from-gateway',
    ) as any;
    expect(
      gateway.spec.ingress[0].from.map(
        (f: any) =>
          f.namespaceSelector.matchLabels['kubernetes.io/metadata.name'],
      ),
    ).toEqual(['gateway-system', 'ingress-nginx']);
    expect(
      renderTenantNamespace({ ...params, gatewayNamespaces: [] }).map(
        o => o.metadata.name,
      ),
    ).not.toContain('allow-from-gateway');
  });

  it('puts the profile’s Pod Security level on the namespace and every object in it', () => {
    const [namespace, ...rest] = renderTenantNamespace(params);
    expect(namespace.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
      'kmp.backstage.io/team': 'team-retail',
    });
    expect(rest.every(o => o.metadata.namespace === 'store-apps')).toBe(true);
  });

  it('is deterministic', () => {
    expect(renderTenantNamespace(params)).toEqual(
      renderTenantNamespace({ ...params }),
    );
  });
});
