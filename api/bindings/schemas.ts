import { z } from 'zod';
import { PARTNER_PLATFORMS } from '../../platform/partners/types';
import { pagingQuery } from '../pagination';
import { merchantIdSchema } from '../verifications/schemas';

const STORE_ID = 'letters, digits and . _ - only (1–64)';
const storeId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, STORE_ID).describe(`the store's id on its platform: ${STORE_ID}`);
const platform = z.enum(PARTNER_PLATFORMS as unknown as ['taobao', 'tmall', 'youzan', 'jd', 'pinduoduo']);
const level = z.enum(['basic', 'advanced', 'custom']);
// Shapes are checked by the domain (domain/partner-binding.ts) to name the refusal; here only what can be stored.
const idText = z.string().min(1).max(100);

export const bindingIdParams = z.object({ bindingId: z.string().regex(/^bnd_[0-9a-f]{24}$/, 'not a binding id') }).strict();

export const startBindingBody = z
  .object({
    platform,
    storeId,
    pid: idText.optional().describe('Taobao / Tmall: mm_<member>_<site>_<adzone>; Pinduoduo: <member>_<position> (digits)'),
    unionId: idText.optional().describe('JD: the JD Union account number (digits)'),
    level: level.optional().describe('Youzan: basic (products, order status), advanced (behaviour and transactions) or custom (inventory, logistics); basic by default'),
    merchantId: merchantIdSchema.optional().describe("staff only: the merchant whose shop binds the store; a merchant binds for itself"),
  })
  .strict();
export type StartBindingBody = z.infer<typeof startBindingBody>;

export const unbindBody = z.object({ reason: z.string().trim().min(1).max(500).describe('why, in words') }).strict();
export const emptyBody = z.object({}).strict();

export const oauthCallbackQuery = z
  .object({ code: z.string().min(1).max(512), state: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not a state this API issued') })
  .strict();

export const bindingView = z.object({
  bindingId: z.string(),
  workflowId: z.string(),
  merchantId: z.string(),
  shopId: z.string(),
  platform,
  storeId: z.string(),
  status: z.enum(['authorising', 'bound', 'needs_reauth', 'unbound', 'refused']),
  refusal: z.string().nullable().describe('the last named refusal (domain/partner-binding.ts)'),
  pid: z.string().nullable(),
  unionId: z.string().nullable(),
  permissionLevel: level.nullable(),
  accessExpiresAt: z.string().nullable().describe('when the access token expires (never the token)'),
  refreshExpiresAt: z.string().nullable(),
  syncEnabled: z.boolean(),
  closedForGood: z.boolean(),
  createdAt: z.string(),
  boundAt: z.string().nullable(),
  unboundAt: z.string().nullable(),
});
export type BindingView = z.infer<typeof bindingView>;

export const bindingStarted = bindingView.extend({
  authorizeUrl: z.string().nullable().describe("Youzan: where to send the merchant to consent (valid 15 minutes, once); null for the unions"),
});

export const bindingListQuery = z
  .object({
    merchantId: merchantIdSchema.optional().describe("staff: one merchant's bindings; a merchant lists its own only"),
    status: bindingView.shape.status.optional().describe('e.g. needs_reauth'),
    platform: platform.optional(),
    ...pagingQuery,
  })
  .strict();
export type BindingListQuery = z.output<typeof bindingListQuery>;
