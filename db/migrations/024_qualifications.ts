import type { Knex } from 'knex';

/**
 * Merchant qualifications and the monthly self-check (docs/rules.md).
 *
 * `merchant_qualifications`: one row per licence as recorded (kind business_licence,
 * food_licence or medical_device_licence), valid from `valid_from` to `expires_on` inclusive
 * (Shanghai calendar days). `number_masked` keeps the last four characters only: a business
 * licence's number is the USCC, personal data, and the check needs none of it. A renewal is a
 * new row; the row it replaces names it in `superseded_by`, so one current verified row per
 * (shop, kind). `verification`: ops and admin record `verified` rows; a merchant's record is
 * `pending` until ops verify or reject it, and supersedes nothing until verified. The check
 * reads current verified rows only, so a merchant cannot declare its way out of it.
 *
 * `qualification_notices`: what the check did about a shop's licence of a kind with an expiry
 * date, once per (shop, kind, expiry date, notice), whichever row recorded it (the same licence
 * recorded again is the same finding): `expiring` (the merchant was told), `case_opened` (a
 * qualification-mismatch case, `case_id`) or `case_refused` (the violation process refused the
 * case, `reason`, e.g. a closed shop: not tried again). `run_id` is the check's run that wrote it,
 * so a retried attempt of that run counts what its failed attempt did.
 *
 * `qualification_check_runs`: one row per checked month with the counts of its latest run.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('merchant_qualifications', (t) => {
    t.text('id').primary();
    t.text('merchant_id').notNullable().references('merchants.id');
    t.text('shop_id').notNullable().references('shops.id');
    t.text('kind').notNullable();
    t.text('number_masked');
    t.date('valid_from').notNullable();
    t.date('expires_on').notNullable();
    t.text('recorded_by').notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    // Checked at commit: a renewal names its row before the row is inserted (one current row per kind).
    t.text('superseded_by').references('merchant_qualifications.id').deferrable('deferred');
    t.text('verification').notNullable();
    t.text('verified_by');
    t.timestamp('verified_at', { useTz: true });
    t.text('verification_reason');
    t.check(`kind IN ('business_licence', 'food_licence', 'medical_device_licence')`, [], 'merchant_qualifications_kind_check');
    t.check('expires_on >= valid_from', [], 'merchant_qualifications_dates_check');
    t.check(`expires_on <= valid_from + interval '30 years'`, [], 'merchant_qualifications_validity_check');
    t.check(`verification IN ('pending', 'verified', 'rejected')`, [], 'merchant_qualifications_verification_check');
    t.check(`(verification = 'pending') = (verified_at IS NULL)`, [], 'merchant_qualifications_verified_check');
    // Only a verified row is ever superseded (a pending one supersedes nothing until verified).
    t.check(`superseded_by IS NULL OR verification = 'verified'`, [], 'merchant_qualifications_superseded_check');
    t.check(`number_masked IS NULL OR number_masked ~ '^\\*{4}[A-Za-z0-9]{0,4}$'`, [], 'merchant_qualifications_masked_check');
    t.index(['merchant_id', 'recorded_at', 'id'], 'merchant_qualifications_merchant_idx');
  });
  // The check reads current verified rows by expiry; one current verified row per shop and kind.
  await db.raw(`CREATE INDEX merchant_qualifications_current_expiry ON merchant_qualifications (expires_on, id) WHERE superseded_by IS NULL AND verification = 'verified'`);
  await db.raw(`CREATE UNIQUE INDEX merchant_qualifications_one_current ON merchant_qualifications (shop_id, kind) WHERE superseded_by IS NULL AND verification = 'verified'`);

  await db.schema.createTable('qualification_notices', (t) => {
    t.text('shop_id').notNullable().references('shops.id');
    t.text('kind').notNullable();
    t.date('expires_on').notNullable();
    t.text('notice').notNullable();
    // The row the check acted on (the same licence may be recorded again under another id).
    t.text('qualification_id').notNullable().references('merchant_qualifications.id');
    t.text('case_id');
    t.text('reason');
    t.text('check_month').notNullable();
    t.text('run_id').notNullable();
    t.timestamp('sent_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['shop_id', 'kind', 'expires_on', 'notice']);
    t.check(`notice IN ('expiring', 'case_opened', 'case_refused')`, [], 'qualification_notices_notice_check');
    t.check(`(notice = 'case_opened') = (case_id IS NOT NULL)`, [], 'qualification_notices_case_check');
    t.check(`(notice = 'case_refused') = (reason IS NOT NULL)`, [], 'qualification_notices_reason_check');
  });

  await db.schema.createTable('qualification_check_runs', (t) => {
    t.text('month').primary();
    t.text('workflow_id').notNullable();
    t.text('status').notNullable();
    t.date('checked_on').notNullable();
    t.integer('checked').notNullable().defaultTo(0);
    t.integer('expiring').notNullable().defaultTo(0);
    t.integer('expired').notNullable().defaultTo(0);
    t.integer('notified').notNullable().defaultTo(0);
    t.integer('cases_opened').notNullable().defaultTo(0);
    t.integer('skipped').notNullable().defaultTo(0);
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.check(`status IN ('running', 'completed')`, [], 'qualification_check_runs_status_check');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('qualification_check_runs');
  await db.schema.dropTable('qualification_notices');
  await db.schema.dropTable('merchant_qualifications');
}
