import { z } from 'zod';
import { isIsoDate } from '../../domain/civil-date';
import { LINK_KINDS, LINK_PARTNERS } from '../../domain/link-windows';
import { attentionView } from '../attention';
import { pagingQuery } from '../pagination';
import { merchantIdSchema } from '../verifications/schemas';

const civilDate = z.string().refine(isIsoDate, 'a real date as YYYY-MM-DD (Asia/Shanghai)');
const phase = z.object({ name: z.enum(['preview', 'full']), from: civilDate }).strict();

const dates = {
  opensOn: civilDate.describe('the first day links may be live (Asia/Shanghai, inclusive)').meta({ example: '2022-10-28' }),
  closesOn: civilDate.nullable().describe('the last day (inclusive); null: open until a later version closes it').meta({ example: '2022-11-30' }),
  phases: z
    .array(phase)
    .max(2)
    .default([])
    .describe('preview (预告) and full phases, each from a day inside the window')
    .meta({ example: [{ name: 'preview', from: '2022-10-28' }, { name: 'full', from: '2022-10-29' }] }),
  source: z.string().trim().min(1).max(2000).describe('the announcement the dates come from, in its words').meta({ example: '电商头条 2022: 10月28日至11月30日，可上线京东自营商品链接' }),
};

export const windowIdParams = z.object({ windowId: z.string().regex(/^lw_[0-9a-f]{24}$/, 'not a link window id') }).strict();

export const createWindowBody = z
  .object({
    partner: z.enum(LINK_PARTNERS).meta({ example: 'jd' }),
    linkKind: z.enum(LINK_KINDS).describe('union_product (Taobao Union), short_video_live (Tmall), self_operated (JD)').meta({ example: 'self_operated' }),
    ...dates,
  })
  .strict();
export type CreateWindowBody = z.infer<typeof createWindowBody>;

export const changeWindowBody = z.object(dates).strict();
export type ChangeWindowBody = z.infer<typeof changeWindowBody>;

export const cancelWindowBody = z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict();

export const windowListQuery = z.object({ ...pagingQuery }).strict();
export type WindowListQuery = z.output<typeof windowListQuery>;

const progress = z.object({
  toPublish: z.number().int().describe('links still to go live (0 once the window has ended)'),
  live: z.number().int().describe('live under the window now, a refused take-down included'),
  published: z.number().int().describe('links this window put live, each once (later windows do not change it)'),
  takenDown: z.number().int(),
  failed: z.number().int(),
  publishFailed: z.number().int(),
  takeDownFailed: z.number().int(),
});

export const linkWindowView = z.object({
  windowId: z.string(),
  partner: z.enum(LINK_PARTNERS),
  linkKind: z.enum(LINK_KINDS),
  status: z.enum(['scheduled', 'open', 'closing', 'closed', 'cancelled']),
  version: z.number().int(),
  opensOn: z.string(),
  closesOn: z.string().nullable(),
  phases: z.array(phase),
  phaseNow: z.enum(['preview', 'full']).nullable(),
  source: z.string(),
  workflowId: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
});

export const linkWindowDetail = linkWindowView.extend({
  attention: attentionView,
  progress: progress.describe('done (live, takenDown) / failed / remaining (toPublish before and while open; live while closing)'),
  refusals: z.array(z.object({ linkId: z.string(), action: z.string(), refusal: z.string() })).describe('links the platform refused, with its reasons (the first 100)'),
  versions: z.array(
    z.object({
      version: z.number().int(),
      opensOn: z.string(),
      closesOn: z.string().nullable(),
      phases: z.array(phase),
      source: z.string(),
      changedBy: z.string(),
      changedAt: z.string(),
      state: z.enum(['pending', 'applied', 'refused']).describe('applied: the process runs on it (the latest applied is in force); pending: not yet taken; refused: the process answered no'),
    }),
  ),
});

export const listLinkBody = z
  .object({
    bindingId: z.string().min(1).max(100).describe('one of the merchant\'s bound stores').meta({ example: 'bnd-1' }),
    linkKind: z.enum(LINK_KINDS).meta({ example: 'self_operated' }),
    productId: z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and . _ : - only (1–100)').meta({ example: 'jd-100012043978' }),
    url: z
      .string()
      .max(2000)
      .regex(/^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[\x21-\x7e]*)?$/, 'an https URL, printable ASCII without spaces')
      // A port is at most 65535: a URL the browser could never open is refused at the edge.
      .refine((url) => Number(/^https:\/\/[^/:]+:(\d+)/.exec(url)?.[1] ?? 0) <= 65535, 'the port is at most 65535')
      .meta({ example: 'https://item.jd.com/100012043978.html' }),
  })
  .strict();
export type ListLinkBody = z.infer<typeof listLinkBody>;

export const partnerLinkView = z.object({
  linkId: z.string(),
  bindingId: z.string(),
  merchantId: z.string(),
  shopId: z.string(),
  platform: z.enum(LINK_PARTNERS),
  storeId: z.string(),
  linkKind: z.enum(LINK_KINDS),
  productId: z.string(),
  url: z.string(),
  status: z.enum(['listed', 'publishing', 'live', 'taking_down', 'down', 'refused']).describe('publishing / taking_down: in a platform call now'),
  listedAt: z.string(),
  windowId: z.string().nullable(),
  takenDownAt: z.string().nullable(),
  takenDownBy: z.string().nullable(),
  refusal: z.string().nullable(),
});

export const partnerLinkListQuery = z
  .object({ merchantId: merchantIdSchema.optional().describe('staff: one merchant\'s links; a merchant lists its own only'), ...pagingQuery })
  .strict();
export type PartnerLinkListQuery = z.output<typeof partnerLinkListQuery>;
