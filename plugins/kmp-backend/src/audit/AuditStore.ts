import { AuditEvent, StoredAuditEvent } from '@kmp/plugin-kmp-common';
import { Knex } from 'knex';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { canonicalJson, chainHash, GENESIS_HASH } from './chain';

const EVENTS = 'kmp_audit_events';
const HEAD = 'kmp_audit_head';
const CHECKPOINTS = 'kmp_audit_checkpoints';

const COLUMNS = [
  'seq',
  'id',
  'time_ms',
  'actor_type',
  'actor_ref',
  'action',
  'cluster',
  'namespace',
  'decision',
  'outcome',
  'correlation_id',
  'event',
  'hash',
] as const;

const PG_COLUMN_TYPES = [
  'bigint',
  'text',
  'bigint',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
];

/** The parts of a better-sqlite3 connection the SQLite append path uses. */
type SqliteStatement = {
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): unknown;
};
type SqliteConnection = {
  prepare(sql: string): SqliteStatement;
  transaction<T>(fn: () => T): { immediate(): T };
};
const sqliteStatements = new WeakMap<
  SqliteConnection,
  { head: SqliteStatement; insert: SqliteStatement; move: SqliteStatement }
>();

const checkpointWorkers = new Set<string>();

/** Checkpoints an SQLite file's write-ahead log every 500 ms, off-thread. */
function startCheckpointWorker(filename: string) {
  const file = path.resolve(filename);
  if (checkpointWorkers.has(file)) return;
  let module: string;
  try {
    module = require.resolve('better-sqlite3');
  } catch {
    return; // SQLite's auto-checkpoint still runs
  }
  checkpointWorkers.add(file);
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const Database = require(workerData.module);
     const db = new Database(workerData.file, { timeout: 1000 });
     setInterval(() => {
       try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
     }, 500);`,
    { eval: true, workerData: { file, module } },
  );
  worker.unref();
  worker.on('error', () => checkpointWorkers.delete(file));
}

/** An event checked against the schema, with its canonical form computed. */
export interface PreparedAuditEvent {
  event: AuditEvent;
  canonical: string;
}

export function prepareAuditEvent(event: AuditEvent): PreparedAuditEvent {
  return { event, canonical: canonicalJson(event) };
}

type EventRow = {
  seq: number | string;
  id: string;
  time_ms: number | string;
  actor_type: string;
  actor_ref: string;
  action: string;
  cluster: string | null;
  namespace: string | null;
  decision: string;
  outcome: string;
  correlation_id: string;
  event: string;
  hash: string;
};

/** The columns a row must carry for an event: what queries filter on. */
function indexedColumns(event: AuditEvent, timeMs: number) {
  return {
    id: event.id,
    time_ms: timeMs,
    actor_type: event.actor.type,
    actor_ref: event.actor.ref,
    action: event.action,
    cluster: event.target.cluster ?? null,
    namespace: event.target.namespace ?? null,
    decision: event.decision.result,
    outcome: event.outcome,
    correlation_id: event.correlationId,
  };
}

function toStored(row: Pick<EventRow, 'seq' | 'event' | 'hash'>) {
  return {
    ...(JSON.parse(row.event) as AuditEvent),
    seq: Number(row.seq),
    hash: row.hash,
  } as StoredAuditEvent;
}

/** Filters of the audit query API. All given filters must match. */
export interface AuditEventFilter {
  actor?: string;
  actorType?: string;
  cluster?: string;
  namespace?: string;
  /** Exact action, or a prefix when it ends with `.*` (`proxy.*`). */
  action?: string;
  decision?: 'allow' | 'deny';
  outcome?: 'success' | 'failure' | 'pending';
  correlationId?: string;
  /** Inclusive lower bound of the event time, epoch ms. */
  fromMs?: number;
  /** Exclusive upper bound of the event time, epoch ms. */
  toMs?: number;
}

export interface AuditEventPageRequest extends AuditEventFilter {
  limit: number;
  order: 'asc' | 'desc';
  /** Continue after this seq, in `order`. */
  afterSeq?: number;
}

export interface AuditChainHead {
  seq: number;
  hash: string;
}

export interface AuditCheckpoint {
  seq: number;
  hash: string;
  prevSeq: number;
  createdAtMs: number;
  algorithm: string;
  keyId: string;
  signature: string;
}

export interface AuditVerifyResult {
  valid: boolean;
  /** Rows whose hash was recomputed. */
  checked: number;
  headSeq: number;
  /** The signed checkpoint verification started from, if rows were pruned. */
  checkpointSeq?: number;
  firstInvalidSeq?: number;
  reason?: string;
}

export interface AuditVerifyOptions {
  /**
   * Checks a checkpoint's signature; returns why it is not authentic, or
   * undefined when it is.
   */
  checkCheckpoint?: (checkpoint: AuditCheckpoint) => string | undefined;
  /** Stop after this seq instead of at the head (pruning verifies a range). */
  upToSeq?: number;
  pageSize?: number;
}

/**
 * The append-only audit store: events in a SHA-256 hash chain, each row's
 * hash covering the previous hash and the event's canonical JSON. Appends
 * lock the one-row chain head (`SELECT … FOR UPDATE` on PostgreSQL; SQLite
 * serialises writers itself), so several backend instances writing to one
 * PostgreSQL extend one gap-free chain, and rows become visible in seq order.
 */
export class AuditStore {
  private readonly isPostgres: boolean;
  private readonly isBetterSqlite: boolean;
  /** The head this store last wrote: where its next append most likely goes. */
  private lastHead?: AuditChainHead;
  /** Until when to skip the optimistic append, after losing a race. */
  private contendedUntil = 0;

  private constructor(private readonly db: Knex) {
    const client = String(db.client.config.client ?? '');
    this.isPostgres = client === 'pg' || client.includes('postgres');
    this.isBetterSqlite = client === 'better-sqlite3';
  }

  static create(options: { db: Knex }): AuditStore {
    return new AuditStore(options.db);
  }

  /**
   * Puts a file-backed SQLite database in write-ahead-log mode: a commit is
   * then one fsync of the log (still durable, `synchronous` stays FULL)
   * instead of creating, syncing and deleting a rollback journal. The log is
   * copied back into the database by a worker thread on its own connection,
   * so that checkpoints do not stall appends on the event loop (SQLite's own
   * auto-checkpoint stays on as a backstop, at a larger size). A no-op on
   * PostgreSQL and in-memory SQLite.
   */
  static async prepareDatabase(db: Knex): Promise<void> {
    const config = db.client.config as Knex.Config;
    if (config.client !== 'better-sqlite3') return;
    const connection = config.connection as
      | string
      | { filename?: string }
      | undefined;
    const filename =
      typeof connection === 'string' ? connection : connection?.filename;
    if (!filename || filename === ':memory:' || filename.startsWith('file:')) {
      return;
    }
    const [{ journal_mode: mode }] = await db.raw('pragma journal_mode = wal');
    if (mode !== 'wal') return;
    await db.raw('pragma wal_autocheckpoint = 10000');
    startCheckpointWorker(filename);
  }

  /**
   * Appends events atomically and returns their seq and hash, in order.
   * Either all are stored or none.
   *
   * On PostgreSQL the common case is one statement and one round trip:
   * hashes are chained from the head this store last wrote, and the insert
   * only happens if a compare-and-set on the head row still finds that head
   * (another instance may have appended since). When it does not, the
   * batch goes through a transaction that locks the head row
   * (`SELECT … FOR UPDATE`) instead, which always succeeds, and so do the
   * next batches for a second: writers on several busy instances do not
   * waste uploads racing each other. Either way the head row serialises
   * writers, so the chain has no gaps or forks and rows become visible in
   * seq order.
   */
  async appendBatch(items: PreparedAuditEvent[]): Promise<AuditChainHead[]> {
    if (items.length === 0) return [];
    if (
      this.isPostgres &&
      items.length <= 10_000 &&
      Date.now() >= this.contendedUntil
    ) {
      const head = this.lastHead ?? (await this.head());
      const { rows, results } = this.chainRows(head, items);
      const last = results[results.length - 1];
      if (await this.insertIfHead(head, last, rows)) {
        this.lastHead = last;
        return results;
      }
      // Another instance appended: lock instead of racing it again.
      this.lastHead = undefined;
      this.contendedUntil = Date.now() + 1000;
    }
    if (this.isBetterSqlite) {
      return this.appendSqlite(items);
    }
    const results = await this.db.transaction(async tx => {
      const headQuery = tx(HEAD).where({ id: 1 }).select('seq', 'hash');
      const head = (await (this.isPostgres
        ? headQuery.forUpdate()
        : headQuery
      ).first()) as { seq: number | string; hash: string } | undefined;
      if (!head) {
        throw new Error('The audit chain head row is missing');
      }
      const chained = this.chainRows(
        { seq: Number(head.seq), hash: head.hash },
        items,
      );
      await this.insertRows(tx, EVENTS, chained.rows);
      const last = chained.results[chained.results.length - 1];
      await tx(HEAD)
        .where({ id: 1 })
        .update({ seq: last.seq, hash: last.hash });
      return chained.results;
    });
    this.lastHead = results[results.length - 1];
    return results;
  }

  /**
   * SQLite (better-sqlite3): one `BEGIN IMMEDIATE` transaction on the raw
   * connection with cached prepared statements. IMMEDIATE takes the write
   * lock before the head is read, so even several processes on one file
   * cannot fork the chain.
   */
  private async appendSqlite(
    items: PreparedAuditEvent[],
  ): Promise<AuditChainHead[]> {
    const client = this.db.client as {
      acquireConnection(): Promise<SqliteConnection>;
      releaseConnection(connection: SqliteConnection): Promise<void>;
    };
    const connection = await client.acquireConnection();
    try {
      let statements = sqliteStatements.get(connection);
      if (!statements) {
        statements = {
          head: connection.prepare(
            `select seq, hash from ${HEAD} where id = 1`,
          ),
          insert: connection.prepare(
            `insert into ${EVENTS} (${COLUMNS.join(
              ', ',
            )}) values (${COLUMNS.map(() => '?').join(', ')})`,
          ),
          move: connection.prepare(
            `update ${HEAD} set seq = ?, hash = ? where id = 1`,
          ),
        };
        sqliteStatements.set(connection, statements);
      }
      const { head, insert, move } = statements;
      const append = connection.transaction(() => {
        const current = head.get() as { seq: number; hash: string } | undefined;
        if (!current) throw new Error('The audit chain head row is missing');
        const { rows, results } = this.chainRows(
          { seq: Number(current.seq), hash: current.hash },
          items,
        );
        for (const row of rows) {
          insert.run(...COLUMNS.map(column => row[column]));
        }
        const last = results[results.length - 1];
        move.run(last.seq, last.hash);
        return results;
      });
      return append.immediate() as AuditChainHead[];
    } finally {
      await client.releaseConnection(connection);
    }
  }

  private chainRows(head: AuditChainHead, items: PreparedAuditEvent[]) {
    let seq = head.seq;
    let prev = head.hash;
    const results: AuditChainHead[] = [];
    const rows = items.map(item => {
      seq += 1;
      prev = chainHash(prev, item.canonical);
      results.push({ seq, hash: prev });
      return {
        seq,
        ...indexedColumns(item.event, Date.parse(item.event.time)),
        event: item.canonical,
        hash: prev,
      };
    });
    return { rows, results };
  }

  /** PostgreSQL: moves the head from `from` to `to` and inserts, or neither. */
  private async insertIfHead(
    from: AuditChainHead,
    to: AuditChainHead,
    rows: Array<Record<(typeof COLUMNS)[number], unknown>>,
  ): Promise<boolean> {
    const arrays = COLUMNS.map(column => rows.map(row => row[column]));
    const unnest = PG_COLUMN_TYPES.map(type => `?::${type}[]`).join(', ');
    const result = await this.db.raw(
      `with moved as (
         update ${HEAD} set seq = ?, hash = ?
         where id = 1 and seq = ? and hash = ?
         returning id
       )
       insert into ${EVENTS} (${COLUMNS.join(', ')})
       select * from unnest(${unnest}) where exists (select 1 from moved)`,
      [
        to.seq,
        to.hash,
        from.seq,
        from.hash,
        ...(arrays as unknown as Knex.RawBinding[]),
      ],
    );
    return result.rowCount === rows.length && rows.length > 0;
  }

  /**
   * Inserts rows into an events-shaped table: `unnest` of column arrays on
   * PostgreSQL (14 bind parameters whatever the batch size), multi-row
   * VALUES on SQLite.
   */
  async insertRows(
    tx: Knex | Knex.Transaction,
    table: string,
    rows: Array<Record<(typeof COLUMNS)[number], unknown>>,
  ): Promise<void> {
    const columnList = COLUMNS.join(', ');
    if (this.isPostgres) {
      for (let start = 0; start < rows.length; start += 10_000) {
        const chunk = rows.slice(start, start + 10_000);
        const arrays = COLUMNS.map(column => chunk.map(row => row[column]));
        const unnest = PG_COLUMN_TYPES.map(type => `?::${type}[]`).join(', ');
        await tx.raw(
          `insert into ${table} (${columnList}) select * from unnest(${unnest})`,
          arrays as unknown as Knex.RawBinding[],
        );
      }
      return;
    }
    const perChunk = Math.floor(30_000 / COLUMNS.length);
    const tuple = `(${COLUMNS.map(() => '?').join(', ')})`;
    for (let start = 0; start < rows.length; start += perChunk) {
      const chunk = rows.slice(start, start + perChunk);
      const bindings: unknown[] = [];
      for (const row of chunk) {
        for (const column of COLUMNS) bindings.push(row[column]);
      }
      await tx.raw(
        `insert into ${table} (${columnList}) values ${chunk
          .map(() => tuple)
          .join(', ')}`,
        bindings as Knex.RawBinding[],
      );
    }
  }

  async head(): Promise<AuditChainHead> {
    const row = await this.db(HEAD).where({ id: 1 }).first();
    if (!row) throw new Error('The audit chain head row is missing');
    return { seq: Number(row.seq), hash: row.hash };
  }

  /** Events after `cursor` in seq order: what a sink delivers next. */
  async readAfter(cursor: number, limit: number): Promise<StoredAuditEvent[]> {
    const rows = await this.db<EventRow>(EVENTS)
      .where('seq', '>', cursor)
      .orderBy('seq', 'asc')
      .limit(limit)
      .select('seq', 'event', 'hash');
    return rows.map(toStored);
  }

  /** The time of the event at seq, or undefined when there is none. */
  async timeOf(seq: number): Promise<number | undefined> {
    const row = await this.db<EventRow>(EVENTS)
      .where('seq', seq)
      .first('time_ms');
    return row ? Number(row.time_ms) : undefined;
  }

  private applyFilter(query: Knex.QueryBuilder, filter: AuditEventFilter) {
    if (filter.actor !== undefined) query.where('actor_ref', filter.actor);
    if (filter.actorType !== undefined)
      query.where('actor_type', filter.actorType);
    if (filter.cluster !== undefined) query.where('cluster', filter.cluster);
    if (filter.namespace !== undefined)
      query.where('namespace', filter.namespace);
    if (filter.action !== undefined) {
      if (filter.action.endsWith('.*')) {
        const prefix = filter.action.slice(0, -1);
        // Action names are [a-z0-9.-], so there is nothing to escape.
        query.where('action', 'like', `${prefix}%`);
      } else {
        query.where('action', filter.action);
      }
    }
    if (filter.decision !== undefined) query.where('decision', filter.decision);
    if (filter.outcome !== undefined) query.where('outcome', filter.outcome);
    if (filter.correlationId !== undefined)
      query.where('correlation_id', filter.correlationId);
    if (filter.fromMs !== undefined)
      query.where('time_ms', '>=', filter.fromMs);
    if (filter.toMs !== undefined) query.where('time_ms', '<', filter.toMs);
    return query;
  }

  /**
   * One page of events matching the filter. `nextSeq` is set when more may
   * follow; pass it back as `afterSeq`.
   */
  async query(
    request: AuditEventPageRequest,
  ): Promise<{ items: StoredAuditEvent[]; nextSeq?: number }> {
    const query = this.applyFilter(this.db<EventRow>(EVENTS), request);
    if (request.afterSeq !== undefined) {
      query.where('seq', request.order === 'asc' ? '>' : '<', request.afterSeq);
    }
    const rows: EventRow[] = await query
      .orderBy('seq', request.order)
      .limit(request.limit + 1)
      .select('seq', 'event', 'hash');
    const items = rows.slice(0, request.limit).map(toStored);
    return rows.length > request.limit
      ? { items, nextSeq: items[items.length - 1].seq }
      : { items };
  }

  /** All events matching the filter, page by page, for exports. */
  async *scan(
    filter: AuditEventFilter & {
      order: 'asc' | 'desc';
      fromSeq?: number;
      toSeq?: number;
    },
    pageSize = 1000,
  ): AsyncGenerator<StoredAuditEvent[]> {
    let afterSeq: number | undefined;
    for (;;) {
      const query = this.applyFilter(this.db<EventRow>(EVENTS), filter);
      if (filter.fromSeq !== undefined)
        query.where('seq', '>=', filter.fromSeq);
      if (filter.toSeq !== undefined) query.where('seq', '<=', filter.toSeq);
      if (afterSeq !== undefined) {
        query.where('seq', filter.order === 'asc' ? '>' : '<', afterSeq);
      }
      const rows: EventRow[] = await query
        .orderBy('seq', filter.order)
        .limit(pageSize)
        .select('seq', 'event', 'hash');
      if (rows.length === 0) return;
      const items = rows.map(toStored);
      yield items;
      if (rows.length < pageSize) return;
      afterSeq = items[items.length - 1].seq;
    }
  }

  /** The smallest seq whose event time is at or after `timeMs`. */
  async firstSeqAtOrAfter(timeMs: number): Promise<number | undefined> {
    const row = await this.db(EVENTS)
      .where('time_ms', '>=', timeMs)
      .min({ seq: 'seq' })
      .first();
    return row?.seq === null || row?.seq === undefined
      ? undefined
      : Number(row.seq);
  }

  async latestCheckpoint(): Promise<AuditCheckpoint | undefined> {
    const row = await this.db(CHECKPOINTS).orderBy('seq', 'desc').first();
    if (!row) return undefined;
    return {
      seq: Number(row.seq),
      hash: row.hash,
      prevSeq: Number(row.prev_seq),
      createdAtMs: Number(row.created_at_ms),
      algorithm: row.algorithm,
      keyId: row.key_id,
      signature: row.signature,
    };
  }

  /**
   * Records a checkpoint at `checkpoint.seq` and deletes the events up to it,
   * in one transaction.
   */
  async pruneThrough(checkpoint: AuditCheckpoint): Promise<number> {
    return this.db.transaction(async tx => {
      await tx(CHECKPOINTS).insert({
        seq: checkpoint.seq,
        hash: checkpoint.hash,
        prev_seq: checkpoint.prevSeq,
        created_at_ms: checkpoint.createdAtMs,
        algorithm: checkpoint.algorithm,
        key_id: checkpoint.keyId,
        signature: checkpoint.signature,
      });
      const deleted: number = await tx(EVENTS)
        .where('seq', '<=', checkpoint.seq)
        .delete();
      return deleted;
    });
  }

  /**
   * Walks the chain in pages from the latest checkpoint (or the genesis) to
   * the head, recomputing every hash. Detects edited rows (hash or indexed
   * columns disagree), deleted rows (a gap in seq, or a tail shorter than
   * the head), and reordered rows (a hash that does not follow from its
   * predecessor).
   */
  async verify(options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
    const pageSize = options.pageSize ?? 5000;
    const head = await this.head();
    const upTo = Math.min(options.upToSeq ?? head.seq, head.seq);
    const checkpoint = await this.latestCheckpoint();
    let expected = 1;
    let prev = GENESIS_HASH;
    let checked = 0;
    const base = { headSeq: head.seq, checkpointSeq: checkpoint?.seq };
    const invalid = (firstInvalidSeq: number, reason: string) => ({
      valid: false,
      checked,
      ...base,
      firstInvalidSeq,
      reason,
    });

    if (checkpoint) {
      const problem = options.checkCheckpoint
        ? options.checkCheckpoint(checkpoint)
        : 'no checkpoint key is configured to authenticate it';
      if (problem) {
        return invalid(
          checkpoint.seq,
          `the checkpoint at seq ${checkpoint.seq} is not authentic: ${problem}`,
        );
      }
      expected = checkpoint.seq + 1;
      prev = checkpoint.hash;
    }

    while (expected <= upTo) {
      const rows: EventRow[] = await this.db<EventRow>(EVENTS)
        .where('seq', '>=', expected)
        .andWhere('seq', '<=', upTo)
        .orderBy('seq', 'asc')
        .limit(pageSize);
      if (rows.length === 0) break;
      for (const row of rows) {
        const seq = Number(row.seq);
        if (seq !== expected) {
          return invalid(
            expected,
            `the event at seq ${expected} is missing (deleted), the next stored one is ${seq}`,
          );
        }
        if (chainHash(prev, row.event) !== row.hash) {
          return invalid(
            seq,
            `the hash at seq ${seq} does not follow from its content and its predecessor: the event was edited, or events were reordered`,
          );
        }
        let event: AuditEvent;
        try {
          event = JSON.parse(row.event);
        } catch {
          return invalid(seq, `the event at seq ${seq} is not valid JSON`);
        }
        const columns = indexedColumns(event, Date.parse(event.time));
        const edited = (Object.keys(columns) as Array<keyof typeof columns>)
          .filter(key => String(columns[key]) !== String(row[key]))
          .join(', ');
        if (edited) {
          return invalid(
            seq,
            `the indexed columns of seq ${seq} (${edited}) were edited and no longer match the hashed event`,
          );
        }
        prev = row.hash;
        expected += 1;
        checked += 1;
      }
    }

    if (expected <= upTo) {
      return invalid(
        expected,
        `the events from seq ${expected} to ${upTo} are missing (deleted)`,
      );
    }
    if (upTo === head.seq && upTo > 0 && prev !== head.hash) {
      return invalid(
        upTo,
        `the chain head records a different hash for seq ${upTo}: events at the end were replaced`,
      );
    }
    return { valid: true, checked, ...base };
  }

  /** The chain hash at `seq` (a row's hash, or a checkpoint's). */
  async hashAt(seq: number): Promise<string | undefined> {
    if (seq === 0) return GENESIS_HASH;
    const row = await this.db<EventRow>(EVENTS).where('seq', seq).first('hash');
    if (row) return row.hash;
    const checkpoint = await this.db(CHECKPOINTS).where('seq', seq).first();
    return checkpoint?.hash;
  }
}
