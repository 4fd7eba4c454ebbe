import { LoggerService } from '@backstage/backend-plugin-api';
import {
  KmpAuditDeliveryError,
  KmpAuditDeliveryOptions,
  StoredAuditEvent,
} from '@kmp/plugin-kmp-node';
import { SinkCursorStore, SinkState } from './SinkCursorStore';

/**
 * Options of one delivery loop. The loop is generic over the outbox: audit
 * events by default, and any seq-ordered record (the alerts domain uses it
 * for its receivers).
 */
export interface AuditSinkRunnerOptions<
  E extends { seq: number } = StoredAuditEvent,
> {
  name: string;
  kind: string;
  sink: {
    deliver(events: E[], options?: KmpAuditDeliveryOptions): Promise<void>;
  };
  store: { readAfter(cursor: number, limit: number): Promise<E[]> };
  /** How log lines name the destination; `Audit sink` by default. */
  label?: string;
  cursors: SinkCursorStore;
  logger: LoggerService;
  /** Identifies this backend instance in the sink's lease. */
  instanceId: string;
  batchSize: number;
  timeoutMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** How often to look for events appended by other instances. */
  pollIntervalMs?: number;
  leaseMs?: number;
  /** Subscribes to local appends, to deliver without waiting for a poll. */
  onAppended?: (listener: () => void) => () => void;
  /** Consecutive transient failures after which the state is `failing`. */
  failingAfter?: number;
}

/** Exponential backoff with "equal jitter": half fixed, half random. */
export function backoffDelay(
  attempt: number,
  minMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

function sleep(ms: number, signal: AbortSignal, wake?: Promise<void>) {
  return new Promise<void>(resolve => {
    if (signal.aborted) {
      resolve();
      return;
    }
    let timer: NodeJS.Timeout | undefined = undefined;
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    wake?.then(done);
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause =
      error.cause instanceof Error && error.cause.message !== error.message
        ? ` (${error.cause.message})`
        : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/**
 * Delivers one sink's outbox: reads the events after the sink's cursor in
 * seq order, hands them to the sink in batches, and moves the cursor only
 * after a batch was accepted. A failed batch is retried, whole, with
 * exponential backoff and jitter, for as long as it takes: events wait in
 * the store, none is skipped. A lease row makes sure only one backend
 * instance delivers to a sink at a time.
 */
export class AuditSinkRunner<E extends { seq: number } = StoredAuditEvent> {
  private readonly label: string;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly failingAfter: number;
  private failures = 0;

  private constructor(private readonly options: AuditSinkRunnerOptions<E>) {
    this.label = options.label ?? 'Audit sink';
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.failingAfter = options.failingAfter ?? 5;
  }

  static create<E extends { seq: number } = StoredAuditEvent>(
    options: AuditSinkRunnerOptions<E>,
  ): AuditSinkRunner<E> {
    return new AuditSinkRunner<E>(options);
  }

  /**
   * Runs until `signal` aborts or `budgetMs` has passed (the scheduler then
   * starts the next run), then releases the lease.
   */
  async run(signal: AbortSignal, budgetMs = Infinity): Promise<void> {
    const { name, cursors, store, instanceId, logger } = this.options;
    const deadline = Date.now() + budgetMs;
    let wake: (() => void) | undefined;
    let wakeup = new Promise<void>(resolve => (wake = resolve));
    const unsubscribe = this.options.onAppended?.(() => {
      wake?.();
      wakeup = new Promise<void>(resolve => (wake = resolve));
    });
    try {
      while (!signal.aborted && Date.now() < deadline) {
        let lease;
        try {
          lease = await cursors.acquireLease(name, instanceId, this.leaseMs);
        } catch (error) {
          logger.warn(
            `${this.label} ${name}: cannot read its cursor: ${error}`,
          );
          await sleep(this.pollIntervalMs * 4, signal);
          continue;
        }
        if (!lease) {
          // Another instance delivers; take over if its lease lapses.
          await sleep(Math.min(this.leaseMs / 2, 5_000), signal);
          continue;
        }
        // Taken before reading, so an append racing the read still wakes us.
        const appended = wakeup;
        let events;
        try {
          events = await store.readAfter(lease.cursor, this.options.batchSize);
        } catch (error) {
          logger.warn(`${this.label} ${name}: cannot read events: ${error}`);
          await sleep(this.pollIntervalMs * 4, signal);
          continue;
        }
        if (events.length === 0) {
          await sleep(this.pollIntervalMs, signal, appended);
          continue;
        }
        if (events[0].seq !== lease.cursor + 1) {
          logger.warn(
            `${this.label} ${name}: events ${lease.cursor + 1} to ${
              events[0].seq - 1
            } are not in the store (pruned or deleted); delivering from ${
              events[0].seq
            }`,
          );
        }
        await this.deliverBatch(lease.cursor, events, signal);
      }
    } finally {
      unsubscribe?.();
      await cursors.releaseLease(name, instanceId).catch(() => {});
    }
  }

  private async deliverBatch(cursor: number, events: E[], signal: AbortSignal) {
    const { name, sink, cursors, instanceId, logger, timeoutMs } = this.options;
    const attempt = new AbortController();
    const onAbort = () => attempt.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        sink.deliver(events, { signal: attempt.signal }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const error = new KmpAuditDeliveryError(
              `delivery timed out after ${timeoutMs} ms`,
              { kind: 'transient' },
            );
            attempt.abort(error);
            reject(error);
          }, timeoutMs);
        }),
      ]);
    } catch (error) {
      if (signal.aborted) return;
      this.failures += 1;
      const rejected =
        error instanceof KmpAuditDeliveryError && error.kind === 'rejected';
      const state: SinkState =
        rejected || this.failures >= this.failingAfter ? 'failing' : 'retrying';
      const message = describe(error);
      const delay = backoffDelay(
        this.failures,
        this.options.minBackoffMs,
        this.options.maxBackoffMs,
      );
      // Recorded before it is logged: whoever reads the log finds the
      // state (retrying, failing) already in the cursor.
      await cursors
        .recordFailure(name, instanceId, {
          message,
          state,
          consecutiveFailures: this.failures,
        })
        .catch(() => {});
      (this.failures === 1 || this.failures % 20 === 0
        ? logger.warn
        : logger.debug
      ).call(
        logger,
        `${this.label} ${name}: delivering seq ${events[0].seq}-${
          events[events.length - 1].seq
        } failed (attempt ${
          this.failures
        }), retrying in ${delay} ms: ${message}`,
      );
      await sleep(delay, signal);
      return;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
    if (this.failures > 0) {
      logger.info(
        `${this.label} ${name}: delivering again after ${this.failures} failed attempts`,
      );
    }
    this.failures = 0;
    const moved = await cursors
      .advance(name, instanceId, cursor, events[events.length - 1].seq)
      .catch(error => {
        logger.warn(`${this.label} ${name}: cannot move its cursor: ${error}`);
        return false;
      });
    if (!moved) {
      logger.info(
        `${this.label} ${name}: lost its lease or cursor moved elsewhere; the batch may be delivered again`,
      );
    }
  }
}
