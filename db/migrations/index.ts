import type { Knex } from 'knex';
import * as foundation from './001_foundation';
import * as deposits from './002_deposits';
import * as settlement from './003_settlement';
import * as finalStatements from './004_final_statements';
import * as orderFeed from './005_order_feed';
import * as violations from './006_violations';
import * as payments from './007_payments';
import * as auditSecurity from './008_audit_security';
import * as identityKeys from './009_identity_keys';
import * as receivables from './013_receivables';
import * as forfeitureRestore from './015_forfeiture_restore';
import * as violationReferences from './016_violation_references';
import * as calendarYears from './017_calendar_years';
import * as listIndexes from './018_list_indexes';
import * as feeRatesAndIdempotency from './019_fee_rates_and_idempotency';
import * as storeBindings from './020_store_bindings';
import * as linkWindows from './021_link_windows';
import * as catalogue from './022_catalogue';
import * as catalogueRisks from './023_catalogue_risks';
import * as qualifications from './024_qualifications';
import * as observedPrices from './025_observed_prices';
import * as fulfilment from './026_fulfilment';
import * as afterSales from './027_after_sales';
import * as enforcement from './028_enforcement';
import * as campaigns from './029_campaigns';
import * as ordersByMonth from './030_orders_by_month';

interface Migration {
  up(db: Knex): Promise<void>;
  down(db: Knex): Promise<void>;
}

// Listed explicitly (not discovered from the folder) so the same list works under
// tsx, jest and a compiled build alike. Append new migrations; never reorder.
const MIGRATIONS: Array<readonly [string, Migration]> = [
  ['001_foundation', foundation],
  ['002_deposits', deposits],
  ['003_settlement', settlement],
  ['004_final_statements', finalStatements],
  ['005_order_feed', orderFeed],
  ['006_violations', violations],
  ['007_payments', payments],
  ['008_audit_security', auditSecurity],
  ['009_identity_keys', identityKeys],
  ['013_receivables', receivables],
  ['015_forfeiture_restore', forfeitureRestore],
  ['016_violation_references', violationReferences],
  ['017_calendar_years', calendarYears],
  ['018_list_indexes', listIndexes],
  ['019_fee_rates_and_idempotency', feeRatesAndIdempotency],
  ['020_store_bindings', storeBindings],
  ['021_link_windows', linkWindows],
  ['022_catalogue', catalogue],
  ['023_catalogue_risks', catalogueRisks],
  ['024_qualifications', qualifications],
  ['025_observed_prices', observedPrices],
  ['026_fulfilment', fulfilment],
  ['027_after_sales', afterSales],
  ['028_enforcement', enforcement],
  ['029_campaigns', campaigns],
  ['030_orders_by_month', ordersByMonth],
];

export const migrationSource: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};

export const migratorConfig: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

export async function migrateToLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migratorConfig)) as [number, string[]];
  return applied;
}
