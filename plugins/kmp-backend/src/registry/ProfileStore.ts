import { ClusterProfile, clusterProfileSchema } from '@kmp/plugin-kmp-common';
import { Knex } from 'knex';

const TABLE = 'kmp_cluster_profiles';

/** Durable store of cluster profiles, declared in config. */
export class ProfileStore {
  private constructor(private readonly db: Knex) {}

  static create(options: { db: Knex }) {
    return new ProfileStore(options.db);
  }

  async list(): Promise<ClusterProfile[]> {
    const rows = await this.db(TABLE).select().orderBy('name');
    return rows.map(row =>
      clusterProfileSchema.parse({
        name: row.name,
        ...(row.title ? { title: row.title } : {}),
        ...(row.description ? { description: row.description } : {}),
        environment: row.environment,
        podSecurity: row.pod_security,
        policyOverlays: JSON.parse(row.policy_overlays),
      }),
    );
  }

  /** Makes the config-declared profiles the set of profiles. */
  async syncFromConfig(profiles: ClusterProfile[]): Promise<void> {
    const now = new Date();
    await this.db.transaction(async tx => {
      await tx(TABLE)
        .whereNotIn(
          'name',
          profiles.map(p => p.name),
        )
        .delete();
      for (const profile of profiles) {
        await tx(TABLE)
          .insert({
            name: profile.name,
            title: profile.title ?? null,
            description: profile.description ?? null,
            environment: profile.environment,
            pod_security: profile.podSecurity,
            policy_overlays: JSON.stringify(profile.policyOverlays),
            source: 'config',
            created_at: now,
            updated_at: now,
          })
          .onConflict('name')
          .merge([
            'title',
            'description',
            'environment',
            'pod_security',
            'policy_overlays',
            'updated_at',
          ]);
      }
    });
  }
}
