import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareAuditEvent } from './AuditStore';
import { AuditRetention, checkpointChecker } from './retention';
import { SinkCursorStore } from './sinks/SinkCursorStore';
import { createAuditDb, makeEvent } from './__testUtils__/auditTestUtils';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });
const KEY = 'k'.repeat(40);
const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 11, 31);

describe.each(databases.eachSupportedId())(
  'AuditRetention on %s',
  databaseId => {
    async function setup(exportDirectory?: string) {
      const { db, store, writer } = await createAuditDb(databases, databaseId);
      // 30 events 100 days old, then 20 from yesterday.
      for (let i = 1; i <= 50; i++) {
        const time = new Date(
          NOW - (i <= 30 ? 100 * DAY : DAY) + i,
        ).toISOString();
        await writer.append(prepareAuditEvent(makeEvent(i, { time })));
      }
      const cursors = SinkCursorStore.create({ db });
      await cursors.ensure('siem', 'http', 0);
      const retention = AuditRetention.create({
        store,
        cursors,
        logger: mockServices.logger.mock(),
        maxAgeMs: 90 * DAY,
        checkpointKey: KEY,
        exportDirectory,
        sinkNames: ['siem'],
      });
      return { db, store, cursors, retention };
    }

    const advance = async (cursors: SinkCursorStore, to: number) => {
      await cursors.acquireLease('siem', 'me', 10_000);
      const current = (await cursors.get('siem'))!.cursor;
      await cursors.advance('siem', 'me', current, to);
    };

    it('prunes only what every sink has delivered', async () => {
      const { store, cursors, retention } = await setup();
      expect(await retention.prune(NOW)).toMatchObject({
        deleted: 0,
        heldBack: 'sink siem has delivered only up to seq 0',
      });
      await advance(cursors, 12);
      expect(await retention.prune(NOW)).toMatchObject({
        prunedThrough: 12,
        deleted: 12,
      });
      await advance(cursors, 50);
      expect(await retention.prune(NOW)).toMatchObject({
        prunedThrough: 30,
        deleted: 18,
      });
      expect((await store.readAfter(0, 100))[0].seq).toBe(31);
    });

    it('keeps the chain verifiable from a signed checkpoint, and detects a forged one', async () => {
      const { db, store, cursors, retention } = await setup();
      await advance(cursors, 50);
      await retention.prune(NOW);
      const check = checkpointChecker(KEY);
      expect(await store.verify({ checkCheckpoint: check })).toEqual({
        valid: true,
        checked: 20,
        headSeq: 50,
        checkpointSeq: 30,
      });
      expect(
        await store.verify({
          checkCheckpoint: checkpointChecker('x'.repeat(40)),
        }),
      ).toMatchObject({
        valid: false,
        firstInvalidSeq: 30,
      });
      expect(await store.verify()).toMatchObject({ valid: false });

      // Someone deletes more rows and moves the checkpoint to hide it.
      await db('kmp_audit_events').where('seq', '<=', 35).delete();
      const hash35 = (await store.readAfter(0, 1))[0].hash; // the hash of 36 is no use
      await db('kmp_audit_checkpoints')
        .where({ seq: 30 })
        .update({ seq: 35, hash: hash35 });
      const forged = await store.verify({ checkCheckpoint: check });
      expect(forged).toMatchObject({ valid: false, firstInvalidSeq: 35 });
      expect(forged.reason).toContain('signature');
    });

    it('detects rows deleted just after a checkpoint', async () => {
      const { db, store, cursors, retention } = await setup();
      await advance(cursors, 50);
      await retention.prune(NOW);
      await db('kmp_audit_events').where({ seq: 31 }).delete();
      expect(
        await store.verify({ checkCheckpoint: checkpointChecker(KEY) }),
      ).toMatchObject({
        valid: false,
        firstInvalidSeq: 31,
      });
    });

    it('refuses to sign a checkpoint over a tampered range', async () => {
      const { db, store, cursors, retention } = await setup();
      await advance(cursors, 50);
      await db('kmp_audit_events')
        .where({ seq: 10 })
        .update({ action: 'nothing.here' });
      expect(await retention.prune(NOW)).toMatchObject({ deleted: 0 });
      expect(await store.latestCheckpoint()).toBeUndefined();
    });

    it('exports the pruned range before deleting it', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'kmp-audit-export-'));
      try {
        const { cursors, retention } = await setup(dir);
        await advance(cursors, 50);
        const result = await retention.prune(NOW);
        expect(readdirSync(dir)).toEqual([
          'kmp-audit-000000000001-000000000030.ndjson',
        ]);
        const lines = readFileSync(result.exportFile!, 'utf8')
          .trimEnd()
          .split('\n');
        expect(lines.map(l => JSON.parse(l).seq)).toEqual(
          Array.from({ length: 30 }, (_, i) => i + 1),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
