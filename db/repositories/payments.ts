import type { Knex } from 'knex';
import type { PaymentAccount, RefundablePayment, RefundAllocation } from '../../domain/payments';

export type PaymentSource = 'platform' | 'offline_transfer' | 'sales_proceeds';

export interface CreditedPayment {
  paymentId: string;
  shopId: string;
  account: PaymentAccount;
  source: PaymentSource;
  payerAccount: string;
  amountFen: number;
  ledgerTransactionId: number;
}

export type OfflineTopUpStatus = 'pending_approval' | 'approved';

export interface OfflineTopUp {
  id: string;
  shopId: string;
  account: PaymentAccount;
  amountFen: number;
  payerAccount: string;
  transferReference: string;
  status: OfflineTopUpStatus;
  recordedBy: string;
  recordedAt: Date;
  approvedBy: string | null;
  approvedAt: Date | null;
}

/** The offline transfer is already recorded under this shop and transfer reference. */
export class OfflineTopUpExistsError extends Error {
  constructor(readonly existingId: string) {
    super(`transfer already recorded as offline top-up ${existingId}`);
    this.name = 'OfflineTopUpExistsError';
  }
}

interface OfflineRow {
  id: string;
  shop_id: string;
  account: PaymentAccount;
  amount_fen: number;
  payer_account: string;
  transfer_reference: string;
  status: OfflineTopUpStatus;
  recorded_by: string;
  recorded_at: Date;
  approved_by: string | null;
  approved_at: Date | null;
}

const offlineOf = (r: OfflineRow): OfflineTopUp => ({
  id: r.id,
  shopId: r.shop_id,
  account: r.account,
  amountFen: r.amount_fen,
  payerAccount: r.payer_account,
  transferReference: r.transfer_reference,
  status: r.status,
  recordedBy: r.recorded_by,
  recordedAt: r.recorded_at,
  approvedBy: r.approved_by,
  approvedAt: r.approved_at,
});

/** Payments credited to deposits, how refunds were split over them, and offline transfers. */
export function createPaymentRepository(db: Knex) {
  return {
    /** Once per payment id: a second credit of the same payment records nothing. */
    async recordCredit(p: CreditedPayment, trx: Knex = db): Promise<void> {
      await trx('deposit_payments')
        .insert({
          payment_id: p.paymentId,
          shop_id: p.shopId,
          account: p.account,
          source: p.source,
          payer_account: p.payerAccount,
          amount_fen: p.amountFen,
          ledger_transaction_id: p.ledgerTransactionId,
        })
        .onConflict('payment_id')
        .ignore();
    },

    async find(paymentId: string): Promise<(CreditedPayment & { refundedFen: number }) | undefined> {
      const r = await db('deposit_payments').where({ payment_id: paymentId }).first();
      if (!r) return undefined;
      return {
        paymentId: r.payment_id,
        shopId: r.shop_id,
        account: r.account,
        source: r.source,
        payerAccount: r.payer_account,
        amountFen: r.amount_fen,
        ledgerTransactionId: r.ledger_transaction_id,
        refundedFen: r.refunded_fen,
      };
    },

    /**
     * The shop's payments into one account that still hold refundable money, oldest first.
     * Inside a transaction they are locked, so two payouts of the shop never split the same fen.
     */
    async refundable(shopId: string, account: PaymentAccount, trx: Knex = db): Promise<RefundablePayment[]> {
      const q = trx('deposit_payments')
        .where({ shop_id: shopId, account })
        .whereRaw('refunded_fen < amount_fen')
        .orderBy([{ column: 'credited_at' }, { column: 'payment_id' }])
        .select('payment_id', 'payer_account', 'amount_fen', 'refunded_fen');
      const rows = (await (trx.isTransaction ? q.forUpdate() : q)) as Array<{ payment_id: string; payer_account: string; amount_fen: number; refunded_fen: number }>;
      return rows.map((r) => ({ paymentId: r.payment_id, payerAccount: r.payer_account, amountFen: r.amount_fen, refundedFen: r.refunded_fen }));
    },

    /** How the payout under this key was split, in the order it was recorded. */
    async refundsUnder(refundKey: string, trx: Knex = db): Promise<RefundAllocation[]> {
      const rows = (await trx('deposit_payment_refunds as r')
        .join('deposit_payments as p', 'p.payment_id', 'r.payment_id')
        .where('r.refund_key', refundKey)
        .orderBy('r.id')
        .select('r.payment_id', 'p.payer_account', 'r.amount_fen')) as Array<{ payment_id: string; payer_account: string; amount_fen: number }>;
      return rows.map((r) => ({ paymentId: r.payment_id, payerAccount: r.payer_account, amountFen: r.amount_fen }));
    },

    /** Records the split and raises each payment's refunded amount (the CHECK refuses too much). */
    async recordRefund(refundKey: string, allocations: readonly RefundAllocation[], trx: Knex): Promise<void> {
      for (const a of allocations) {
        await trx('deposit_payment_refunds').insert({ refund_key: refundKey, payment_id: a.paymentId, amount_fen: a.amountFen });
        await trx('deposit_payments').where({ payment_id: a.paymentId }).increment('refunded_fen', a.amountFen);
      }
    },

    async recordOffline(t: Omit<OfflineTopUp, 'status' | 'approvedBy' | 'approvedAt'>): Promise<OfflineTopUp> {
      const inserted = (await db('offline_top_ups')
        .insert({
          id: t.id,
          shop_id: t.shopId,
          account: t.account,
          amount_fen: t.amountFen,
          payer_account: t.payerAccount,
          transfer_reference: t.transferReference,
          recorded_by: t.recordedBy,
          recorded_at: t.recordedAt,
        })
        .onConflict(['shop_id', 'transfer_reference'])
        .ignore()
        .returning('*')) as OfflineRow[];
      if (inserted.length === 0) {
        const existing = await db('offline_top_ups').where({ shop_id: t.shopId, transfer_reference: t.transferReference }).first<OfflineRow>();
        throw new OfflineTopUpExistsError(existing?.id ?? 'unknown');
      }
      return offlineOf(inserted[0]!);
    },

    async findOffline(id: string): Promise<OfflineTopUp | undefined> {
      const r = await db('offline_top_ups').where({ id }).first<OfflineRow | undefined>();
      return r ? offlineOf(r) : undefined;
    },

    async offlineOf(shopId: string): Promise<OfflineTopUp[]> {
      const rows = (await db('offline_top_ups').where({ shop_id: shopId }).orderBy('recorded_at', 'desc')) as OfflineRow[];
      return rows.map(offlineOf);
    },

    /** Approves a pending transfer by someone other than who recorded it; undefined when it was not pending. */
    async approveOffline(id: string, approvedBy: string, at: Date): Promise<OfflineTopUp | undefined> {
      const rows = (await db('offline_top_ups')
        .where({ id, status: 'pending_approval' })
        .whereNot({ recorded_by: approvedBy })
        .update({ status: 'approved', approved_by: approvedBy, approved_at: at })
        .returning('*')) as OfflineRow[];
      return rows[0] ? offlineOf(rows[0]) : undefined;
    },
  };
}

export type PaymentRepository = ReturnType<typeof createPaymentRepository>;
