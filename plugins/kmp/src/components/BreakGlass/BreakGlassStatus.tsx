import {
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
} from '@backstage/core-components';
import { BreakGlassRequest } from '../../api';
import { at, effectiveState } from './breakGlass';

/** The state of a request, with when it ends or lapses. */
export function BreakGlassStatus(props: { request: BreakGlassRequest }) {
  const { request } = props;
  const state = effectiveState(request);
  switch (state) {
    case 'pending':
      return (
        <StatusPending>
          pending, lapses {at(request.pendingUntil)}
        </StatusPending>
      );
    case 'approved':
      return <StatusOK>active until {at(request.expiresAt)}</StatusOK>;
    case 'denied':
      return <StatusError>denied</StatusError>;
    case 'revoked':
      return <StatusAborted>revoked {at(request.revokedAt)}</StatusAborted>;
    default:
      // Only an approved request has an end; one without lapsed undecided.
      return (
        <StatusAborted>
          {request.expiresAt
            ? `expired ${at(request.expiresAt)}`
            : `lapsed undecided ${at(request.pendingUntil)}`}
        </StatusAborted>
      );
  }
}
