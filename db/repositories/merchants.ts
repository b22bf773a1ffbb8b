import type { Knex } from 'knex';
import type { EntityIdentity } from '../../domain/verification';
import { createIdentityKeyRepository } from './identity-keys';
import type { ShopRow } from './shops';

export interface MerchantRow {
  id: string;
  entity_type: string;
  legal_name: string;
  verification_status: string;
  verified_at: Date | null;
}

/** The shop id is derived from the merchant: one Kuaishou shop per merchant entity. */
export const shopIdFor = (merchantId: string): string => `shop-${merchantId}`;

/** The number the merchant is verified with; absent for cases filed before keys existed. */
type IdentityClaim = { key: string; kind: EntityIdentity['kind'] } | undefined;

export function createMerchantRepository(db: Knex) {
  const identityKeys = createIdentityKeyRepository(db);
  const claim = async (trx: Knex, merchantId: string, caseId: string, identity: IdentityClaim) => {
    if (identity) await identityKeys.claim({ ...identity, merchantId, caseId }, trx);
  };

  /** ensureMerchant's statement, not yet run: to run with others as one (db/one-statement.ts). */
  const ensureMerchantInsert = (m: { id: string; entityType: string; legalName: string }, trx: Knex = db): Knex.QueryBuilder =>
    trx('merchants').insert({ id: m.id, entity_type: m.entityType, legal_name: m.legalName }).onConflict('id').ignore();

  return {
    /** A merchant appears with its first submission; later submissions never rename it. */
    async ensureMerchant(m: { id: string; entityType: string; legalName: string }, trx: Knex = db): Promise<void> {
      await ensureMerchantInsert(m, trx);
    },

    ensureMerchantInsert,

    /**
     * Takes back a merchant row a first verification wrote whose process never started: only
     * while nothing else holds it (no case, no shop, never verified). Best effort: a row another
     * request is using meanwhile stays.
     */
    async forgetUnverifiedMerchant(id: string): Promise<void> {
      await db('merchants')
        .where({ id })
        .whereNot({ verification_status: 'verified' })
        .whereNotExists(db('verification_cases').where('merchant_id', id).select(db.raw('1')))
        .whereNotExists(db('shops').where('merchant_id', id).select(db.raw('1')))
        .delete()
        .catch(() => undefined);
    },

    async findMerchant(id: string): Promise<MerchantRow | undefined> {
      return db<MerchantRow>('merchants').where({ id }).first();
    },

    async findShopOf(merchantId: string): Promise<ShopRow | undefined> {
      return db<ShopRow>('shops').where({ merchant_id: merchantId }).first();
    },

    /**
     * Approval: the merchant becomes verified under the name it was verified with, holds
     * its identity number (IdentityTakenError if another merchant does), and its shop
     * record is created. Safe to run twice.
     */
    async markVerified(input: {
      merchantId: string;
      caseId: string;
      entityType: string;
      legalName: string;
      at: Date;
      identity?: IdentityClaim;
    }): Promise<ShopRow> {
      return db.transaction(async (trx) => {
        await claim(trx, input.merchantId, input.caseId, input.identity);
        await trx('merchants').where({ id: input.merchantId }).update({
          verification_status: 'verified',
          verified_at: trx.raw('COALESCE(verified_at, ?)', [input.at]),
          entity_type: input.entityType,
          legal_name: input.legalName,
          updated_at: trx.fn.now(),
        });
        await trx('shops')
          .insert({
            id: shopIdFor(input.merchantId),
            merchant_id: input.merchantId,
            shop_type: input.entityType,
            opened_by_case_id: input.caseId,
          })
          .onConflict('merchant_id')
          .ignore();
        return trx<ShopRow>('shops').where({ merchant_id: input.merchantId }).first() as Promise<ShopRow>;
      });
    },

    /**
     * An approved change of entity: the merchant's entity, its name, the number it holds and
     * its shop's type change together, or not at all. Safe to run twice.
     */
    async changeEntity(input: {
      merchantId: string;
      caseId: string;
      entityType: string;
      legalName: string;
      identity?: IdentityClaim;
    }): Promise<ShopRow> {
      return db.transaction(async (trx) => {
        const shop = await trx<ShopRow>('shops').where({ merchant_id: input.merchantId }).forUpdate().first();
        if (!shop) throw new Error(`merchant ${input.merchantId} has no shop`);
        await claim(trx, input.merchantId, input.caseId, input.identity);
        await trx('merchants').where({ id: input.merchantId }).update({
          entity_type: input.entityType,
          legal_name: input.legalName,
          updated_at: trx.fn.now(),
        });
        await trx('shops').where({ id: shop.id }).update({ shop_type: input.entityType, updated_at: trx.fn.now() });
        return { ...shop, shop_type: input.entityType };
      });
    },

    async setVerificationStatus(merchantId: string, status: string): Promise<void> {
      await db('merchants')
        .where({ id: merchantId })
        .whereNot({ verification_status: 'verified' })
        .update({ verification_status: status, updated_at: db.fn.now() });
    },
  };
}

export type MerchantRepository = ReturnType<typeof createMerchantRepository>;
