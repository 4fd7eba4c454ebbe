import { AuditEvent } from '@kmp/plugin-kmp-common';
import { StoredAuditEvent } from './auditSinks';

/**
 * An audit event as a domain hands it to {@link KmpAuditService.record}: the
 * id, time and correlation id are filled in when missing.
 *
 * @public
 */
export type KmpAuditEventInput = Omit<
  AuditEvent,
  'id' | 'time' | 'correlationId'
> &
  Partial<Pick<AuditEvent, 'id' | 'time' | 'correlationId'>>;

/**
 * Records audit events durably in KMP's hash-chained audit store. Used by the
 * access broker, the registry and the scaffolder actions.
 *
 * @public
 */
export interface KmpAuditService {
  /**
   * Redacts secrets from the event's request, response and details, checks
   * it against the audit event schema, and resolves once the event is
   * durably appended to the chain. Rejects with an InputError when the event
   * is malformed, and with the database error when it could not be stored.
   */
  record(event: KmpAuditEventInput): Promise<StoredAuditEvent>;
}
