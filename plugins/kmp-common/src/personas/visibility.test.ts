import { checkClusterVisibility, isEdgeCluster } from './visibility';

describe('isEdgeCluster', () => {
  it('knows edge clusters by their environment or their edge agent', () => {
    expect(isEdgeCluster({ environment: 'edge', connectivity: 'direct' })).toBe(
      true,
    );
    // An edge group marked production: its clusters run agents.
    expect(
      isEdgeCluster({ environment: 'production', connectivity: 'edge-async' }),
    ).toBe(true);
    expect(
      isEdgeCluster({ environment: 'non-production', connectivity: 'edge' }),
    ).toBe(true);
    expect(
      isEdgeCluster({ environment: 'production', connectivity: 'direct' }),
    ).toBe(false);
    expect(isEdgeCluster({ environment: 'non-production' })).toBe(false);
  });
});

describe('checkClusterVisibility', () => {
  const store = {
    name: 'store-1',
    environmentGroup: 'retail',
    environment: 'edge' as const,
    connectivity: 'edge-async' as const,
  };
  const hub = {
    name: 'hub-1',
    environmentGroup: 'retail',
    environment: 'production' as const,
    connectivity: 'direct' as const,
    tenants: [
      { namespace: 'team-retail', team: 'team-retail' },
      { namespace: 'shop-api', team: 'team-shop' },
    ],
  };
  const retail = ['team-retail'];

  it('shows every cluster of the group to ops and platform engineers', () => {
    for (const persona of ['ops', 'platform-engineer'] as const) {
      for (const cluster of [hub, store]) {
        expect(
          checkClusterVisibility({ personas: [persona], teams: [], cluster }),
        ).toEqual({ allowed: true });
      }
    }
  });

  it('shows developers the clusters where their team has a tenant namespace, naming the rule otherwise', () => {
    expect(
      checkClusterVisibility({
        personas: ['developer'],
        teams: retail,
        cluster: hub,
      }),
    ).toEqual({ allowed: true });
    expect(
      checkClusterVisibility({
        personas: ['developer'],
        teams: ['team-payments', 'team-search'],
        cluster: hub,
      }),
    ).toEqual({
      allowed: false,
      reason:
        'developers see the clusters where their team has a tenant namespace: cluster hub-1 has none of team-payments, team-search',
    });
    // Never observed: no known tenants.
    expect(
      checkClusterVisibility({
        personas: ['developer'],
        teams: retail,
        cluster: store,
      }),
    ).toMatchObject({ allowed: false });
    expect(
      checkClusterVisibility({
        personas: ['developer'],
        teams: [],
        cluster: hub,
      }),
    ).toEqual({
      allowed: false,
      reason:
        'developers see the clusters where their team has a tenant namespace: you belong to no team',
    });
  });

  it('shows edge operators only the edge clusters, naming the rule', () => {
    expect(
      checkClusterVisibility({
        personas: ['edge-operator'],
        teams: [],
        cluster: store,
      }),
    ).toEqual({ allowed: true });
    expect(
      checkClusterVisibility({
        personas: ['edge-operator'],
        teams: [],
        cluster: hub,
      }),
    ).toEqual({
      allowed: false,
      reason:
        'edge operators see the edge clusters of their environment groups: cluster hub-1 is not an edge cluster',
    });
    // Another persona in the same group sees it.
    expect(
      checkClusterVisibility({
        personas: ['edge-operator', 'developer'],
        teams: retail,
        cluster: hub,
      }),
    ).toEqual({ allowed: true });
  });

  it('shows nothing without a persona in the group', () => {
    expect(
      checkClusterVisibility({ personas: [], teams: retail, cluster: store }),
    ).toEqual({
      allowed: false,
      reason: 'no KMP persona in environment group retail',
    });
  });
});
