// @ts-check

/**
 * The node problems of each cluster as the registry's refresh loop last
 * read its node list: a JSON summary of the nodes under memory, disk or PID
 * pressure, cordoned (`spec.unschedulable`) or without network
 * (`NetworkUnavailable`, the CNI), at most 50 of each with their counts,
 * and when the list was read (`checkedAt`). The alerts raise
 * node pressure, unschedulable nodes and CNI failures from it.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('kmp_clusters', table => {
    table
      .text('node_problems')
      .nullable()
      .comment(
        'JSON summary of the nodes under pressure, cordoned or without network',
      );
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('kmp_clusters', table => {
    table.dropColumn('node_problems');
  });
};
