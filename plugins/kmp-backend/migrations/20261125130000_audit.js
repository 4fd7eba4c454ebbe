// @ts-check

/**
 * The audit trail: an append-only, hash-chained event table, the chain head
 * (one row, locked by writers so that several backend instances append one
 * chain), signed checkpoints of pruned ranges, and one cursor row per SIEM
 * sink (the outbox).
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kmp_audit_events', table => {
    table.comment('Append-only audit events, hash-chained in seq order');
    table
      .bigInteger('seq')
      .primary()
      .notNullable()
      .comment('Position in the chain: 1, 2, 3, … without gaps');
    table.string('id', 36).notNullable();
    table
      .bigInteger('time_ms')
      .notNullable()
      .comment('Event time in epoch milliseconds, for time-range queries');
    table.string('actor_type', 16).notNullable();
    table.string('actor_ref', 512).notNullable();
    table.string('action', 128).notNullable();
    table.string('cluster', 63).nullable();
    table.string('namespace', 253).nullable();
    table.string('decision', 8).notNullable();
    table.string('outcome', 16).notNullable();
    table.string('correlation_id', 128).notNullable();
    table
      .text('event')
      .notNullable()
      .comment(
        'Canonical JSON of the event: exactly the bytes that are hashed',
      );
    table
      .string('hash', 64)
      .notNullable()
      .comment('hex SHA-256(previous hash || event)');
    table.index(['time_ms'], 'kmp_audit_events_time_idx');
    table.index(['actor_ref', 'seq'], 'kmp_audit_events_actor_idx');
    table.index(['cluster', 'seq'], 'kmp_audit_events_cluster_idx');
    table.index(['action', 'seq'], 'kmp_audit_events_action_idx');
  });

  await knex.schema.createTable('kmp_audit_head', table => {
    table.comment('The head of the audit chain; exactly one row, id 1');
    table.integer('id').primary().notNullable();
    table.bigInteger('seq').notNullable();
    table.string('hash', 64).notNullable();
  });
  await knex('kmp_audit_head').insert({ id: 1, seq: 0, hash: '0'.repeat(64) });

  await knex.schema.createTable('kmp_audit_checkpoints', table => {
    table.comment('Signed records of pruned chain prefixes');
    table.bigInteger('seq').primary().notNullable().comment('Last pruned seq');
    table.string('hash', 64).notNullable().comment('Chain hash at seq');
    table.bigInteger('prev_seq').notNullable();
    table.bigInteger('created_at_ms').notNullable();
    table.string('algorithm', 32).notNullable();
    table.string('key_id', 32).notNullable();
    table.string('signature', 256).notNullable();
  });

  await knex.schema.createTable('kmp_audit_sink_cursors', table => {
    table.comment('Outbox cursors: how far each SIEM sink has been delivered');
    table.string('name', 128).primary().notNullable();
    table.string('kind', 64).notNullable();
    table
      .bigInteger('cursor')
      .notNullable()
      .comment('Highest seq delivered to the sink');
    table.string('state', 16).notNullable();
    table.integer('consecutive_failures').notNullable().defaultTo(0);
    table.text('last_error').nullable();
    table.bigInteger('last_error_at_ms').nullable();
    table.bigInteger('last_success_at_ms').nullable();
    table.bigInteger('delivered_count').notNullable().defaultTo(0);
    table
      .string('lease_owner', 64)
      .nullable()
      .comment('The backend instance that delivers to this sink');
    table.bigInteger('lease_expires_at_ms').nullable();
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kmp_audit_sink_cursors');
  await knex.schema.dropTable('kmp_audit_checkpoints');
  await knex.schema.dropTable('kmp_audit_head');
  await knex.schema.dropTable('kmp_audit_events');
};
