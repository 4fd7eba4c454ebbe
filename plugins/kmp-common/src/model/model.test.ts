import {
  auditEventSchema,
  clusterSchema,
  clusterProfileSchema,
  dnsLabelSchema,
  environmentGroupSchema,
  personaSchema,
} from '.';

const validCluster = {
  name: 'payments-prod-eu1',
  title: 'Payments production, EU 1',
  environment: 'production',
  environmentGroup: 'payments-prod',
  region: 'eu-west-1',
  profile: 'production-hardened',
  distribution: 'eks',
  kubernetesVersion: 'v1.34.2',
  connectivity: 'direct',
  lifecycleState: 'active',
  owner: 'group:default/platform-team',
  apiServerUrl: 'https://payments-prod-eu1.k8s.example.com',
};

describe('dnsLabelSchema', () => {
  it.each(['a', 'payments-prod', 'x1', 'a'.repeat(63)])('accepts %s', name => {
    expect(dnsLabelSchema.safeParse(name).success).toBe(true);
  });

  it.each([
    ['', 'must not be empty'],
    ['-leading', 'DNS-1123'],
    ['trailing-', 'DNS-1123'],
    ['Upper', 'DNS-1123'],
    ['dots.are.not.labels', 'DNS-1123'],
    ['a'.repeat(64), 'at most 63'],
  ])('rejects %j with a message naming the rule', (name, message) => {
    const result = dnsLabelSchema.safeParse(name);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map(i => i.message).join(' ')).toContain(
      message,
    );
  });
});

describe('clusterSchema', () => {
  it('accepts a complete cluster', () => {
    expect(clusterSchema.parse(validCluster)).toEqual(validCluster);
  });

  it('accepts distribution suffixes in the version', () => {
    expect(
      clusterSchema.safeParse({
        ...validCluster,
        kubernetesVersion: 'v1.33.5+k3s1',
      }).success,
    ).toBe(true);
  });

  it('rejects unknown environments, connectivity and states', () => {
    for (const patch of [
      { environment: 'staging' },
      { connectivity: 'carrier-pigeon' },
      { lifecycleState: 'gone' },
    ]) {
      const result = clusterSchema.safeParse({ ...validCluster, ...patch });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0].path).toEqual([Object.keys(patch)[0]]);
    }
  });

  it('rejects non-http(s) API server URLs', () => {
    const result = clusterSchema.safeParse({
      ...validCluster,
      apiServerUrl: 'file:///etc/passwd',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual(['apiServerUrl']);
  });

  it('has no place for credentials', () => {
    const parsed = clusterSchema.parse({ ...validCluster, token: 'secret' });
    expect(parsed).not.toHaveProperty('token');
  });
});

describe('environmentGroupSchema and clusterProfileSchema', () => {
  it('accept valid values and default the overlays', () => {
    expect(
      environmentGroupSchema.parse({
        name: 'retail-edge',
        environment: 'edge',
        owner: 'group:default/retail-ops',
      }).name,
    ).toBe('retail-edge');
    expect(
      clusterProfileSchema.parse({
        name: 'edge-minimal',
        environment: 'edge',
        podSecurity: 'restricted',
      }).policyOverlays,
    ).toEqual([]);
  });

  it('reject an unknown pod security level', () => {
    expect(
      clusterProfileSchema.safeParse({
        name: 'p',
        environment: 'edge',
        podSecurity: 'lenient',
      }).success,
    ).toBe(false);
  });
});

describe('personaSchema', () => {
  it('knows exactly the four personas', () => {
    expect(personaSchema.options).toEqual([
      'developer',
      'ops',
      'platform-engineer',
      'edge-operator',
    ]);
  });
});

describe('auditEventSchema', () => {
  const event = {
    id: '5b0f7a7e-6a3f-4a36-9d5c-0d1f6f3bb2a1',
    time: '2026-11-25T12:00:00.000Z',
    actor: { type: 'human', ref: 'user:default/alice', persona: 'developer' },
    action: 'proxy.request',
    target: {
      cluster: 'payments-dev',
      namespace: 'team-payments',
      resource: {
        group: 'apps',
        version: 'v1',
        resource: 'deployments',
        name: 'api',
      },
    },
    decision: {
      result: 'deny',
      reason: 'production changes go through GitOps',
    },
    outcome: 'failure',
    correlationId: 'c-1',
    request: { method: 'PATCH', verb: 'patch' },
    response: { status: 403, durationMs: 2.5 },
  };

  it('accepts a complete event', () => {
    expect(auditEventSchema.parse(event)).toEqual(event);
  });

  it('rejects an actor type outside the four kinds', () => {
    const result = auditEventSchema.safeParse({
      ...event,
      actor: { ...event.actor, type: 'robot' },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual(['actor', 'type']);
  });

  it('rejects action names that are not dotted identifiers', () => {
    expect(
      auditEventSchema.safeParse({ ...event, action: 'DROP TABLE' }).success,
    ).toBe(false);
  });
});
