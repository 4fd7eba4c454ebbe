import {
  KmpAuditEventInput,
  KmpForwardedAuditorEvent,
} from '@kmp/plugin-kmp-node';

/** A dotted-action segment: lower case, starting with a letter. */
function segment(value: string): string {
  const cleaned = value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!cleaned) return 'unknown';
  return /^[a-z]/.test(cleaned) ? cleaned : `x${cleaned}`;
}

const DENIALS = new Set(['NotAllowedError', 'AuthenticationError']);

const OUTCOMES = {
  initiated: 'pending',
  succeeded: 'success',
  failed: 'failure',
} as const;

/**
 * Maps another plugin's Backstage auditor event onto the KMP audit schema:
 * action `backstage.<plugin>.<eventId>`, outcome from the auditor status
 * (initiated → pending), a deny decision when the plugin failed the request
 * as not allowed or unauthenticated, and the auditor's meta as details.
 */
export function fromAuditorEvent(
  event: KmpForwardedAuditorEvent,
): KmpAuditEventInput {
  const actorId = event.actor.actorId;
  const denied =
    event.status === 'failed' && DENIALS.has(event.error?.name ?? '');
  return {
    time: event.time,
    correlationId: event.correlationId,
    actor: {
      type: actorId?.startsWith('user:') ? 'human' : 'service',
      ref: (actorId || `plugin:${event.plugin}`).slice(0, 512),
      ...(event.actor.ip ? { ip: event.actor.ip.slice(0, 64) } : {}),
      ...(event.actor.userAgent
        ? { userAgent: event.actor.userAgent.slice(0, 512) }
        : {}),
    },
    action: `backstage.${segment(event.plugin)}.${segment(
      event.eventId,
    )}`.slice(0, 128),
    target: {},
    decision: denied
      ? { result: 'deny', reason: event.error?.message.slice(0, 1000) }
      : { result: 'allow' },
    outcome: OUTCOMES[event.status],
    ...(event.request
      ? {
          request: {
            method: event.request.method?.slice(0, 16),
            path: event.request.url?.slice(0, 2048),
          },
        }
      : {}),
    ...(event.error ? { response: { error: event.error } } : {}),
    source: `backstage:${event.plugin}`.slice(0, 128),
    severity: event.severityLevel,
    ...(event.meta ? { details: event.meta } : {}),
  };
}
