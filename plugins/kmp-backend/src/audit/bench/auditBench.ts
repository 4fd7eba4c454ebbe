/*
 * `yarn bench:audit`: the audit trail's throughput and latency on SQLite and
 * PostgreSQL, against the goals of the audit issue. Run through
 * scripts/bench-audit.sh (plugins/kmp-backend/src/audit/bench/run.sh), which
 * starts a private PostgreSQL when none is configured.
 */
import {
  AuditorService,
  LoggerService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { ConfigReader } from '@backstage/config';
import knexFactory, { Knex } from 'knex';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AuditService } from '../AuditService';
import { AuditChainHead, AuditStore, prepareAuditEvent } from '../AuditStore';
import { AuditWriter } from '../AuditWriter';
import { AuditSinkRunner } from '../sinks/AuditSinkRunner';
import { createHttpSink } from '../sinks/httpSink';
import { SinkCursorStore } from '../sinks/SinkCursorStore';
import { makeEvent } from './sampleEvents';

const SECONDS = Number(process.env.KMP_AUDIT_BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.KMP_AUDIT_BENCH_CONCURRENCY ?? 512);
const migrations = resolvePackagePath('@kmp/plugin-kmp-backend', 'migrations');

const out = (line = '') => process.stdout.write(`${line}\n`);
const logger: LoggerService = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
  child: () => logger,
};
// Stands in for Backstage's auditor, whose log output would dominate.
const quietAuditor: AuditorService = {
  createEvent: async () => ({ success: async () => {}, fail: async () => {} }),
};

function percentile(values: number[], p: number) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
  ];
}

async function migrated(db: Knex) {
  await db.migrate.latest({ directory: migrations });
  await AuditStore.prepareDatabase(db);
  return db;
}

/**
 * Closed loop: `concurrency` producers spread over `writers` (one per
 * simulated backend instance) append as fast as their appends resolve.
 */
async function sustainedRate(
  writers: Array<{ append(i: number): Promise<unknown> }>,
) {
  let count = 0;
  let next = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, producer) => {
      const writer = writers[producer % writers.length];
      while (Date.now() < deadline) {
        await writer.append(next++);
        count += 1;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return count / seconds;
}

/** Open loop at `rate` per second: issues what is due every millisecond. */
async function openLoop(
  rate: number,
  seconds: number,
  op: (i: number) => Promise<void>,
) {
  const start = Date.now();
  let issued = 0;
  const pending: Promise<void>[] = [];
  while (Date.now() - start < seconds * 1000) {
    const due = Math.floor(((Date.now() - start) / 1000) * rate);
    while (issued < due) pending.push(op(issued++));
    await new Promise(r => setTimeout(r, 1));
  }
  await Promise.all(pending);
  return issued;
}

/**
 * The floor: the same table shape and indexes, the same group commit and the
 * same insert method (prepared statements in one transaction on SQLite, one
 * `unnest` insert statement on PostgreSQL), without hashes or the head row.
 */
function bareWriter(db: Knex, store: AuditStore) {
  let seq = 0;
  const sqlite = String(db.client.config.client) === 'better-sqlite3';
  const toRows = (items: ReturnType<typeof prepareAuditEvent>[]) =>
    items.map(item => ({
      seq: ++seq,
      id: item.event.id,
      time_ms: Date.parse(item.event.time),
      actor_type: item.event.actor.type,
      actor_ref: item.event.actor.ref,
      action: item.event.action,
      cluster: item.event.target.cluster ?? null,
      namespace: item.event.target.namespace ?? null,
      decision: item.event.decision.result,
      outcome: item.event.outcome,
      correlation_id: item.event.correlationId,
      event: item.canonical,
      hash: '',
    }));
  const appendBatch = async (
    items: ReturnType<typeof prepareAuditEvent>[],
  ): Promise<AuditChainHead[]> => {
    const rows = toRows(items);
    if (sqlite) {
      const client = db.client as any;
      const connection = await client.acquireConnection();
      try {
        const columns = Object.keys(rows[0]);
        const insert = connection.prepare(
          `insert into kmp_audit_bench_bare (${columns.join(
            ', ',
          )}) values (${columns.map(() => '?').join(', ')})`,
        );
        connection
          .transaction(() => {
            for (const row of rows) insert.run(...Object.values(row));
          })
          .immediate();
      } finally {
        await client.releaseConnection(connection);
      }
    } else {
      await store.insertRows(db, 'kmp_audit_bench_bare', rows);
    }
    return rows.map(r => ({ seq: r.seq, hash: '' }));
  };
  return AuditWriter.create({
    store: { appendBatch } as unknown as AuditStore,
  });
}

async function createBareTable(db: Knex) {
  await db.schema.dropTableIfExists('kmp_audit_bench_bare');
  await db.schema.createTable('kmp_audit_bench_bare', table => {
    table.bigInteger('seq').primary();
    table.string('id', 36).notNullable();
    table.bigInteger('time_ms').notNullable();
    table.string('actor_type', 16).notNullable();
    table.string('actor_ref', 512).notNullable();
    table.string('action', 128).notNullable();
    table.string('cluster', 63).nullable();
    table.string('namespace', 253).nullable();
    table.string('decision', 8).notNullable();
    table.string('outcome', 16).notNullable();
    table.string('correlation_id', 128).notNullable();
    table.text('event').notNullable();
    table.string('hash', 64).notNullable();
    table.index(['time_ms']);
    table.index(['actor_ref', 'seq']);
    table.index(['cluster', 'seq']);
    table.index(['action', 'seq']);
  });
}

async function deliveryLag(db: Knex) {
  const store = AuditStore.create({ db });
  const writer = AuditWriter.create({ store });
  const service = AuditService.create({ writer, logger });
  const arrivals = new Map<number, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      for (const event of JSON.parse(Buffer.concat(chunks).toString())) {
        if (!arrivals.has(event.seq))
          arrivals.set(event.seq, now - Date.parse(event.time));
      }
      res.end('{}');
    });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const cursors = SinkCursorStore.create({ db });
  const head = await store.head();
  await cursors.ensure('bench', 'http', head.seq);
  const runner = AuditSinkRunner.create({
    name: 'bench',
    kind: 'http',
    sink: createHttpSink(
      new ConfigReader({ url: `http://127.0.0.1:${port}/` }),
    ),
    store,
    cursors,
    logger,
    instanceId: 'bench',
    batchSize: 500,
    timeoutMs: 10_000,
    minBackoffMs: 500,
    maxBackoffMs: 60_000,
    onAppended: l => writer.onAppended(l),
  });
  const controller = new AbortController();
  const running = runner.run(controller.signal);
  const issued = await openLoop(1000, SECONDS, async i => {
    await service.record({ ...makeEvent(i), id: undefined, time: undefined });
  });
  const deadline = Date.now() + 30_000;
  while (arrivals.size < issued && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 20));
  }
  controller.abort();
  await running;
  server.close();
  const lags = [...arrivals.values()];
  return {
    p50: percentile(lags, 50),
    p99: percentile(lags, 99),
    delivered: arrivals.size,
    issued,
  };
}

async function appendLatency(db: Knex) {
  const store = AuditStore.create({ db });
  const writer = AuditWriter.create({ store });
  const service = AuditService.create({
    writer,
    auditor: quietAuditor,
    logger,
  });
  const latencies: number[] = [];
  await openLoop(1000, SECONDS, async i => {
    const started = process.hrtime.bigint();
    await service.record({ ...makeEvent(i), id: undefined, time: undefined });
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
  });
  return {
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: Math.max(...latencies),
    over5: latencies.filter(l => l >= 5).length / latencies.length,
  };
}

async function runSuite(name: string, connect: () => Knex, instances: number) {
  out(`… ${name}`);
  const db = await migrated(connect());
  const extra = Array.from({ length: instances - 1 }, connect);
  try {
    await createBareTable(db);
    const floorStore = AuditStore.create({ db });
    const bare = bareWriter(db, floorStore);
    const floor = await sustainedRate([
      { append: i => bare.append(prepareAuditEvent(makeEvent(i))) },
    ]);
    out(`   bare insert floor: ${floor.toFixed(0)} ev/s`);

    const chainedRate = async (conns: Knex[]) => {
      const writers = conns.map(conn =>
        AuditWriter.create({ store: AuditStore.create({ db: conn }) }),
      );
      return sustainedRate(
        writers.map(w => ({
          append: (i: number) => w.append(prepareAuditEvent(makeEvent(i))),
        })),
      );
    };
    const chained = await chainedRate([db]);
    out(`   chained append rate, 1 instance: ${chained.toFixed(0)} ev/s`);
    const chainedMulti =
      instances > 1 ? await chainedRate([db, ...extra]) : undefined;
    if (chainedMulti !== undefined) {
      out(
        `   chained append rate, ${instances} instances: ${chainedMulti.toFixed(
          0,
        )} ev/s`,
      );
    }
    const verdict = await AuditStore.create({ db }).verify();
    out(
      `   chain after the run: ${
        verdict.valid ? 'valid' : `INVALID: ${verdict.reason}`
      } (${verdict.checked} events)`,
    );

    const latency = await appendLatency(db);
    out(
      `   record() latency at 1,000 ev/s: p50 ${latency.p50.toFixed(
        2,
      )} ms, p90 ${latency.p90.toFixed(2)} ms, p99 ${latency.p99.toFixed(
        2,
      )} ms, max ${latency.max.toFixed(1)} ms, ${(latency.over5 * 100).toFixed(
        1,
      )}% ≥ 5 ms`,
    );
    const lag = await deliveryLag(db);
    out(
      `   delivery lag at 1,000 ev/s: p50 ${lag.p50} ms, p99 ${lag.p99} ms (${lag.delivered}/${lag.issued})`,
    );
    await db.schema.dropTableIfExists('kmp_audit_bench_bare');
    return { floor, chained, chainedMulti, valid: verdict.valid, latency, lag };
  } finally {
    for (const conn of extra) await conn.destroy();
    await db.destroy();
  }
}

async function main() {
  out(
    `KMP audit benchmark: ${
      os.cpus().length
    } CPUs, ${SECONDS} s per measurement, ${CONCURRENCY} concurrent producers`,
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kmp-audit-bench-'));
  const results: Record<string, Awaited<ReturnType<typeof runSuite>>> = {};
  try {
    const file = path.join(dir, 'audit.sqlite');
    const sqlite = () =>
      knexFactory({
        client: 'better-sqlite3',
        connection: { filename: file },
        useNullAsDefault: true,
      });
    const probe = sqlite();
    await AuditStore.prepareDatabase(probe);
    const [{ journal_mode: journal }] = await probe.raw('pragma journal_mode');
    const [{ synchronous }] = await probe.raw('pragma synchronous');
    await probe.destroy();
    out(
      `SQLite file database, journal_mode=${journal}, synchronous=${synchronous} (2 = FULL: the log is fsynced at every commit)`,
    );
    results.sqlite = await runSuite('SQLite', sqlite, 1);

    const pgUrl = Object.entries(process.env).find(([k]) =>
      /^BACKSTAGE_TEST_DATABASE_POSTGRES\d*_CONNECTION_STRING$/.test(k),
    )?.[1];
    if (pgUrl) {
      const admin = knexFactory({ client: 'pg', connection: pgUrl });
      const database = `kmp_audit_bench_${process.pid}`;
      await admin.raw(`create database ${database}`);
      const [{ fsync }] = (await admin.raw('show fsync')).rows;
      const [{ synchronous_commit: syncCommit }] = (
        await admin.raw('show synchronous_commit')
      ).rows;
      out(`PostgreSQL, fsync=${fsync}, synchronous_commit=${syncCommit}`);
      const url = new URL(pgUrl);
      url.pathname = `/${database}`;
      try {
        results.postgres = await runSuite(
          'PostgreSQL',
          () =>
            knexFactory({
              client: 'pg',
              connection: url.toString(),
              pool: { min: 0, max: 10 },
            }),
          2,
        );
      } finally {
        await admin.raw(`drop database if exists ${database}`);
        await admin.destroy();
      }
    } else {
      out(
        'PostgreSQL: no BACKSTAGE_TEST_DATABASE_POSTGRES*_CONNECTION_STRING; skipped',
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const rows: Array<
    [
      string,
      (r: (typeof results)[string]) => string,
      string,
      (r: (typeof results)[string], db: string) => boolean,
    ]
  > = [
    [
      'bare insert rate (floor), ev/s',
      r => r.floor.toFixed(0),
      '—',
      () => true,
    ],
    [
      'chained append rate, 1 instance, ev/s',
      r => r.chained.toFixed(0),
      '≥20,000 SQLite / ≥10,000 PostgreSQL',
      (r, db) => r.chained >= (db === 'sqlite' ? 20_000 : 10_000) && r.valid,
    ],
    [
      'chained append rate, 2 instances, ev/s',
      r =>
        r.chainedMulti === undefined
          ? 'n/a (single writer)'
          : r.chainedMulti.toFixed(0),
      '≥10,000 PostgreSQL',
      r =>
        r.chainedMulti === undefined || (r.chainedMulti >= 10_000 && r.valid),
    ],
    [
      'append p99 at 1,000 ev/s, ms',
      r => r.latency.p99.toFixed(2),
      '< 5',
      r => r.latency.p99 < 5,
    ],
    [
      'delivery lag p99 at 1,000 ev/s, ms',
      r => String(r.lag.p99),
      '< 2,000',
      r => r.lag.p99 < 2000 && r.lag.delivered === r.lag.issued,
    ],
  ];
  out('');
  out('| metric | SQLite | PostgreSQL | goal |');
  out('|---|---|---|---|');
  for (const [label, value, goal, ok] of rows) {
    const cell = (db: string) => {
      if (!results[db]) return 'n/a';
      if (goal === '—') return value(results[db]);
      return `${value(results[db])} ${ok(results[db], db) ? '✓' : '✗'}`;
    };
    out(`| ${label} | ${cell('sqlite')} | ${cell('postgres')} | ${goal} |`);
  }
}

main().catch(error => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
