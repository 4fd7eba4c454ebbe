// @ts-check

/**
 * Access broker: short-lived bearer tokens of KMP-issued kubeconfigs. Only
 * a SHA-256 hash of each token is stored; the token itself is shown once.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kmp_broker_tokens', table => {
    table.comment('Bearer tokens of KMP-issued kubeconfigs (hashes only)');
    table.string('id', 36).primary().notNullable();
    table
      .string('token_hash', 64)
      .notNullable()
      .unique()
      .comment('hex SHA-256 of the token');
    table.string('actor_ref', 512).notNullable();
    table.string('actor_kind', 16).notNullable();
    table.text('groups').notNullable().comment('JSON array of ownership refs');
    table.string('cluster', 63).notNullable();
    table.string('access', 16).notNullable().comment('read or write');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('expires_at', { useTz: true }).notNullable();
    table.timestamp('revoked_at', { useTz: true }).nullable();
    table.string('revoked_by', 512).nullable();
    table.index(['actor_ref', 'created_at'], 'kmp_broker_tokens_actor_idx');
    table.index(['expires_at'], 'kmp_broker_tokens_expires_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kmp_broker_tokens');
};
