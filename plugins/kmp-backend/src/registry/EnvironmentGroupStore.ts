import { EnvironmentGroup, environmentSchema } from '@kmp/plugin-kmp-common';
import { Knex } from 'knex';

const TABLE = 'kmp_environment_groups';

type Row = {
  name: string;
  title: string | null;
  description: string | null;
  environment: string;
  owner: string;
  source: string;
  created_at: Date | string;
  updated_at: Date | string;
};

function toGroup(row: Row): EnvironmentGroup {
  return {
    name: row.name,
    ...(row.title ? { title: row.title } : {}),
    ...(row.description ? { description: row.description } : {}),
    environment: environmentSchema.parse(row.environment),
    owner: row.owner,
  };
}

/**
 * Durable store of environment groups.
 */
export class EnvironmentGroupStore {
  private constructor(private readonly db: Knex) {}

  static create(options: { db: Knex }): EnvironmentGroupStore {
    return new EnvironmentGroupStore(options.db);
  }

  async list(): Promise<EnvironmentGroup[]> {
    const rows = await this.db<Row>(TABLE).select().orderBy('name');
    return rows.map(toGroup);
  }

  async get(name: string): Promise<EnvironmentGroup | undefined> {
    const row = await this.db<Row>(TABLE).where({ name }).first();
    return row ? toGroup(row) : undefined;
  }

  /**
   * Makes the config-declared groups the set of groups whose source is
   * config: inserts new ones, updates changed ones and removes those no
   * longer declared, in one transaction. Groups registered through the API
   * are left alone.
   */
  async syncFromConfig(groups: EnvironmentGroup[]): Promise<void> {
    const now = new Date();
    await this.db.transaction(async tx => {
      const names = groups.map(g => g.name);
      await tx(TABLE)
        .where({ source: 'config' })
        .whereNotIn('name', names)
        .delete();
      for (const group of groups) {
        await tx(TABLE)
          .insert({
            name: group.name,
            title: group.title ?? null,
            description: group.description ?? null,
            environment: group.environment,
            owner: group.owner,
            source: 'config',
            created_at: now,
            updated_at: now,
          })
          .onConflict('name')
          .merge([
            'title',
            'description',
            'environment',
            'owner',
            'source',
            'updated_at',
          ]);
      }
    });
  }
}
