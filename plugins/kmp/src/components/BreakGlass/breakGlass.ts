import { parseEntityRef } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import {
  decideAction,
  KMP_RULES,
  KmpActionDecision,
} from '@kmp/plugin-kmp-common';
import { BreakGlassRequest, KMP_AUDIT_ID_HEADER, KmpMe } from '../../api';

/**
 * Grant lifetimes on offer; the backend refuses more than
 * `kmp.breakGlass.maxDurationSeconds` (4 h by default), naming the key.
 */
export const BREAK_GLASS_DURATIONS: Array<{ seconds: number; label: string }> =
  [
    { seconds: 15 * 60, label: '15 minutes' },
    { seconds: 30 * 60, label: '30 minutes' },
    { seconds: 60 * 60, label: '1 hour' },
    { seconds: 2 * 60 * 60, label: '2 hours' },
    { seconds: 4 * 60 * 60, label: '4 hours' },
  ];

/** The backend's minimum length of a reason. */
export const MIN_REASON_LENGTH = 10;

/** The refusal shown on the requester's own request. */
export const OWN_REQUEST_APPROVE = 'you cannot approve your own request';
export const OWN_REQUEST_DENY = 'you cannot deny your own request';

/** Entity refs compare case-insensitively, as the backend compares them. */
export const sameActor = (a: string, b: string) =>
  a.toLocaleLowerCase('en-US') === b.toLocaleLowerCase('en-US');

/** `user:default/alice` → `alice`. */
export function displayName(ref: string | undefined): string {
  if (!ref) return '';
  try {
    return parseEntityRef(ref).name;
  } catch {
    return ref;
  }
}

export const at = (iso: string | undefined) =>
  iso ? new Date(iso).toLocaleString() : '';

export function formatDuration(seconds: number): string {
  const known = BREAK_GLASS_DURATIONS.find(d => d.seconds === seconds);
  if (known) return known.label;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${Math.round(seconds / 60)} min`;
}

/** An approved grant that has not run out (the backend expires it within a minute). */
export function isLiveGrant(r: BreakGlassRequest, now = Date.now()): boolean {
  return (
    r.state === 'approved' && !!r.expiresAt && Date.parse(r.expiresAt) > now
  );
}

/** A pending request nobody decided yet and that has not lapsed. */
export function isOpen(r: BreakGlassRequest, now = Date.now()): boolean {
  return r.state === 'pending' && Date.parse(r.pendingUntil) > now;
}

/** The state as the viewer should read it, expiry included. */
export function effectiveState(
  r: BreakGlassRequest,
  now = Date.now(),
): BreakGlassRequest['state'] {
  if (r.state === 'approved' && !isLiveGrant(r, now)) return 'expired';
  if (r.state === 'pending' && !isOpen(r, now)) return 'expired';
  return r.state;
}

/**
 * Whether the viewer's personas in the request's environment group let them
 * approve or deny it (PERSONAS.md: ops and platform engineers of
 * production), never their own. The backend decides; this shapes the page.
 */
export function decisionOn(
  me: KmpMe | undefined,
  r: BreakGlassRequest,
  step: 'approve' | 'deny',
): KmpActionDecision {
  if (!me) return { allowed: false, reason: 'your personas are not known yet' };
  if (sameActor(me.user, r.requester)) {
    return {
      allowed: false,
      reason: step === 'approve' ? OWN_REQUEST_APPROVE : OWN_REQUEST_DENY,
    };
  }
  return mayApproveIn(me, r.environmentGroup);
}

/** The viewer's approval decision in one environment group. */
export function mayApproveIn(
  me: KmpMe,
  environmentGroup: string,
): KmpActionDecision {
  const held = me.personas.filter(p => p.environmentGroup === environmentGroup);
  if (held.length === 0) {
    return { allowed: false, reason: KMP_RULES.noPersona(environmentGroup) };
  }
  const decisions = held.map(p =>
    decideAction({
      persona: p.persona,
      environment: p.environment,
      action: 'break-glass-approve',
    }),
  );
  return decisions.find(d => d.allowed) ?? decisions[0];
}

/** The requester may revoke their own; approvers anybody's. */
export function revokeDecision(
  me: KmpMe | undefined,
  r: BreakGlassRequest,
): KmpActionDecision {
  if (!me) return { allowed: false, reason: 'your personas are not known yet' };
  if (sameActor(me.user, r.requester)) return { allowed: true };
  return mayApproveIn(me, r.environmentGroup);
}

/**
 * The backend's own words for a refusal or failure: a Backstage error body
 * carries them in the cause (`NotAllowedError: …`), which the generic
 * "Request failed with 403" message would hide.
 */
export function refusalOf(error: unknown): string {
  if (ResponseError.is(error)) {
    const what =
      {
        400: 'Invalid',
        403: 'Refused',
        404: 'Not found',
        409: 'Conflict',
      }[error.statusCode] ?? `Failed (${error.statusCode})`;
    return `${what}: ${error.cause.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * The audit event of a refused step: the backend records refusals by a
 * rule (four eyes, permission policy, non-production) and names the event
 * in the `kmp-audit-id` header, as the broker does.
 */
export function refusalAuditId(error: unknown): string | undefined {
  if (!ResponseError.is(error)) return undefined;
  return error.response.headers.get(KMP_AUDIT_ID_HEADER) ?? undefined;
}
