import { LoggerService } from '@backstage/backend-plugin-api';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AuditCheckpoint, AuditStore } from './AuditStore';
import { canonicalJson } from './chain';
import { ndjsonLine } from './exportFormats';
import { SinkCursorStore } from './sinks/SinkCursorStore';

const ALGORITHM = 'hmac-sha256';

export function checkpointKeyId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function checkpointPayload(
  checkpoint: Pick<AuditCheckpoint, 'seq' | 'hash' | 'prevSeq' | 'createdAtMs'>,
) {
  return canonicalJson({
    v: 1,
    kind: 'kmp-audit-checkpoint',
    seq: checkpoint.seq,
    hash: checkpoint.hash,
    prevSeq: checkpoint.prevSeq,
    createdAtMs: checkpoint.createdAtMs,
  });
}

/** Signs a checkpoint with HMAC-SHA256 over its canonical JSON. */
export function signCheckpoint(
  key: string,
  checkpoint: Pick<AuditCheckpoint, 'seq' | 'hash' | 'prevSeq' | 'createdAtMs'>,
): AuditCheckpoint {
  return {
    ...checkpoint,
    algorithm: ALGORITHM,
    keyId: checkpointKeyId(key),
    signature: createHmac('sha256', key)
      .update(checkpointPayload(checkpoint))
      .digest('hex'),
  };
}

/** A checker for {@link AuditStore.verify}; undefined key checks nothing. */
export function checkpointChecker(key: string | undefined) {
  return (checkpoint: AuditCheckpoint): string | undefined => {
    if (!key) {
      return 'kmp.audit.retention.checkpointKey is not configured';
    }
    if (checkpoint.algorithm !== ALGORITHM) {
      return `unknown signature algorithm ${checkpoint.algorithm}`;
    }
    if (checkpoint.keyId !== checkpointKeyId(key)) {
      return `it was signed with another key (${checkpoint.keyId})`;
    }
    const expected = Buffer.from(
      signCheckpoint(key, checkpoint).signature,
      'hex',
    );
    const actual = Buffer.from(checkpoint.signature, 'hex');
    if (
      actual.length !== expected.length ||
      !timingSafeEqual(actual, expected)
    ) {
      return 'the signature does not match its seq and hash';
    }
    return undefined;
  };
}

export interface PruneResult {
  /** The new checkpoint's seq, when something was pruned. */
  prunedThrough?: number;
  deleted: number;
  /** Why less (or nothing) was pruned. */
  heldBack?: string;
  exportFile?: string;
}

/**
 * Age-based pruning that keeps the chain verifiable: only events every
 * configured sink has delivered are pruned; the range is verified first,
 * exported to `exportDirectory` when configured (fsynced before anything is
 * deleted), and replaced by a signed checkpoint of its last seq and hash,
 * from which verification continues.
 */
export class AuditRetention {
  private constructor(
    private readonly options: {
      store: AuditStore;
      cursors: SinkCursorStore;
      logger: LoggerService;
      maxAgeMs: number;
      checkpointKey: string;
      exportDirectory?: string;
      sinkNames: string[];
    },
  ) {}

  static create(options: AuditRetention['options']): AuditRetention {
    return new AuditRetention(options);
  }

  async prune(now = Date.now()): Promise<PruneResult> {
    const { store, cursors, logger, checkpointKey, sinkNames } = this.options;
    const head = await store.head();
    const previous = await store.latestCheckpoint();
    const lower = previous?.seq ?? 0;

    const firstYoung = await store.firstSeqAtOrAfter(
      now - this.options.maxAgeMs,
    );
    let upper = firstYoung === undefined ? head.seq : firstYoung - 1;
    let heldBack: string | undefined;
    const sinks = await cursors.list(sinkNames);
    for (const name of sinkNames) {
      const cursor = sinks.find(s => s.name === name)?.cursor ?? 0;
      if (cursor < upper) {
        upper = cursor;
        heldBack = `sink ${name} has delivered only up to seq ${cursor}`;
      }
    }
    if (upper <= lower) {
      return { deleted: 0, heldBack };
    }

    // Never turn a tampered range into a signed checkpoint.
    const verdict = await store.verify({
      checkCheckpoint: checkpointChecker(checkpointKey),
      upToSeq: upper,
    });
    if (!verdict.valid) {
      logger.error(
        `Audit retention: not pruning, the chain does not verify: ${verdict.reason}`,
      );
      return {
        deleted: 0,
        heldBack: `the chain does not verify: ${verdict.reason}`,
      };
    }
    const hash = await store.hashAt(upper);
    if (!hash) {
      return { deleted: 0, heldBack: `no hash recorded for seq ${upper}` };
    }

    let exportFile: string | undefined;
    if (this.options.exportDirectory) {
      exportFile = await this.exportRange(lower + 1, upper);
    }

    const checkpoint = signCheckpoint(checkpointKey, {
      seq: upper,
      hash,
      prevSeq: lower,
      createdAtMs: now,
    });
    const deleted = await store.pruneThrough(checkpoint);
    logger.info(
      `Audit retention: pruned ${deleted} events up to seq ${upper}${
        exportFile ? `, exported to ${exportFile}` : ''
      }${heldBack ? ` (held back: ${heldBack})` : ''}`,
    );
    return { prunedThrough: upper, deleted, heldBack, exportFile };
  }

  /** Writes seq from..to as NDJSON, fsynced, before they are deleted. */
  private async exportRange(from: number, to: number): Promise<string> {
    const directory = path.resolve(this.options.exportDirectory!);
    await fs.mkdir(directory, { recursive: true });
    const name = `kmp-audit-${String(from).padStart(12, '0')}-${String(
      to,
    ).padStart(12, '0')}.ndjson`;
    const file = path.join(directory, name);
    const partial = `${file}.partial`;
    const handle = await fs.open(partial, 'w', 0o600);
    try {
      for await (const page of this.options.store.scan({
        order: 'asc',
        fromSeq: from,
        toSeq: to,
      })) {
        await handle.write(page.map(ndjsonLine).join(''));
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(partial, file);
    const dir = await fs.open(directory, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return file;
  }
}
