import type { Knex } from 'knex';

/**
 * A violation case is opened once per business reference (an ops ticket, or the caller's
 * Idempotency-Key): a retried request finds the case it opened instead of opening a second
 * one, which would escalate the first. The reference is unique across all shops; the
 * fingerprint (SHA-256 of the request's canonical JSON) tells a retry from a different
 * request reusing the reference. Cases opened before this have neither (NULLs never clash).
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('violation_cases', (t) => {
    t.text('reference');
    t.text('request_fingerprint');
    t.unique(['reference'], { indexName: 'violation_cases_reference_unique' });
    t.check('(reference IS NULL) = (request_fingerprint IS NULL)', [], 'violation_cases_reference_fingerprint_check');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('violation_cases', (t) => {
    t.dropChecks(['violation_cases_reference_fingerprint_check']);
    t.dropUnique(['reference'], 'violation_cases_reference_unique');
    t.dropColumns('reference', 'request_fingerprint');
  });
}
