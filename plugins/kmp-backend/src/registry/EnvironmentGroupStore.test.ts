import { TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { EnvironmentGroupStore } from './EnvironmentGroupStore';
import { migratedDatabase } from '../__testUtils__/database';

jest.setTimeout(60_000);

const databases = TestDatabases.create();

async function createStore(databaseId: Parameters<typeof databases.init>[0]) {
  const db: Knex = await migratedDatabase(databases, databaseId);
  return { db, store: EnvironmentGroupStore.create({ db }) };
}

describe.each(databases.eachSupportedId())(
  'EnvironmentGroupStore on %s',
  databaseId => {
    it('syncs config groups: inserts, updates and removes only config-sourced ones', async () => {
      const { db, store } = await createStore(databaseId);
      await db('kmp_environment_groups').insert({
        name: 'from-api',
        environment: 'edge',
        owner: 'group:default/edge',
        source: 'api',
        created_at: new Date(),
        updated_at: new Date(),
      });

      await store.syncFromConfig([
        { name: 'a', environment: 'production', owner: 'group:default/p' },
        {
          name: 'b',
          environment: 'edge',
          owner: 'group:default/e',
          title: 'B',
        },
      ]);
      expect((await store.list()).map(g => g.name)).toEqual([
        'a',
        'b',
        'from-api',
      ]);

      await store.syncFromConfig([
        { name: 'b', environment: 'non-production', owner: 'group:default/e2' },
      ]);
      expect(await store.list()).toEqual([
        { name: 'b', environment: 'non-production', owner: 'group:default/e2' },
        { name: 'from-api', environment: 'edge', owner: 'group:default/edge' },
      ]);
      expect(await store.get('a')).toBeUndefined();
    });

    it('runs the migrations down and up again', async () => {
      const { db } = await createStore(databaseId);
      const directory = resolvePackagePath(
        '@kmp/plugin-kmp-backend',
        'migrations',
      );
      await db.migrate.rollback({ directory }, true);
      expect(await db.schema.hasTable('kmp_environment_groups')).toBe(false);
      await db.migrate.latest({ directory });
      expect(await db.schema.hasTable('kmp_environment_groups')).toBe(true);
    });
  },
);
