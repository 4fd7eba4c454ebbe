// @ts-check

/**
 * Policy governance: which bundle version and mode KMP installed on each
 * cluster with its last drift check, and the last compliance scan of each
 * cluster.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kmp_policy_installations', table => {
    table.comment('Policy bundle installed per cluster, and its drift');
    table.string('cluster', 63).primary().notNullable();
    table.string('bundle_version', 64).notNullable();
    table.string('mode', 16).notNullable().comment('apply or gitops');
    table.text('enforcement').notNullable().comment('JSON: rule id -> action');
    table
      .string('content_hash', 64)
      .notNullable()
      .comment('Hash of the governed fields of the installed objects');
    table.text('location').nullable().comment('GitOps directory');
    table.timestamp('installed_at', { useTz: true }).notNullable();
    table.string('installed_by', 512).notNullable();
    table.string('drift_status', 16).notNullable();
    table.timestamp('drift_checked_at', { useTz: true }).nullable();
    table.text('drift_details').notNullable().comment('JSON array');
    table.string('live_version', 64).nullable();
  });

  await knex.schema.createTable('kmp_policy_compliance', table => {
    table.comment('Last compliance scan per cluster');
    table.string('cluster', 63).primary().notNullable();
    table.string('bundle_version', 64).notNullable();
    table.string('status', 16).notNullable();
    table.timestamp('scanned_at', { useTz: true }).notNullable();
    table.integer('objects_scanned').notNullable();
    table.text('error').nullable();
    table.text('engines').notNullable().comment('JSON array');
    table.text('rules').notNullable().comment('JSON array of rule summaries');
    table.text('findings').notNullable().comment('JSON array, capped');
    table.boolean('truncated').notNullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kmp_policy_compliance');
  await knex.schema.dropTable('kmp_policy_installations');
};
