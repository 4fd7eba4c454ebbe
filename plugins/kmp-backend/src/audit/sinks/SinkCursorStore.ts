import { Knex } from 'knex';

const TABLE = 'kmp_audit_sink_cursors';

/**
 * - `idle`: nothing delivered or attempted yet.
 * - `healthy`: the last attempt succeeded.
 * - `retrying`: the last attempts failed in a way that usually heals
 *   (connection refused or closed, timeout, 408, 429, 5xx).
 * - `failing`: the destination rejected a batch, or transient failures
 *   have lasted; an operator should look. Delivery is still retried.
 */
export type SinkState = 'idle' | 'healthy' | 'retrying' | 'failing';

export interface SinkCursorRow {
  name: string;
  kind: string;
  cursor: number;
  state: SinkState;
  consecutiveFailures: number;
  lastError?: string;
  lastErrorAt?: number;
  lastSuccessAt?: number;
  deliveredCount: number;
  leaseOwner?: string;
  leaseExpiresAt?: number;
}

type Row = {
  name: string;
  kind: string;
  cursor: number | string;
  state: string;
  consecutive_failures: number | string;
  last_error: string | null;
  last_error_at_ms: number | string | null;
  last_success_at_ms: number | string | null;
  delivered_count: number | string;
  lease_owner: string | null;
  lease_expires_at_ms: number | string | null;
};

const optionalNumber = (value: number | string | null) =>
  value === null || value === undefined ? undefined : Number(value);

function toCursor(row: Row): SinkCursorRow {
  return {
    name: row.name,
    kind: row.kind,
    cursor: Number(row.cursor),
    state: row.state as SinkState,
    consecutiveFailures: Number(row.consecutive_failures),
    lastError: row.last_error ?? undefined,
    lastErrorAt: optionalNumber(row.last_error_at_ms),
    lastSuccessAt: optionalNumber(row.last_success_at_ms),
    deliveredCount: Number(row.delivered_count),
    leaseOwner: row.lease_owner ?? undefined,
    leaseExpiresAt: optionalNumber(row.lease_expires_at_ms),
  };
}

/**
 * The outbox cursors: one row per sink with how far it has been delivered,
 * its health, and a lease naming the one backend instance that delivers to
 * it. Cursor moves are compare-and-set on the previous cursor and the lease
 * owner, so a delivery loop that lost its lease can re-deliver a batch but
 * never move a cursor backwards or past an undelivered event.
 */
export class SinkCursorStore {
  private constructor(
    private readonly db: Knex,
    private readonly table: string,
  ) {}

  /**
   * `table` is the audit sinks' cursor table by default; another outbox
   * (the alert receivers) keeps its cursors in its own table of the same
   * shape.
   */
  static create(options: { db: Knex; table?: string }): SinkCursorStore {
    return new SinkCursorStore(options.db, options.table ?? TABLE);
  }

  /** Creates the sink's row at `initialCursor` unless it exists. */
  async ensure(name: string, kind: string, initialCursor: number) {
    await this.db(this.table)
      .insert({
        name,
        kind,
        cursor: initialCursor,
        state: 'idle',
        consecutive_failures: 0,
        delivered_count: 0,
      })
      .onConflict('name')
      .ignore();
    await this.db(this.table)
      .where({ name })
      .whereNot({ kind })
      .update({ kind });
  }

  async get(name: string): Promise<SinkCursorRow | undefined> {
    const row = await this.db<Row>(this.table).where({ name }).first();
    return row ? toCursor(row) : undefined;
  }

  async list(names?: string[]): Promise<SinkCursorRow[]> {
    const query = this.db<Row>(this.table).orderBy('name');
    if (names) query.whereIn('name', names);
    return (await query).map(toCursor);
  }

  /**
   * Takes or renews the lease for `owner`; returns the sink's row when
   * `owner` holds it, undefined when another live instance does.
   */
  async acquireLease(
    name: string,
    owner: string,
    leaseMs: number,
    now = Date.now(),
  ): Promise<SinkCursorRow | undefined> {
    const updated = await this.db(this.table)
      .where({ name })
      .andWhere(q =>
        q
          .whereNull('lease_owner')
          .orWhere('lease_owner', owner)
          .orWhere('lease_expires_at_ms', '<', now),
      )
      .update({ lease_owner: owner, lease_expires_at_ms: now + leaseMs });
    if (updated !== 1) return undefined;
    return this.get(name);
  }

  async releaseLease(name: string, owner: string) {
    await this.db(this.table)
      .where({ name, lease_owner: owner })
      .update({ lease_owner: null, lease_expires_at_ms: null });
  }

  /** Moves the cursor from `from` to `to`; false if the lease was lost. */
  async advance(
    name: string,
    owner: string,
    from: number,
    to: number,
    now = Date.now(),
  ): Promise<boolean> {
    const updated = await this.db(this.table)
      .where({ name, lease_owner: owner, cursor: from })
      .update({
        cursor: to,
        state: 'healthy',
        consecutive_failures: 0,
        last_success_at_ms: now,
        delivered_count: this.db.raw('delivered_count + ?', [to - from]),
      });
    return updated === 1;
  }

  async recordFailure(
    name: string,
    owner: string,
    failure: { message: string; state: SinkState; consecutiveFailures: number },
    now = Date.now(),
  ) {
    await this.db(this.table)
      .where({ name, lease_owner: owner })
      .update({
        state: failure.state,
        consecutive_failures: failure.consecutiveFailures,
        last_error: failure.message.slice(0, 2000),
        last_error_at_ms: now,
      });
  }
}
