import { z } from 'zod';
import { CHECK_CLASSES, SPECIAL_CLASSES } from '../../domain/catalogue-checks';
import { PARTNER_PLATFORMS } from '../../platform/partners/types';
import { pagingQuery, queryBoolean } from '../pagination';

// Partner category and Kuaishou category ids: printable, no spaces, as the partners spell them.
const categoryId = z.string().regex(/^[\x21-\x7e]{1,100}$/, 'a category id: 1–100 printable characters, no spaces');
const attributeName = z.string().trim().min(1).max(100);

export const mappingBody = z
  .object({
    partnerPlatform: z.enum(PARTNER_PLATFORMS).meta({ example: 'taobao' }),
    partnerCategory: categoryId.describe("the partner's category id").meta({ example: '50010788' }),
    ksCategory: categoryId.nullable().describe('the Kuaishou category; null unmaps the partner category from this version on').meta({ example: 'ks-beauty-cream' }),
    requiredAttributes: z.array(attributeName).max(50).default([]).describe('attributes a product of the category must carry').meta({ example: ['品牌', '净含量'] }),
    specialClass: z.enum(SPECIAL_CLASSES).default('none').describe('beauty and food need a quality-inspection report, cosmetics a filing number').meta({ example: 'cosmetics' }),
    reason: z.string().trim().min(1).max(500).describe('why: kept in the audit log').meta({ example: 'new category on Taobao' }),
  })
  .strict();
export type MappingBody = z.output<typeof mappingBody>;

export const mappingView = z.object({
  partnerPlatform: z.enum(PARTNER_PLATFORMS),
  partnerCategory: z.string(),
  version: z.number().int().describe('1 for the first mapping of the category, one more for each change'),
  ksCategory: z.string().nullable(),
  requiredAttributes: z.array(z.string()),
  specialClass: z.enum(SPECIAL_CLASSES),
  changedBy: z.string(),
  changedAt: z.string(),
});

export const mappingListQuery = z
  .object({
    partnerPlatform: z.enum(PARTNER_PLATFORMS).optional(),
    history: queryBoolean.optional().describe('true: every version; by default the version in effect of each category'),
    ...pagingQuery,
  })
  .strict();
export type MappingListQuery = z.output<typeof mappingListQuery>;

const byClass = z.record(z.string(), z.number().int()).describe(`check failures by class (${CHECK_CLASSES.join(', ')})`).meta({ example: { category_unmapped: 42, attributes_missing: 28 } });

export const runListQuery = z.object({ ...pagingQuery }).strict();
export type RunListQuery = z.output<typeof runListQuery>;

export const runView = z.object({
  runId: z.string().meta({ example: 'catalogue-sync:base-2026-12-07T18:00:00Z' }),
  kind: z.enum(['base', 'inventory', 'promo']),
  startedBy: z.string().describe('schedule, or the ops user who started it'),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  storesDone: z.number().int(),
  storesSkipped: z.number().int(),
  storesFailed: z.number().int(),
  failedByClass: byClass,
});

export const runIdParams = z.object({ runId: z.string().regex(/^catalogue-sync:[\x21-\x7e]{1,180}$/, 'not a catalogue sync run id') }).strict();

export const storeResultView = z.object({
  bindingId: z.string(),
  status: z.enum(['synced', 'skipped', 'failed']),
  reason: z.string().nullable().describe('why skipped or failed: needs_reauth, authorisation_revoked, rejected, unavailable, access_token_missing'),
  fetched: z.number().int(),
  inserted: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  gone: z.number().int(),
  listed: z.number().int(),
  tagsDropped: z.number().int().describe('unofficial promotion tags left out (not a failure)'),
  failedByClass: byClass,
});

export const bindingIdParams = z.object({ bindingId: z.string().regex(/^bnd[_-][0-9a-z_-]{1,80}$/, 'not a binding id') }).strict();

export const productListQuery = z.object({ ...pagingQuery }).strict();
export type ProductListQuery = z.output<typeof productListQuery>;

export const productView = z.object({
  productId: z.string(),
  title: z.string(),
  priceFen: z.number().int(),
  channelPriceFen: z.number().int().describe('what the Kuaishou listing shows'),
  inventory: z.number().int(),
  ksCategory: z.string().nullable(),
  detailUrl: z.string().describe("the partner's detail page the listing links back to"),
  listingStatus: z.enum(['pending', 'listed', 'failed', 'held']),
  holdReason: z.string().nullable(),
  gone: z.boolean().describe('the partner no longer lists it'),
  failures: z
    .array(z.object({ class: z.enum(CHECK_CLASSES), reason: z.string(), fix: z.string() }))
    .describe('what the last sync that wrote the product found wrong, and how to fix it')
    .meta({ example: [{ class: 'main_image_too_small', reason: 'main image is 640×640', fix: 'replace the main image with one of at least 800×800' }] }),
});
