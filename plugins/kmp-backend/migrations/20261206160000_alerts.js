// @ts-check

/**
 * Structural alerts: one row per alert fingerprint with its current state,
 * an append-only outbox of firing/resolved transitions for the receivers,
 * the receivers' delivery cursors (same shape as the audit sinks'), and the
 * time of the last evaluation.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kmp_alerts', table => {
    table.comment('Structural alerts raised by KMP, one row per fingerprint');
    table
      .string('fingerprint', 32)
      .primary()
      .notNullable()
      .comment('Hash of the identifying labels (alertname, cluster)');
    table.string('cluster', 63).notNullable();
    table.string('alertname', 128).notNullable();
    table.string('severity', 16).notNullable();
    table
      .string('state', 16)
      .notNullable()
      .comment(
        'pending (condition holds, not yet for long enough), firing or resolved',
      );
    table.string('summary', 500).notNullable();
    table.text('description').notNullable();
    table.text('labels').notNullable().comment('JSON object');
    table
      .timestamp('active_since', { useTz: true })
      .notNullable()
      .comment('When the condition of the current episode was first seen');
    table.timestamp('starts_at', { useTz: true }).nullable();
    table.timestamp('ends_at', { useTz: true }).nullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.index(['state', 'cluster'], 'kmp_alerts_state_cluster_idx');
    table.index(['cluster', 'starts_at'], 'kmp_alerts_cluster_idx');
  });

  await knex.schema.createTable('kmp_alert_events', table => {
    table.comment('Outbox of alert transitions, delivered to the receivers');
    table.bigIncrements('seq').primary();
    table.string('fingerprint', 32).notNullable();
    table.string('status', 16).notNullable().comment('firing or resolved');
    table.text('alert').notNullable().comment('JSON: the alert as it was');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.index(['created_at'], 'kmp_alert_events_created_idx');
  });

  await knex.schema.createTable('kmp_alert_receiver_cursors', table => {
    table.comment('Outbox cursors: how far each alert receiver was delivered');
    table.string('name', 128).primary().notNullable();
    table.string('kind', 64).notNullable();
    table.bigInteger('cursor').notNullable();
    table.string('state', 16).notNullable();
    table.integer('consecutive_failures').notNullable().defaultTo(0);
    table.text('last_error').nullable();
    table.bigInteger('last_error_at_ms').nullable();
    table.bigInteger('last_success_at_ms').nullable();
    table.bigInteger('delivered_count').notNullable().defaultTo(0);
    table.string('lease_owner', 64).nullable();
    table.bigInteger('lease_expires_at_ms').nullable();
  });

  await knex.schema.createTable('kmp_alert_evaluations', table => {
    table.comment('Single row: when alert rules were last evaluated');
    table.integer('id').primary().notNullable();
    table.timestamp('evaluated_at', { useTz: true }).notNullable();
    table.integer('clusters').notNullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kmp_alert_evaluations');
  await knex.schema.dropTable('kmp_alert_receiver_cursors');
  await knex.schema.dropTable('kmp_alert_events');
  await knex.schema.dropTable('kmp_alerts');
};
