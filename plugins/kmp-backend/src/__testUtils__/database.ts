import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { ClusterFields } from '../registry/ClusterStore';

/** The KMP backend's migrations. */
export const MIGRATIONS = resolvePackagePath(
  '@kmp/plugin-kmp-backend',
  'migrations',
);

/** A fresh test database of the given engine with KMP's schema. */
export async function migratedDatabase(
  databases: TestDatabases,
  id: TestDatabaseId,
): Promise<Knex> {
  const db = await databases.init(id);
  await db.migrate.latest({ directory: MIGRATIONS });
  return db;
}

/** The registry fields of a production test cluster, with overrides. */
export const testClusterFields = (
  name: string,
  patch: Partial<ClusterFields> = {},
): ClusterFields => ({
  name,
  environment: 'production',
  environmentGroup: 'payments-prod',
  region: 'eu-west-1',
  profile: 'hardened',
  connectivity: 'direct',
  owner: 'group:default/platform-team',
  apiServerUrl: `https://${name}.example.com`,
  ...patch,
});
