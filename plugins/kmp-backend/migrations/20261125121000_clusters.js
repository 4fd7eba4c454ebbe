// @ts-check

/**
 * Cluster registry: profiles, clusters with encrypted credentials and live
 * status, an immutable history of changes, and a registry-wide revision
 * counter that lets consumers (the catalog provider) fetch deltas.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kmp_cluster_profiles', table => {
    table.comment('Cluster profiles: the standard a cluster is governed to');
    table.string('name', 63).primary().notNullable();
    table.string('title', 200).nullable();
    table.text('description').nullable();
    table.string('environment', 32).notNullable();
    table.string('pod_security', 32).notNullable();
    table.text('policy_overlays').notNullable().comment('JSON array');
    table.string('source', 32).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('kmp_registry_revision', table => {
    table.comment('Single-row, registry-wide change counter');
    table.integer('id').primary().notNullable();
    table.bigInteger('revision').notNullable();
  });
  await knex('kmp_registry_revision').insert({ id: 1, revision: 0 });

  await knex.schema.createTable('kmp_clusters', table => {
    table.comment('Registered Kubernetes clusters');
    table.string('name', 63).primary().notNullable();
    table.string('title', 200).nullable();
    table.text('description').nullable();
    table.string('environment', 32).notNullable();
    table.string('environment_group', 63).notNullable();
    table.string('region', 63).notNullable();
    table.string('profile', 63).notNullable();
    table.string('distribution', 63).nullable();
    table.string('kubernetes_version', 64).nullable();
    table.string('connectivity', 32).notNullable();
    table.string('lifecycle_state', 32).notNullable();
    table.string('owner', 512).notNullable();
    table.string('api_server_url', 2048).nullable();
    table.text('labels').nullable().comment('JSON object');
    table.string('source', 32).notNullable();
    table
      .text('credentials')
      .nullable()
      .comment('AES-256-GCM ciphertext of the credentials; never returned');
    table.integer('node_count').nullable();
    table.integer('nodes_ready').nullable();
    table.boolean('control_plane_healthy').nullable();
    table.timestamp('last_seen_at', { useTz: true }).nullable();
    table.timestamp('last_checked_at', { useTz: true }).nullable();
    table.text('last_error').nullable();
    table.integer('consecutive_failures').notNullable().defaultTo(0);
    table.bigInteger('revision').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.timestamp('decommissioned_at', { useTz: true }).nullable();
    table.index(['environment_group'], 'kmp_clusters_group_idx');
    table.index(['lifecycle_state'], 'kmp_clusters_state_idx');
    table.index(['revision'], 'kmp_clusters_revision_idx');
  });

  await knex.schema.createTable('kmp_cluster_history', table => {
    table.comment('Immutable record of who registered or changed what');
    table.bigIncrements('id').primary();
    table.string('cluster_name', 63).notNullable();
    table.string('action', 32).notNullable();
    table.string('actor', 512).notNullable();
    table
      .text('changes')
      .notNullable()
      .comment('JSON: field -> [before, after]');
    table.timestamp('at', { useTz: true }).notNullable();
    table.index(['cluster_name', 'id'], 'kmp_cluster_history_cluster_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kmp_cluster_history');
  await knex.schema.dropTable('kmp_clusters');
  await knex.schema.dropTable('kmp_registry_revision');
  await knex.schema.dropTable('kmp_cluster_profiles');
};
