import {
  createExtensionPoint,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { AuditEvent } from '@kmp/plugin-kmp-common';

/**
 * An audit event as the store hands it to sinks: the event plus its position
 * in the hash chain.
 *
 * @public
 */
export interface StoredAuditEvent extends AuditEvent {
  /** Monotonic position in the store, the unit of a sink's cursor. */
  seq: number;
  /** Hex SHA-256 over the previous hash and this event's canonical form. */
  hash: string;
}

/**
 * Delivers audit events to one destination (a SIEM endpoint, a file, …).
 * `deliver` gets batches in store order and must either accept the whole
 * batch or throw; the stream retries a failed batch with backoff and never
 * skips it.
 *
 * @public
 */
export interface KmpAuditSink {
  deliver(events: StoredAuditEvent[]): Promise<void>;
  close?(): Promise<void>;
}

/**
 * Creates sinks of one kind (e.g. `http`, `syslog`, `file`) from the
 * `kmp.audit.sinks[]` entries whose `kind` it names.
 *
 * @public
 */
export interface KmpAuditSinkFactory {
  kind: string;
  create(options: { config: Config; logger: LoggerService }): KmpAuditSink;
}

/**
 * Lets backend modules add audit sink kinds to the KMP backend.
 *
 * @public
 */
export interface KmpAuditSinksExtensionPoint {
  addSinkFactory(...factories: KmpAuditSinkFactory[]): void;
}

/**
 * Extension point for new audit sink kinds.
 *
 * @public
 */
export const kmpAuditSinksExtensionPoint =
  createExtensionPoint<KmpAuditSinksExtensionPoint>({
    id: 'kmp.audit-sinks',
  });
