import type { Knex } from 'knex';
import { z } from 'zod';
import { createShopList, DEPOSIT_STATES, SHOP_LIST_ORDER, type ListedShop } from '../../db/repositories/shop-list';
import type { Principal } from '../auth';
import { merchantScope } from '../list-route';
import { pageThrough, pagingQuery } from '../pagination';
import { merchantIdSchema } from '../verifications/schemas';

export const shopListQuery = z
  .object({
    depositState: z
      .enum(DEPOSIT_STATES)
      .optional()
      .describe('shortfall: a top-up episode is open (the ladder runs); awaiting_deposit: the first deposit is not paid; closing, closed: the shop'),
    merchantId: merchantIdSchema.optional().describe("staff: one merchant's shops; a merchant lists its own only"),
    ...pagingQuery,
  })
  .strict();
export type ShopListQuery = z.output<typeof shopListQuery>;

export const shopListItem = z.object({
  shopId: z.string(),
  merchantId: z.string(),
  shopType: z.string(),
  shopStatus: z.string(),
  depositState: z.enum(DEPOSIT_STATES),
  requiredFen: z.number().int().nullable().describe('null until the requirement is assessed'),
  balanceFen: z.number().int(),
  promotionBalanceFen: z.number().int(),
  owedFen: z.number().int().describe('owed beyond the deposits; a deposit top-up pays it first'),
  shortfallFen: z.number().int().describe('what a top-up must bring in: up to the requirement, plus what is owed'),
  shortfall: z
    .object({
      episodeId: z.string(),
      since: z.string(),
      ladderStep: z.string().nullable().describe('the last step of the restriction ladder taken, null before the first'),
      ladderStepAt: z.string().nullable(),
    })
    .nullable()
    .describe('the open top-up episode'),
  restrictions: z.array(z.string()).describe('in force, whoever holds them (deposit ladder, closure, violation case)'),
});

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

const itemOf = (s: ListedShop): z.infer<typeof shopListItem> => ({
  shopId: s.id,
  merchantId: s.merchant_id,
  shopType: s.shop_type,
  shopStatus: s.status,
  depositState: s.deposit_state,
  requiredFen: s.required_fen === null ? null : Number(s.required_fen),
  balanceFen: Number(s.balance_fen),
  promotionBalanceFen: Number(s.promotion_balance_fen),
  owedFen: Number(s.owed_fen),
  shortfallFen: Number(s.shortfall_fen),
  shortfall: s.episode_id
    ? { episodeId: s.episode_id, since: new Date(s.episode_started_at!).toISOString(), ladderStep: s.ladder_step, ladderStepAt: iso(s.ladder_step_at) }
    : null,
  restrictions: s.restrictions,
});

/** Shops with where their deposit stands (db/repositories/shop-list.ts). */
export function createShopListing(db: Knex) {
  const shops = createShopList(db);
  return async ({ limit, cursor, ...requested }: ShopListQuery, principal: Principal) => {
    const filters = { ...requested, merchantId: merchantScope(principal, requested.merchantId) };
    return pageThrough({ list: 'shops', filters }, SHOP_LIST_ORDER, { cursor, limit }, (after, n) => shops.page(filters, after, n), itemOf);
  };
}
