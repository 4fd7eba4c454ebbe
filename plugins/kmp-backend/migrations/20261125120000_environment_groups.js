// @ts-check

/**
 * Environment groups: the fleet segments clusters belong to.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('kmp_environment_groups', table => {
    table.comment('Fleet segments by environment, geography or function');
    table.string('name', 63).primary().notNullable();
    table.string('title', 200).nullable();
    table.text('description').nullable();
    table.string('environment', 32).notNullable();
    table.string('owner', 512).notNullable();
    table
      .string('source', 32)
      .notNullable()
      .comment('Where the group was declared: config or api');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('kmp_environment_groups');
};
