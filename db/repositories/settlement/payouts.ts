import type { Knex } from 'knex';
import { SettlementRecordNotFoundError, assertPeriod, positiveLimit, type StatementRow } from './records';

/**
 * A payable statement's payout, recorded before the platform is asked to pay it and keyed
 * `settle:<merchant>:<period>` (STYLE.md habit 3), so a retry never pays twice.
 */

export type PayoutStatus = 'requested' | 'paid';

export interface Payout {
  idempotencyKey: string;
  merchantId: string;
  period: string;
  amountFen: number;
  platformPayoutId: string | null;
  status: PayoutStatus;
  createdAt: Date;
  paidAt: Date | null;
}

/** The statement has nothing to pay out (carried, or already handled otherwise). */
export class NothingPayableError extends Error {
  constructor(
    readonly merchantId: string,
    readonly period: string,
  ) {
    super(`settlement: statement ${merchantId} ${period} has no payout`);
    this.name = 'NothingPayableError';
  }
}

/** The business key of a payout; payouts.idempotency_key checks the same form. */
export const payoutKey = (merchantId: string, period: string): string => `settle:${merchantId}:${period}`;

interface PayoutRow {
  idempotency_key: string;
  merchant_id: string;
  period: string;
  amount_fen: number;
  platform_payout_id: string | null;
  status: PayoutStatus;
  created_at: Date;
  paid_at: Date | null;
}

const toPayout = (r: PayoutRow): Payout => ({
  idempotencyKey: r.idempotency_key,
  merchantId: r.merchant_id,
  period: r.period,
  amountFen: Number(r.amount_fen),
  platformPayoutId: r.platform_payout_id,
  status: r.status,
  createdAt: r.created_at,
  paidAt: r.paid_at,
});

export function createPayoutRepository(db: Knex) {
  async function findPayout(idempotencyKey: string, q: Knex = db): Promise<Payout | undefined> {
    const row = await q<PayoutRow>('payouts').where({ idempotency_key: idempotencyKey }).first();
    return row ? toPayout(row) : undefined;
  }

  return {
    /**
     * Records the payout of a payable statement before the platform is asked to pay it.
     * The amount comes from the statement; the key `settle:<merchant>:<period>` makes a
     * repeated call answer `created: false` with the payout already recorded.
     */
    async recordPayoutRequested(merchantId: string, period: string, platformPayoutId?: string): Promise<{ created: boolean; payout: Payout }> {
      const key = payoutKey(merchantId, assertPeriod(period));
      return db.transaction(async (trx) => {
        const statement = await trx<StatementRow>('statements').where({ merchant_id: merchantId, period }).forUpdate().first();
        if (!statement) throw new SettlementRecordNotFoundError(`statement ${merchantId} ${period}`);
        if (Number(statement.payout_fen) <= 0) throw new NothingPayableError(merchantId, period);
        const inserted = await trx('payouts')
          .insert({
            idempotency_key: key,
            merchant_id: merchantId,
            period,
            amount_fen: statement.payout_fen,
            platform_payout_id: platformPayoutId ?? null,
            status: 'requested',
          })
          .onConflict('idempotency_key')
          .ignore()
          .returning('idempotency_key');
        if (inserted.length > 0) await trx('statements').where({ merchant_id: merchantId, period }).update({ payout_id: key });
        return { created: inserted.length > 0, payout: (await findPayout(key, trx))! };
      });
    },

    /** The platform paid: payout and statement become 'paid' once; a repeat keeps the first answer. */
    async markPayoutPaid(idempotencyKey: string, paid: { platformPayoutId: string; paidAt: Date }): Promise<Payout> {
      return db.transaction(async (trx) => {
        const changed = await trx('payouts')
          .where({ idempotency_key: idempotencyKey, status: 'requested' })
          .update({
            status: 'paid',
            paid_at: paid.paidAt,
            platform_payout_id: trx.raw('COALESCE(platform_payout_id, ?)', [paid.platformPayoutId]),
          })
          .returning<Array<{ merchant_id: string; period: string }>>(['merchant_id', 'period']);
        for (const r of changed) await trx('statements').where({ merchant_id: r.merchant_id, period: r.period }).update({ status: 'paid' });
        const payout = await findPayout(idempotencyKey, trx);
        if (!payout) throw new SettlementRecordNotFoundError(`payout ${idempotencyKey}`);
        return payout;
      });
    },

    findPayout: (idempotencyKey: string) => findPayout(idempotencyKey),

    /**
     * The next page of payable (not yet paid) statements after a merchant, with their payout
     * rows recorded first, set-based and idempotently: one INSERT … SELECT per page. A
     * payout left `requested` by a crash stays in its statement's page until it is paid.
     */
    async requestPayoutPage(period: string, afterMerchantId: string, limit: number): Promise<{ lastMerchantId: string | null; payouts: Payout[] }> {
      assertPeriod(period);
      return db.transaction(async (trx) => {
        const page = await trx('statements')
          .where({ period, status: 'payable' })
          .andWhere('merchant_id', '>', afterMerchantId)
          .orderBy('merchant_id')
          .limit(positiveLimit(limit))
          .pluck('merchant_id');
        if (page.length === 0) return { lastMerchantId: null, payouts: [] };
        const last = page[page.length - 1] as string;
        await trx.raw(
          `INSERT INTO payouts (idempotency_key, merchant_id, period, amount_fen, status)
           SELECT 'settle:' || s.merchant_id || ':' || s.period, s.merchant_id, s.period, s.payout_fen, 'requested'
             FROM statements s
            WHERE s.period = ? AND s.status = 'payable' AND s.merchant_id > ? AND s.merchant_id <= ?
           ON CONFLICT (idempotency_key) DO NOTHING`,
          [period, afterMerchantId, last],
        );
        await trx.raw(
          `UPDATE statements SET payout_id = 'settle:' || merchant_id || ':' || period
            WHERE period = ? AND status = 'payable' AND merchant_id > ? AND merchant_id <= ? AND payout_id IS NULL`,
          [period, afterMerchantId, last],
        );
        const rows = await trx<PayoutRow>('payouts')
          .where({ period, status: 'requested' })
          .andWhere('merchant_id', '>', afterMerchantId)
          .andWhere('merchant_id', '<=', last)
          .orderBy('merchant_id');
        return { lastMerchantId: last, payouts: rows.map(toPayout) };
      });
    },

    /** Marks a page of payouts paid, and their statements, in one UPDATE each; the first answer stands. */
    async markPayoutsPaid(paid: Array<{ idempotencyKey: string; platformPayoutId: string }>, paidAt: Date): Promise<number> {
      if (paid.length === 0) return 0;
      return db.transaction(async (trx) => {
        const values = paid.map(() => '(?, ?)').join(', ');
        const bindings = paid.flatMap((p) => [p.idempotencyKey, p.platformPayoutId]);
        const changed = await trx.raw(
          `UPDATE payouts p SET status = 'paid', paid_at = ?, platform_payout_id = COALESCE(p.platform_payout_id, v.pid)
             FROM (VALUES ${values}) AS v(key, pid)
            WHERE p.idempotency_key = v.key AND p.status = 'requested'
           RETURNING p.merchant_id, p.period`,
          [paidAt, ...bindings],
        );
        const rows = (changed as { rows: Array<{ merchant_id: string; period: string }> }).rows;
        if (rows.length > 0) {
          await trx('statements')
            .where({ period: rows[0]!.period })
            .whereIn('merchant_id', rows.map((r) => r.merchant_id))
            .update({ status: 'paid' });
        }
        return rows.length;
      });
    },
  };
}

export type PayoutRepository = ReturnType<typeof createPayoutRepository>;
