// @ts-check

/**
 * The GitOps state of each cluster as the registry's refresh loop last
 * listed it completely: a JSON summary of its Flux Kustomizations and
 * HelmReleases and Argo CD Applications with those failing or out of sync
 * (at most 50 of each). The alerts raise reconciliation failures and
 * prolonged drift from it.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('kmp_clusters', table => {
    table
      .text('gitops_status')
      .nullable()
      .comment('JSON summary of the GitOps objects failing or out of sync');
    table
      .timestamp('gitops_checked_at', { useTz: true })
      .nullable()
      .comment('When the GitOps objects were last listed completely');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('kmp_clusters', table => {
    table.dropColumn('gitops_status');
    table.dropColumn('gitops_checked_at');
  });
};
