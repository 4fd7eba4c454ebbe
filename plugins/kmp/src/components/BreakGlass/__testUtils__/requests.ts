import { ResponseError } from '@backstage/errors';
import {
  BreakGlassRequest,
  BreakGlassStepResult,
  KMP_AUDIT_ID_HEADER,
} from '../../../api';

let next = 0;

/** A break-glass request as the backend returns it (pending by default). */
export function bgRequest(
  overrides: Partial<BreakGlassRequest> = {},
): BreakGlassRequest {
  next += 1;
  const now = Date.now();
  return {
    id: `00000000-0000-4000-8000-${String(next).padStart(12, '0')}`,
    cluster: 'payments-prod-eu1',
    environmentGroup: 'payments-prod',
    requester: 'user:default/alice',
    reason: 'payments API is down, roll back by hand',
    durationSeconds: 3600,
    state: 'pending',
    createdAt: new Date(now - 60_000).toISOString(),
    pendingUntil: new Date(now + 3600_000).toISOString(),
    ...overrides,
  };
}

/** The same request, approved now by `by`. */
export const approved = (
  r: BreakGlassRequest,
  by = 'user:default/oscar',
): BreakGlassRequest => ({
  ...r,
  state: 'approved',
  decidedBy: by,
  decidedAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + r.durationSeconds * 1000).toISOString(),
});

/** A step's answer: the request afterwards and the step's audit id. */
export const stepResult = (
  r: BreakGlassRequest,
  auditId: string,
): BreakGlassStepResult => ({ ...r, auditId });

/**
 * What KmpClient throws for a Backstage error response: the backend's
 * message is the cause, the message only names the status. A refusal the
 * backend recorded names its audit event in the `kmp-audit-id` header.
 */
export function responseError(
  statusCode: number,
  name: string,
  message: string,
  auditId?: string,
): Promise<ResponseError> {
  return ResponseError.fromResponse(
    new Response(
      JSON.stringify({ error: { name, message }, response: { statusCode } }),
      {
        status: statusCode,
        headers: {
          'content-type': 'application/json',
          ...(auditId ? { [KMP_AUDIT_ID_HEADER]: auditId } : {}),
        },
      },
    ),
  );
}
