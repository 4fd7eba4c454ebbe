// @ts-check

/**
 * Tenant namespaces per cluster, as the registry's refresh loop last
 * observed them (namespaces labelled `kmp.backstage.io/team`). Developers
 * see the clusters where their team has one (PERSONAS.md, "which
 * clusters"); the fleet list filters on this table.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kmp_cluster_tenants', table => {
    table.comment('Tenant namespaces observed on each cluster');
    table
      .string('cluster_name', 63)
      .notNullable()
      .references('name')
      .inTable('kmp_clusters')
      .onDelete('CASCADE');
    table.string('namespace', 63).notNullable();
    table
      .string('team', 63)
      .notNullable()
      .comment('The namespace label kmp.backstage.io/team');
    table.timestamp('observed_at', { useTz: true }).notNullable();
    table.primary(['cluster_name', 'namespace']);
    table.index(['team', 'cluster_name'], 'kmp_cluster_tenants_team_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kmp_cluster_tenants');
};
