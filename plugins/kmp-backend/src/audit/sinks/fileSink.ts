import { Config } from '@backstage/config';
import {
  KmpAuditDeliveryError,
  KmpAuditSink,
  KmpAuditSinkFactory,
} from '@kmp/plugin-kmp-node';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * File sink: appends each batch as NDJSON and fsyncs before the batch
 * counts as delivered. A batch retried after a crash may appear twice; each
 * line carries its `seq`, so readers can drop repeats.
 */
export function createFileSink(config: Config): KmpAuditSink {
  const file = path.resolve(config.getString('path'));
  let handle: fs.FileHandle | undefined;

  const open = async () => {
    if (!handle) {
      await fs.mkdir(path.dirname(file), { recursive: true });
      handle = await fs.open(file, 'a', 0o600);
    }
    return handle;
  };

  return {
    async deliver(events) {
      try {
        const h = await open();
        await h.write(events.map(e => `${JSON.stringify(e)}\n`).join(''));
        await h.sync();
      } catch (error) {
        const h = handle;
        handle = undefined;
        await h?.close().catch(() => {});
        throw new KmpAuditDeliveryError(
          `appending to ${file} failed: ${
            error instanceof Error ? error.message : error
          }`,
          { kind: 'transient', cause: error },
        );
      }
    },
    async close() {
      const h = handle;
      handle = undefined;
      await h?.close();
    },
  };
}

/** @internal */
export const fileSinkFactory: KmpAuditSinkFactory = {
  kind: 'file',
  create: ({ config }) => createFileSink(config),
};
