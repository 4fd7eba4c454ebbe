import {
  breakGlassListQuerySchema,
  breakGlassRequestInputSchema,
  breakGlassRequestSchema,
  breakGlassStepResultSchema,
} from '.';

const messagesAt = (
  result: { error?: { issues: { path: PropertyKey[]; message: string }[] } },
  field: string,
) =>
  (result.error?.issues ?? [])
    .filter(i => i.path[0] === field)
    .map(i => i.message)
    .join(' ');

describe('breakGlassRequestInputSchema', () => {
  const valid = {
    cluster: 'payments-prod-eu1',
    reason: 'checkout pods crash-loop; hotfix the config map',
    durationSeconds: 1800,
    namespace: 'team-payments',
  };

  it('accepts a request and trims the reason', () => {
    expect(
      breakGlassRequestInputSchema.parse({
        ...valid,
        reason: `  ${valid.reason}\n`,
      }),
    ).toEqual(valid);
    expect(
      breakGlassRequestInputSchema.parse({
        cluster: valid.cluster,
        reason: valid.reason,
      }),
    ).toEqual({ cluster: valid.cluster, reason: valid.reason });
  });

  it('wants a reason of at least 10 characters, not counting blanks', () => {
    const result = breakGlassRequestInputSchema.safeParse({
      ...valid,
      reason: '   fix it    ',
    });
    expect(result.success).toBe(false);
    expect(messagesAt(result, 'reason')).toBe(
      'must say why, in at least 10 characters',
    );
    expect(
      breakGlassRequestInputSchema.safeParse({
        ...valid,
        reason: 'x'.repeat(2001),
      }).success,
    ).toBe(false);
    expect(
      breakGlassRequestInputSchema.safeParse({ cluster: valid.cluster })
        .success,
    ).toBe(false);
  });

  it('wants whole seconds, at least a minute', () => {
    expect(
      breakGlassRequestInputSchema.safeParse({ ...valid, durationSeconds: 60 })
        .success,
    ).toBe(true);
    const short = breakGlassRequestInputSchema.safeParse({
      ...valid,
      durationSeconds: 59,
    });
    expect(messagesAt(short, 'durationSeconds')).toBe(
      'must be at least 60 seconds',
    );
    expect(
      breakGlassRequestInputSchema.safeParse({
        ...valid,
        durationSeconds: 90.5,
      }).success,
    ).toBe(false);
    expect(
      breakGlassRequestInputSchema.safeParse({
        ...valid,
        durationSeconds: '1800',
      }).success,
    ).toBe(false);
  });

  it('rejects namespaces and clusters that are not DNS labels, and unknown fields', () => {
    for (const [patch, field] of [
      [{ namespace: 'Kube_System' }, 'namespace'],
      [{ cluster: 'payments.prod' }, 'cluster'],
    ] as const) {
      const result = breakGlassRequestInputSchema.safeParse({
        ...valid,
        ...patch,
      });
      expect(messagesAt(result, field)).toContain('DNS-1123');
    }
    const extra = breakGlassRequestInputSchema.safeParse({
      ...valid,
      requester: 'user:default/mallory',
    });
    expect(extra.success).toBe(false);
    expect(extra.error?.issues[0].code).toBe('unrecognized_keys');
  });
});

describe('breakGlassListQuerySchema', () => {
  it('accepts filters and a limit of 1 to 500', () => {
    for (const query of [
      {},
      { state: 'expired', cluster: 'payments-prod-eu1', limit: 1 },
      { limit: 500 },
    ]) {
      expect(breakGlassListQuerySchema.parse(query)).toEqual(query);
    }
  });

  it.each([
    [{ limit: 0 }, 'limit'],
    [{ limit: 501 }, 'limit'],
    [{ limit: 2.5 }, 'limit'],
    [{ state: 'open' }, 'state'],
    [{ cluster: 'Payments' }, 'cluster'],
  ])('rejects %j', (query, field) => {
    const result = breakGlassListQuerySchema.safeParse(query);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual([field]);
  });
});

describe('breakGlassRequestSchema', () => {
  const approved = {
    id: '6d6f6f6f-0000-4000-8000-000000000001',
    cluster: 'payments-prod-eu1',
    environmentGroup: 'payments-prod',
    namespace: 'team-payments',
    requester: 'user:default/alice',
    reason: 'checkout pods crash-loop; hotfix the config map',
    durationSeconds: 1800,
    state: 'approved',
    createdAt: '2026-12-06T18:00:00.000Z',
    pendingUntil: '2026-12-06T19:00:00.000Z',
    decidedBy: 'user:default/oscar',
    decidedAt: '2026-12-06T18:05:00.000Z',
    comment: 'go ahead',
    expiresAt: '2026-12-06T18:35:00.000Z',
  };

  it('accepts an approved request; a step result also names its audit event', () => {
    expect(breakGlassRequestSchema.parse(approved)).toEqual(approved);
    const step = {
      ...approved,
      auditId: '6d6f6f6f-0000-4000-8000-0000000000aa',
    };
    expect(breakGlassStepResultSchema.parse(step)).toEqual(step);
    expect(breakGlassStepResultSchema.safeParse(approved).success).toBe(false);
  });

  it('rejects unknown states and timestamps that are not ISO date-times', () => {
    for (const patch of [
      { state: 'open' },
      { expiresAt: 'tomorrow' },
      { id: 'abc' },
    ]) {
      const result = breakGlassRequestSchema.safeParse({
        ...approved,
        ...patch,
      });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0].path).toEqual([Object.keys(patch)[0]]);
    }
  });
});
