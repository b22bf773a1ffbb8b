import { z } from 'zod';
import {
  CAMPAIGN_KINDS,
  CAMPAIGN_STATES,
  DEFAULT_RATE_PER_MINUTE,
  ITEM_STATES,
  MAX_CAMPAIGN_ITEMS,
  MAX_PRODUCTS_PER_ITEM,
  MAX_RATE_PER_MINUTE,
  MIN_RATE_PER_MINUTE,
} from '../../domain/campaigns';
import { pageOf, pagingQuery } from '../pagination';

// Platform ids as the platform spells them: printable, no spaces, short.
const platformId = (what: string) => z.string().regex(/^[\x21-\x7e]{1,100}$/, `${what}: 1–100 printable characters, no spaces`);
const shopId = platformId('a shop id').meta({ example: 's-1001' });

const common = {
  reason: z.string().trim().min(1).max(500).describe('why: sent to the platform with each call and kept in the audit log').meta({ example: 'forged brand authorisation, governance campaign 2026-12' }),
  ratePerMinute: z
    .number()
    .int()
    .min(MIN_RATE_PER_MINUTE)
    .max(MAX_RATE_PER_MINUTE)
    .default(DEFAULT_RATE_PER_MINUTE)
    .describe(`platform calls per minute at most, in any minute (${MIN_RATE_PER_MINUTE}–${MAX_RATE_PER_MINUTE}; ${DEFAULT_RATE_PER_MINUTE} unless told)`),
};
const list = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(MAX_CAMPAIGN_ITEMS).describe(`1 to ${MAX_CAMPAIGN_ITEMS.toLocaleString('en')} targets, each at most once; one platform call each`);

export const createCampaignBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('close_shops'), ...common, items: list(z.object({ shopId }).strict()) }).strict(),
  z
    .object({
      kind: z.literal('delist_products'),
      ...common,
      items: list(z.object({ shopId, productIds: z.array(platformId('a product id')).min(1).max(MAX_PRODUCTS_PER_ITEM).meta({ example: ['p-1', 'p-2'] }) }).strict()),
    })
    .strict(),
  z
    .object({
      kind: z.literal('warn_streamers'),
      ...common,
      items: list(z.object({ streamerId: platformId('a streamer id').meta({ example: 'ks-streamer-88' }), merchantId: platformId('a merchant id').describe('whose goods the warning is about').meta({ example: 'm-1001' }) }).strict()),
    })
    .strict(),
]);
export type CreateCampaignBody = z.output<typeof createCampaignBody>;

export const campaignCommandBody = z.object({ reason: z.string().trim().min(1).max(500).optional().describe('kept with the campaign and in the audit log') }).strict();
export type CampaignCommandBody = z.output<typeof campaignCommandBody>;

export const campaignIdParams = z.object({ campaignId: z.string().regex(/^cmp_[0-9a-f]{24}$/, 'not a campaign id').meta({ example: 'cmp_0123456789abcdef01234567' }) }).strict();

const counts = { total: z.number().int(), done: z.number().int(), refused: z.number().int(), failed: z.number().int() };

export const campaignView = z.object({
  campaignId: z.string(),
  kind: z.enum(CAMPAIGN_KINDS),
  reason: z.string(),
  state: z.enum(CAMPAIGN_STATES),
  ratePerMinute: z.number().int(),
  createdBy: z.string(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  workflowId: z.string(),
  progress: z.object({ ...counts, pending: z.number().int().describe('not settled yet (a cancelled campaign leaves them not tried)') }),
  stateChangedBy: z.string().nullable().describe('who paused or resumed it last; system when the platform refused our access'),
  stateReason: z.string().nullable(),
  summary: z.object({ kind: z.enum(CAMPAIGN_KINDS), ...counts, notTried: z.number().int(), outcome: z.enum(['completed', 'cancelled']) }).nullable().describe('set once the campaign has ended'),
});

export const campaignItemView = z.object({
  position: z.number().int().describe('the place in the list, from 1'),
  shopId: z.string().optional(),
  productIds: z.array(z.string()).optional(),
  streamerId: z.string().optional(),
  merchantId: z.string().optional(),
  state: z.enum(ITEM_STATES),
  result: z.record(z.string(), z.unknown()).nullable().describe('what the platform answered: restrictions in force, products delisted, the notification id'),
  reason: z.string().nullable().describe('why refused (the platform\'s words) or failed'),
  attempts: z.number().int().describe('calls the platform answered for it; a 429 (the platform asking us to slow down) is not counted'),
  finishedAt: z.string().nullable(),
});
export const pageOfItems = pageOf(campaignItemView);

export const itemListQuery = z.object({ state: z.enum(ITEM_STATES).optional(), ...pagingQuery }).strict();
export type ItemListQuery = z.output<typeof itemListQuery>;

export const campaignListQuery = z.object({ ...pagingQuery }).strict();
export type CampaignListQuery = z.output<typeof campaignListQuery>;
