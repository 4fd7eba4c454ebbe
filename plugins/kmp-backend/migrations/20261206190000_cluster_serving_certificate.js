// @ts-check

/**
 * The API server's serving certificate as the registry's refresh loop last
 * saw it in the TLS handshake: when it expires and whom it names. The
 * alerts warn before it expires, as they do for the certificates KMP holds.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('kmp_clusters', table => {
    table
      .timestamp('serving_cert_not_after', { useTz: true })
      .nullable()
      .comment("Expiry of the API server's serving certificate");
    table
      .string('serving_cert_subject', 500)
      .nullable()
      .comment("Subject of the API server's serving certificate");
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('kmp_clusters', table => {
    table.dropColumn('serving_cert_not_after');
    table.dropColumn('serving_cert_subject');
  });
};
