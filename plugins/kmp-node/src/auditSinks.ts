import {
  createExtensionPoint,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { StoredAuditEvent as CommonStoredAuditEvent } from '@kmp/plugin-kmp-common';

/**
 * An audit event as the store hands it to sinks: the event plus its position
 * in the hash chain.
 *
 * @public
 */
export interface StoredAuditEvent extends CommonStoredAuditEvent {
  /** Monotonic position in the store, the unit of a sink's cursor. */
  seq: number;
  /** Hex SHA-256 over the previous hash and this event's canonical form. */
  hash: string;
}

/**
 * Options of one delivery attempt.
 *
 * @public
 */
export interface KmpAuditDeliveryOptions {
  /**
   * Aborted when the attempt times out or the backend shuts down; a sink
   * should stop its network call and throw.
   */
  signal: AbortSignal;
}

/**
 * Delivers audit events to one destination (a SIEM endpoint, a file, …).
 * `deliver` gets batches in store order and must either accept the whole
 * batch or throw; the stream retries a failed batch with backoff and never
 * skips it, so a destination sees every event at least once, in order.
 *
 * @public
 */
export interface KmpAuditSink {
  deliver(
    events: StoredAuditEvent[],
    options?: KmpAuditDeliveryOptions,
  ): Promise<void>;
  close?(): Promise<void>;
}

/**
 * Creates sinks of one kind (e.g. `http`, `syslog`, `file`) from the
 * `kmp.audit.sinks[]` entries whose `kind` it names. `create` should read and
 * check its kind-specific options eagerly, so that a broken entry fails
 * start-up with a message naming the key.
 *
 * @public
 */
export interface KmpAuditSinkFactory {
  kind: string;
  create(options: {
    /** The `kmp.audit.sinks[]` entry. */
    config: Config;
    logger: LoggerService;
    /** The entry's `name`. */
    name?: string;
  }): KmpAuditSink;
}

/**
 * Thrown by sinks to say how a failed delivery should be reported. Any other
 * error counts as `transient`. Either way the batch is retried with backoff:
 * audit events are never dropped.
 *
 * - `transient`: the destination is down, slow or overloaded (connection
 *   refused or closed, timeout, HTTP 408, 429 or 5xx).
 * - `rejected`: the destination refused the batch (another HTTP 4xx, a TLS
 *   certificate it does not trust); an operator has to act, so the sink's
 *   state turns `failing` at once.
 *
 * @public
 */
export class KmpAuditDeliveryError extends Error {
  readonly kind: 'transient' | 'rejected';

  constructor(
    message: string,
    options: { kind: 'transient' | 'rejected'; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = 'KmpAuditDeliveryError';
    this.kind = options.kind;
  }
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
