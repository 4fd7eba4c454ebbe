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
  };

  it('shows every cluster of the group to developers, ops and platform engineers', () => {
    for (const persona of ['developer', 'ops', 'platform-engineer'] as const) {
      expect(
        checkClusterVisibility({ personas: [persona], cluster: hub }),
      ).toEqual({ allowed: true });
      expect(
        checkClusterVisibility({ personas: [persona], cluster: store }),
      ).toEqual({ allowed: true });
    }
  });

  it('shows edge operators only the edge clusters, naming the rule', () => {
    expect(
      checkClusterVisibility({ personas: ['edge-operator'], cluster: store }),
    ).toEqual({ allowed: true });
    expect(
      checkClusterVisibility({ personas: ['edge-operator'], cluster: hub }),
    ).toEqual({
      allowed: false,
      reason:
        'edge operators see the edge clusters of their environment groups: cluster hub-1 is not an edge cluster',
    });
    // Another persona in the same group sees it.
    expect(
      checkClusterVisibility({
        personas: ['edge-operator', 'developer'],
        cluster: hub,
      }),
    ).toEqual({ allowed: true });
  });

  it('shows nothing without a persona in the group', () => {
    expect(checkClusterVisibility({ personas: [], cluster: store })).toEqual({
      allowed: false,
      reason: 'no KMP persona in environment group retail',
    });
  });
});
