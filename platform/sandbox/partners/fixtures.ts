import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { PARTNER_PLATFORMS, type PartnerPlatform, type PartnerStoreInfo } from '../../partners/types';
import { partnerStoreKey, type SandboxState } from '../state';
import { invalidRequest } from '../validation';
import { JD_UNION_ID_PATTERN } from './jd-union';
import { PINDUODUO_PID_PATTERN } from './pinduoduo';
import { TAOBAO_PID_PATTERN } from './taobao-union';
import { revokeStore } from './youzan-grants';

/**
 * The partners' world as tests and dev set it: what the merchant did on the partner's side
 * (opened a store, authorised a PID, cancelled a Youzan grant). Not partner APIs: paths start
 * with `/_`, so they are left out of the call log and of injected failures.
 */
export function isPartnerControlPath(path: string): boolean {
  return path.startsWith('/_');
}

const entitySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('enterprise'), name: z.string().min(1), uscc: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('individual'), name: z.string().min(1), idNumber: z.string().min(1) }).strict(),
]);

const storeSchema = z
  .object({ storeName: z.string().min(1), entity: entitySchema, taobaokeOpen: z.boolean().optional(), selfOperated: z.boolean().optional() })
  .strict();

const unionAuthorisationSchema = z
  .object({
    platform: z.enum(['taobao', 'tmall']),
    storeId: z.string().min(1),
    pid: z.string().regex(TAOBAO_PID_PATTERN),
    account: z.enum(['main', 'sub']),
    positionType: z.enum(['content_scene', 'other']),
  })
  .strict();

const jdAuthorisationSchema = z.object({ storeId: z.string().min(1), unionId: z.string().regex(JD_UNION_ID_PATTERN) }).strict();
const pinduoduoAuthorisationSchema = z.object({ storeId: z.string().min(1), pid: z.string().regex(PINDUODUO_PID_PATTERN) }).strict();
const revocationSchema = z.object({ storeId: z.string().min(1) }).strict();
const lifetimeSchema = z.number().int().min(1).max(366 * 86_400);
const lifetimesSchema = z.object({ codeSeconds: lifetimeSchema, accessSeconds: lifetimeSchema, refreshSeconds: lifetimeSchema }).partial().strict();

export function partnerFixturesRouter(state: SandboxState): Router {
  const router = Router();
  const partners = state.partners;

  router.put('/_stores/:platform/:storeId', (req, res) => {
    const platform = req.params.platform as PartnerPlatform;
    if (!PARTNER_PLATFORMS.includes(platform)) {
      res.status(404).json({ error: 'not_found' });
      return;
    }
    withBody(req, res, storeSchema, (store) => {
      const info: PartnerStoreInfo = { platform, storeId: req.params.storeId, ...store };
      partners.stores.set(partnerStoreKey(platform, req.params.storeId), info);
      return info;
    });
  });

  // A later record for the same store and PID replaces the earlier one (re-authorised with another account).
  router.put('/_taobao-union/authorisations', (req, res) => {
    withBody(req, res, unionAuthorisationSchema, (record) => {
      const same = (a: typeof record) => a.platform === record.platform && a.storeId === record.storeId && a.pid === record.pid;
      partners.unionAuthorisations = [...partners.unionAuthorisations.filter((a) => !same(a)), record];
      return record;
    });
  });

  router.put('/_jd-union/authorisations', (req, res) => {
    withBody(req, res, jdAuthorisationSchema, ({ storeId, unionId }) => addOnce(partners.jdAuthorisations, storeId, unionId));
  });

  router.put('/_pinduoduo/authorisations', (req, res) => {
    withBody(req, res, pinduoduoAuthorisationSchema, ({ storeId, pid }) => addOnce(partners.pinduoduoAuthorisations, storeId, pid));
  });

  router.post('/_youzan/revocations', (req, res) => {
    withBody(req, res, revocationSchema, ({ storeId }) => ({ storeId, grantsRevoked: revokeStore(partners.youzan, storeId) }));
  });

  router.put('/_youzan/lifetimes', (req, res) => {
    withBody(req, res, lifetimesSchema, (lifetimes) => Object.assign(partners.youzan.lifetimes, lifetimes));
  });

  return router;
}

function withBody<S extends z.ZodType>(req: Request, res: Response, schema: S, apply: (body: z.output<S>) => unknown): void {
  const parsed = schema.safeParse(req.body ?? {});
  if (!parsed.success) {
    res.status(400).json(invalidRequest(parsed.error));
    return;
  }
  res.json(apply(parsed.data));
}

function addOnce(byStore: Map<string, string[]>, storeId: string, id: string): { storeId: string; authorised: string[] } {
  const ids = byStore.get(storeId) ?? [];
  if (!ids.includes(id)) byStore.set(storeId, [...ids, id]);
  return { storeId, authorised: byStore.get(storeId) ?? [] };
}
