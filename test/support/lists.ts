import type { Knex } from 'knex';
import { createLedger, deductionOwing, topUp } from '../../db/repositories/ledger';

/**
 * Rows for the lists (GET /v1/verifications, /violations, /shops, /settlements, /statements),
 * written straight into the read model the processes keep: the lists read nothing else. Sort
 * keys tie on purpose (three cases share a deadline, violations share an opening time,
 * statements a period), and two deadlines differ by one microsecond, which a cursor that
 * rounded to the millisecond would skip or repeat.
 */
export const MERCHANTS = ['m-a', 'm-b', 'm-c', 'm-d', 'm-e', 'm-f'] as const;
export const shopOf = (merchantId: string) => `shop-${merchantId.slice(2)}`;

export interface SeedCase {
  id: string;
  merchantId: string;
  entityType: 'individual' | 'enterprise';
  status: string;
  overdue: boolean;
  submittedAt: string;
  deadline: string | null;
}

const TIED = '2026-03-05T15:59:59.999000Z';
export const CASES: SeedCase[] = [
  { id: 'vc_a000000001', merchantId: 'm-a', entityType: 'individual', status: 'in_review', overdue: false, submittedAt: '2026-03-02T01:00:00.000000Z', deadline: TIED },
  { id: 'vc_c000000002', merchantId: 'm-c', entityType: 'enterprise', status: 'in_review', overdue: false, submittedAt: '2026-03-02T02:00:00.000000Z', deadline: TIED },
  { id: 'vc_b000000003', merchantId: 'm-b', entityType: 'individual', status: 'awaiting_resubmission', overdue: false, submittedAt: '2026-03-01T03:00:00.000000Z', deadline: TIED },
  { id: 'vc_d000000004', merchantId: 'm-d', entityType: 'individual', status: 'in_review', overdue: true, submittedAt: '2026-02-20T04:00:00.000000Z', deadline: '2026-02-25T15:59:59.999000Z' },
  // One microsecond apart: the later sorts second even though a JavaScript Date cannot tell them apart.
  { id: 'vc_e000000005', merchantId: 'm-e', entityType: 'individual', status: 'in_review', overdue: false, submittedAt: '2026-03-01T05:00:00.000000Z', deadline: '2026-03-04T10:00:00.000002Z' },
  { id: 'vc_f000000006', merchantId: 'm-f', entityType: 'enterprise', status: 'needs_attention', overdue: false, submittedAt: '2026-03-01T06:00:00.000000Z', deadline: '2026-03-04T10:00:00.000001Z' },
  { id: 'vc_a000000007', merchantId: 'm-a', entityType: 'individual', status: 'approved', overdue: false, submittedAt: '2026-01-10T07:00:00.000000Z', deadline: '2026-01-13T15:59:59.999000Z' },
  { id: 'vc_b000000008', merchantId: 'm-b', entityType: 'individual', status: 'in_review', overdue: false, submittedAt: '2026-03-06T08:00:00.000000Z', deadline: null },
  { id: 'vc_c000000009', merchantId: 'm-c', entityType: 'enterprise', status: 'in_review', overdue: false, submittedAt: '2026-03-06T09:00:00.000000Z', deadline: null },
  { id: 'vc_d000000010', merchantId: 'm-d', entityType: 'individual', status: 'rejected', overdue: true, submittedAt: '2026-02-01T10:00:00.000000Z', deadline: '2026-02-04T15:59:59.999000Z' },
];

/** Code-point order, as the database compares these ASCII keys (localeCompare would put '~' before digits). */
const byCodePoint = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/** The queue's order: the earliest deadline first, none last, then id. */
export const queueOrder = (cases: SeedCase[]) =>
  [...cases].sort((x, y) => byCodePoint(x.deadline ?? '~', y.deadline ?? '~') || byCodePoint(x.id, y.id)).map((c) => c.id);

export interface SeedViolation {
  id: string;
  merchantId: string;
  level: 'general' | 'serious' | 'especially_serious';
  type: string;
  status: string;
  openedAt: string;
  /** A step that failed for good: still waiting for ops (open) or answered (resolved). */
  attention?: 'open' | 'resolved';
}

const SAME_HOUR = '2026-03-03T02:00:00.000000Z';
export const VIOLATIONS: SeedViolation[] = [
  { id: 'vio_000000000000000000000001', merchantId: 'm-a', level: 'general', type: 'false_advertising', status: 'appealable', openedAt: SAME_HOUR },
  { id: 'vio_000000000000000000000002', merchantId: 'm-b', level: 'serious', type: 'price_violation', status: 'appealed', openedAt: SAME_HOUR },
  { id: 'vio_000000000000000000000003', merchantId: 'm-c', level: 'general', type: 'other', status: 'appealed', openedAt: SAME_HOUR, attention: 'open' },
  { id: 'vio_000000000000000000000004', merchantId: 'm-a', level: 'serious', type: 'qualification_mismatch', status: 'in_effect', openedAt: '2026-02-01T00:00:00.000001Z', attention: 'resolved' },
  { id: 'vio_000000000000000000000005', merchantId: 'm-d', level: 'especially_serious', type: 'other', status: 'permanent', openedAt: '2026-02-01T00:00:00.000000Z' },
  { id: 'vio_000000000000000000000006', merchantId: 'm-e', level: 'general', type: 'false_advertising', status: 'expired', openedAt: '2026-01-15T00:00:00.000000Z' },
  { id: 'vio_000000000000000000000007', merchantId: 'm-b', level: 'general', type: 'price_violation', status: 'reversed', openedAt: '2026-03-04T00:00:00.000000Z' },
];

/** Newest first, then by id, descending too. */
export const violationOrder = (cases: SeedViolation[]) =>
  [...cases].sort((x, y) => byCodePoint(y.openedAt, x.openedAt) || byCodePoint(y.id, x.id)).map((c) => c.id);

export interface SeedStatement {
  merchantId: string;
  period: string;
  status: 'payable' | 'carried';
}

export const STATEMENTS: SeedStatement[] = [
  ...MERCHANTS.map((merchantId) => ({ merchantId, period: '2026-01', status: 'payable' as const })),
  ...MERCHANTS.slice(0, 4).map((merchantId) => ({ merchantId, period: '2026-02', status: merchantId === 'm-b' ? ('carried' as const) : ('payable' as const) })),
  { merchantId: 'm-a', period: '2025-12', status: 'payable' },
];

export const statementOrder = (rows: SeedStatement[]) =>
  [...rows].sort((x, y) => byCodePoint(y.period, x.period) || byCodePoint(x.merchantId, y.merchantId)).map((s) => `${s.merchantId}/${s.period}`);

export const RUNS = [
  { period: '2025-12', status: 'completed', failures: [] },
  { period: '2026-01', status: 'completed', failures: [{ merchantId: 'm-f', category: 'toys', reason: 'no fee rate for the category' }] },
  { period: '2026-02', status: 'running', failures: [] },
];

/** Where each seeded shop's deposit stands, and why. */
export const SHOP_STATES: Record<string, string> = {
  'shop-a': 'open', // paid more than required
  'shop-b': 'shortfall', // a fine beyond the deposit, an open episode
  'shop-c': 'closing',
  'shop-d': 'closed',
  'shop-e': 'awaiting_deposit', // no requirement assessed yet
  'shop-f': 'awaiting_deposit', // never paid what is required
};

export async function seedLists(db: Knex): Promise<void> {
  await db('merchants').insert(
    MERCHANTS.map((id) => ({ id, entity_type: id === 'm-c' || id === 'm-f' ? 'enterprise' : 'individual', legal_name: `Legal name of ${id}`, verification_status: 'verified' })),
  );
  await db('verification_cases').insert(
    CASES.map((c) => ({
      id: c.id,
      merchant_id: c.merchantId,
      workflow_id: `verification:${c.merchantId}`,
      entity_type: c.entityType,
      legal_name: `Legal name of ${c.merchantId}`,
      status: c.status,
      overdue: c.overdue,
      submitted_at: c.submittedAt,
      deadline: c.deadline,
    })),
  );
  const status: Record<string, string> = { 'shop-c': 'closing', 'shop-d': 'closed' };
  await db('shops').insert(
    MERCHANTS.map((m) => ({ id: shopOf(m), merchant_id: m, shop_type: 'individual', status: status[shopOf(m)] ?? 'open', opened_by_case_id: `vc-${m}` })),
  );
  await db('violation_cases').insert(
    VIOLATIONS.map((v) => ({
      id: v.id,
      merchant_id: v.merchantId,
      shop_id: shopOf(v.merchantId),
      level: v.level,
      reported_level: v.level,
      type: v.type,
      status: v.status,
      opened_at: v.openedAt,
      opened_by: 'olga',
      evidence: JSON.stringify({ summary: 'seen by ops', productIds: [] }),
      appeal: v.status === 'appealed' ? JSON.stringify({ filedAt: '2026-03-03T05:00:00.000Z', statement: 'not us', filedBy: `u-${v.merchantId}`, decision: null, decidedBy: null, decidedAt: null, reasons: [] }) : null,
    })),
  );
  for (const v of VIOLATIONS.filter((x) => x.attention)) {
    const since = '2026-03-03T06:00:00.000Z';
    await db('violation_events').insert({ case_id: v.id, type: `needs_attention:${since}`, actor: 'system', at: since, details: JSON.stringify({ step: 'record appeal_filed', error: 'refused' }) });
    if (v.attention === 'resolved') await db('violation_events').insert({ case_id: v.id, type: `attention_resolved:${since}`, actor: 'ops:olga', at: '2026-03-03T07:00:00.000Z', details: '{}' });
  }

  const ledger = createLedger(db);
  const requirement = (shopId: string, requiredFen: number) => db('deposit_accounts').insert({ shop_id: shopId, required_fen: requiredFen, requirement_parts: '{}' });
  const post = (shopId: string, key: string, kind: 'top_up' | 'deduction', entries: ReturnType<typeof topUp>) =>
    ledger.post({ idempotencyKey: key, shopId, kind, reason: 'seed', actor: 'test', entries });
  for (const shopId of ['shop-a', 'shop-b', 'shop-c', 'shop-d', 'shop-f']) await requirement(shopId, shopId === 'shop-f' ? 100_000 : 50_000);
  await post('shop-a', 'seed:a', 'top_up', topUp('deposit', 60_000));
  await post('shop-a', 'seed:a:promo', 'top_up', topUp('promotion_deposit', 50_000));
  await post('shop-b', 'seed:b', 'top_up', topUp('deposit', 20_000));
  // A fine of 30,000 fen on 20,000 held: the deposit is empty and 10,000 is owed.
  await post('shop-b', 'seed:b:fine', 'deduction', deductionOwing('deposit', 30_000, 20_000));
  await post('shop-c', 'seed:c', 'top_up', topUp('deposit', 50_000));
  await post('shop-f', 'seed:f', 'top_up', topUp('deposit', 30_000));
  await db('deposit_episodes').insert({ id: 'ep-b', shop_id: 'shop-b', started_at: '2026-03-01T00:00:00Z', required_fen: 50_000, balance_at_start_fen: 0, schedule: '[]' });
  await db('deposit_episode_steps').insert([
    { episode_id: 'ep-b', step: 'notify', at: '2026-03-01T00:00:00Z' },
    { episode_id: 'ep-b', step: 'close_cart', at: '2026-03-04T00:00:00Z' },
  ]);
  await db('shop_restrictions').insert({ shop_id: 'shop-b', restriction: 'cart', source: 'deposit', since: '2026-03-04T00:00:00Z' });

  await db('statements').insert(
    STATEMENTS.map((s) => ({
      merchant_id: s.merchantId,
      period: s.period,
      gmv_fen: 10_000,
      union_fee_fen: 1_000,
      channel_fee_fen: 300,
      refunds_fen: 0,
      carried_in_fen: 0,
      forfeited_fen: 0,
      net_fen: 8_700,
      payout_fen: s.status === 'payable' ? 8_700 : 0,
      carried_out_fen: s.status === 'payable' ? 0 : 8_700,
      line_count: 3,
      status: s.status,
    })),
  );
  await db('settlement_runs').insert(
    RUNS.map((r) => ({ period: r.period, status: r.status, failures: JSON.stringify(r.failures), merchants_done: 4, totals: JSON.stringify({ statements: 4, gmvFen: 40_000 }) })),
  );
}
