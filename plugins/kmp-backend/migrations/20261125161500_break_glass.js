// @ts-check

/**
 * Break-glass: requests for emergency hand-made changes to production
 * clusters, and the grants they become once a second person approves them.
 * A grant is the approved request (same id); it ends at `expires_at` or when
 * it is revoked.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kmp_break_glass_requests', table => {
    table.comment('Break-glass requests and the grants approved from them');
    table.string('id', 36).primary().notNullable();
    table.string('cluster', 63).notNullable();
    table.string('environment_group', 63).notNullable();
    table
      .string('namespace', 63)
      .nullable()
      .comment('the grant covers only this namespace; null = whole cluster');
    table.string('requester_ref', 512).notNullable();
    table.text('reason').notNullable();
    table.integer('duration_seconds').notNullable();
    table
      .string('state', 16)
      .notNullable()
      .comment('pending, approved, denied or revoked (expiry is derived)');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table
      .timestamp('pending_until', { useTz: true })
      .notNullable()
      .comment('an undecided request lapses at this time');
    table.string('decided_by', 512).nullable();
    table.timestamp('decided_at', { useTz: true }).nullable();
    table.text('decision_comment').nullable();
    table
      .timestamp('expires_at', { useTz: true })
      .nullable()
      .comment('end of the grant; set on approval');
    table.string('revoked_by', 512).nullable();
    table.timestamp('revoked_at', { useTz: true }).nullable();
    table.text('revoke_reason').nullable();
    table
      .timestamp('closed_recorded_at', { useTz: true })
      .nullable()
      .comment('when the expiry or lapse was written to the audit trail');
    table.index(
      ['requester_ref', 'cluster', 'state'],
      'kmp_break_glass_requester_idx',
    );
    table.index(['state', 'expires_at'], 'kmp_break_glass_state_idx');
    table.index(['created_at'], 'kmp_break_glass_created_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kmp_break_glass_requests');
};
