import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { TestDatabases } from '@backstage/backend-test-utils';
import knexFactory, { Knex } from 'knex';
import { AuditStore, prepareAuditEvent } from '../AuditStore';
import { AuditWriter } from '../AuditWriter';
import { makeEvent } from '../bench/sampleEvents';

export { makeEvent };

export const migrationsDirectory = resolvePackagePath(
  '@kmp/plugin-kmp-backend',
  'migrations',
);

export type DatabaseId = Parameters<TestDatabases['init']>[0];

export async function createAuditDb(
  databases: TestDatabases,
  databaseId: DatabaseId,
) {
  const db = await databases.init(databaseId);
  await db.migrate.latest({ directory: migrationsDirectory });
  const store = AuditStore.create({ db });
  const writer = AuditWriter.create({ store });
  return { db, store, writer };
}

/**
 * A second connection pool to the same database, as a second backend
 * instance would have. SQLite in memory cannot be shared, so there it is
 * the same pool.
 */
export function secondInstance(db: Knex): Knex {
  const config = db.client.config as Knex.Config;
  if (String(config.client).includes('sqlite')) return db;
  return knexFactory({ ...config, pool: { min: 0, max: 5 } });
}

export async function appendEvents(
  writer: AuditWriter,
  count: number,
  start = 1,
) {
  const heads = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      writer.append(prepareAuditEvent(makeEvent(start + i))),
    ),
  );
  return heads;
}
