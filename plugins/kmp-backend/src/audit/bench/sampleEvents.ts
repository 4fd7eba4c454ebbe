import { AuditEvent } from '@kmp/plugin-kmp-common';
import { randomUUID } from 'node:crypto';

/** A varied, valid audit event; `index` decides actor, action, target and decision. */
export function makeEvent(
  index: number,
  overrides: Partial<AuditEvent> = {},
): AuditEvent {
  return {
    id: randomUUID(),
    time: new Date(
      Date.UTC(2026, 10, 25, 12, 0, 0) + index * 1000,
    ).toISOString(),
    actor: {
      type: 'human',
      ref: `user:default/user-${index % 3}`,
      persona: 'developer',
    },
    action: index % 2 === 0 ? 'proxy.request' : 'cluster.register',
    target: {
      cluster: `cluster-${index % 4}`,
      namespace: `team-${index % 2}`,
    },
    decision: { result: index % 5 === 0 ? 'deny' : 'allow' },
    outcome: 'success',
    correlationId: `corr-${index}`,
    ...overrides,
  };
}
