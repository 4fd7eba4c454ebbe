import { TestDatabases } from '@backstage/backend-test-utils';
import { createHash } from 'node:crypto';
import { AuditStore, prepareAuditEvent } from './AuditStore';
import { AuditWriter } from './AuditWriter';
import { canonicalJson, GENESIS_HASH } from './chain';
import {
  appendEvents,
  createAuditDb,
  makeEvent,
  migrationsDirectory,
  secondInstance,
} from './__testUtils__/auditTestUtils';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(
      canonicalJson({
        b: 1,
        a: { d: [1, { f: true, e: null }], c: 'x' },
        u: undefined,
      }),
    ).toBe('{"a":{"c":"x","d":[1,{"e":null,"f":true}]},"b":1}');
  });

  it('refuses values JSON cannot carry faithfully', () => {
    expect(() => canonicalJson({ n: NaN })).toThrow('non-finite');
  });
});

describe.each(databases.eachSupportedId())('AuditStore on %s', databaseId => {
  it('appends a gap-free hash chain whose hashes follow SHA-256(prev || canonical event)', async () => {
    const { store, writer } = await createAuditDb(databases, databaseId);
    const heads = await appendEvents(writer, 25);
    expect(heads.map(h => h.seq)).toEqual(
      Array.from({ length: 25 }, (_, i) => i + 1),
    );

    const events = await store.readAfter(0, 100);
    let prev = GENESIS_HASH;
    for (const stored of events) {
      const { seq, hash, ...event } = stored;
      const expected = createHash('sha256')
        .update(prev + canonicalJson(event))
        .digest('hex');
      expect(hash).toBe(expected);
      prev = hash;
    }
    expect(await store.head()).toEqual({ seq: 25, hash: prev });
    expect(await store.verify()).toEqual({
      valid: true,
      checked: 25,
      headSeq: 25,
      checkpointSeq: undefined,
    });
  });

  it('group-commits concurrent appends into few transactions', async () => {
    const { store } = await createAuditDb(databases, databaseId);
    const appendBatch = jest.spyOn(store, 'appendBatch');
    const writer = AuditWriter.create({ store, maxBatchSize: 1000 });
    await appendEvents(writer, 3000);
    expect(appendBatch.mock.calls.length).toBeLessThanOrEqual(4);
    expect((await store.verify()).valid).toBe(true);
  });

  it('fails every append of a batch that could not be stored, and keeps the chain intact', async () => {
    const { db, store, writer } = await createAuditDb(databases, databaseId);
    await appendEvents(writer, 3);
    const bad = makeEvent(99, { id: 'x'.repeat(40) }); // longer than the id column
    const results = await Promise.allSettled([
      writer.append(prepareAuditEvent(makeEvent(4))),
      writer.append(prepareAuditEvent(bad)),
    ]);
    // PostgreSQL rejects the too-long value, failing the whole batch; SQLite
    // has no length limits and stores both.
    const isPostgres = String(db.client.config.client).includes('pg');
    expect(results.map(r => r.status)).toEqual(
      isPostgres ? ['rejected', 'rejected'] : ['fulfilled', 'fulfilled'],
    );
    expect((await store.head()).seq).toBe(isPostgres ? 3 : 5);
    await appendEvents(writer, 2, 10);
    expect((await store.verify()).valid).toBe(true);
  });

  it('filters and pages with an opaque cursor, newest first by default', async () => {
    const { store, writer } = await createAuditDb(databases, databaseId);
    await appendEvents(writer, 40);

    const first = await store.query({
      limit: 5,
      order: 'desc',
      cluster: 'cluster-1',
    });
    expect(first.items.map(e => e.seq)).toEqual([37, 33, 29, 25, 21]);
    const second = await store.query({
      limit: 5,
      order: 'desc',
      cluster: 'cluster-1',
      afterSeq: first.nextSeq,
    });
    expect(second.items.map(e => e.seq)).toEqual([17, 13, 9, 5, 1]);
    expect(second.nextSeq).toBeUndefined();

    const denied = await store.query({
      limit: 100,
      order: 'asc',
      decision: 'deny',
    });
    expect(denied.items.map(e => e.seq)).toEqual([
      5, 10, 15, 20, 25, 30, 35, 40,
    ]);

    const byActorAndAction = await store.query({
      limit: 100,
      order: 'asc',
      actor: 'user:default/user-1',
      action: 'proxy.*',
    });
    expect(byActorAndAction.items.map(e => e.seq)).toEqual([
      4, 10, 16, 22, 28, 34, 40,
    ]);

    const from = makeEvent(10).time;
    const to = makeEvent(13).time;
    const inRange = await store.query({
      limit: 100,
      order: 'asc',
      fromMs: Date.parse(from),
      toMs: Date.parse(to),
      namespace: 'team-0',
    });
    expect(inRange.items.map(e => e.seq)).toEqual([10, 12]);
  });

  it('detects an edited event', async () => {
    const { db, store, writer } = await createAuditDb(databases, databaseId);
    await appendEvents(writer, 10);
    const row = await db('kmp_audit_events').where({ seq: 4 }).first();
    const event = JSON.parse(row.event);
    event.decision = { result: 'allow' };
    event.actor.ref = 'user:default/someone-else';
    await db('kmp_audit_events')
      .where({ seq: 4 })
      .update({ event: canonicalJson(event) });

    const result = await store.verify();
    expect(result).toMatchObject({ valid: false, firstInvalidSeq: 4 });
    expect(result.reason).toContain('edited');
  });

  it('detects an edited indexed column even when the event itself is intact', async () => {
    const { db, store, writer } = await createAuditDb(databases, databaseId);
    await appendEvents(writer, 10);
    await db('kmp_audit_events')
      .where({ seq: 6 })
      .update({ actor_ref: 'user:default/ghost' });
    expect(await store.verify()).toMatchObject({
      valid: false,
      firstInvalidSeq: 6,
    });
  });

  it('detects an edited event whose hash was recomputed by the tamperer', async () => {
    const { db, store, writer } = await createAuditDb(databases, databaseId);
    await appendEvents(writer, 10);
    const row = await db('kmp_audit_events').where({ seq: 3 }).first();
    const prev = (await db('kmp_audit_events').where({ seq: 2 }).first()).hash;
    const event = JSON.parse(row.event);
    event.decision.reason = 'approved by nobody';
    const canonical = canonicalJson(event);
    const hash = createHash('sha256')
      .update(prev + canonical)
      .digest('hex');
    await db('kmp_audit_events')
      .where({ seq: 3 })
      .update({ event: canonical, hash });
    // Row 3 now checks out on its own; its successor no longer does.
    expect(await store.verify()).toMatchObject({
      valid: false,
      firstInvalidSeq: 4,
    });
  });

  it('detects a deleted event', async () => {
    const { db, store, writer } = await createAuditDb(databases, databaseId);
    await appendEvents(writer, 10);
    await db('kmp_audit_events').where({ seq: 5 }).delete();
    const result = await store.verify();
    expect(result).toMatchObject({ valid: false, firstInvalidSeq: 5 });
    expect(result.reason).toContain('missing');
  });

  it('detects deleted events at the end of the chain', async () => {
    const { db, store, writer } = await createAuditDb(databases, databaseId);
    await appendEvents(writer, 10);
    await db('kmp_audit_events').where('seq', '>', 8).delete();
    expect(await store.verify()).toMatchObject({
      valid: false,
      firstInvalidSeq: 9,
    });
  });

  it('detects reordered events', async () => {
    const { db, store, writer } = await createAuditDb(databases, databaseId);
    await appendEvents(writer, 10);
    // Swap the positions of 6 and 7, rows and all.
    await db.transaction(async tx => {
      await tx('kmp_audit_events').where({ seq: 6 }).update({ seq: -6 });
      await tx('kmp_audit_events').where({ seq: 7 }).update({ seq: 6 });
      await tx('kmp_audit_events').where({ seq: -6 }).update({ seq: 7 });
    });
    const result = await store.verify();
    expect(result).toMatchObject({ valid: false, firstInvalidSeq: 6 });
    expect(result.reason).toContain('reordered');
  });

  it('verifies in pages', async () => {
    const { store, writer } = await createAuditDb(databases, databaseId);
    await appendEvents(writer, 120);
    expect(await store.verify({ pageSize: 7 })).toMatchObject({
      valid: true,
      checked: 120,
    });
  });

  it('keeps one valid chain when two backend instances append concurrently', async () => {
    const { db, store } = await createAuditDb(databases, databaseId);
    const otherDb = secondInstance(db);
    try {
      const writerA = AuditWriter.create({ store, maxBatchSize: 200 });
      const writerB = AuditWriter.create({
        store: AuditStore.create({ db: otherDb }),
        maxBatchSize: 200,
      });
      const rounds = 20;
      const perRound = 100;
      for (let round = 0; round < rounds; round++) {
        await Promise.all([
          appendEvents(writerA, perRound, round * 1000),
          appendEvents(writerB, perRound, round * 1000 + 500),
        ]);
      }
      const total = rounds * perRound * 2;
      expect(await store.verify()).toMatchObject({
        valid: true,
        checked: total,
        headSeq: total,
      });
      const ids = new Set((await store.readAfter(0, total)).map(e => e.id));
      expect(ids.size).toBe(total);
    } finally {
      if (otherDb !== db) await otherDb.destroy();
    }
  });

  it('runs its migration down and up again', async () => {
    const { db } = await createAuditDb(databases, databaseId);
    await db.migrate.rollback({ directory: migrationsDirectory }, true);
    expect(await db.schema.hasTable('kmp_audit_events')).toBe(false);
    await db.migrate.latest({ directory: migrationsDirectory });
    expect(await AuditStore.create({ db }).head()).toEqual({
      seq: 0,
      hash: GENESIS_HASH,
    });
  });
});
