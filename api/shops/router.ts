import { Router } from 'express';
import { z } from 'zod';
import { requireRole, type Principal, type Role } from '../auth';
import { describeRoute, errorResponses, json, updateResponses } from '../openapi';
import { listRoute } from '../list-route';
import { readRoute } from '../read-route';
import { parse } from '../validate';
import type { ShopService } from './service';
import { shopListItem, shopListQuery } from './list';
import {
  closureResponse,
  deductionBody,
  depositResponse,
  emptyBody,
  movementResponse,
  promotionClosureResponse,
  promotionClosureStarted,
  promotionResponse,
  shopIdParams,
  topUpBody,
  topUpResponse,
} from './schemas';
import type { RouteFactory, RouterDeps } from '../routes';
import { createShopService } from './service';
import { createOfflineTopUpRouter } from '../payments/router';
import { idempotencyHeaders } from '../idempotency';

export type ShopRouterDeps = RouterDeps<ShopService>;

const closureStarted = z.object({ closureId: z.string(), workflowId: z.string(), status: z.literal('requested') });
const closureState = z.object({ closureId: z.string(), shopId: z.string(), status: z.string() }).passthrough();

/** Deposits, promotion deposits and shop closure (docs/rules.md §2). */
export function createShopRouter({ service, registry, limitMutations, idempotent }: ShopRouterDeps): Router {
  const router = Router();
  const { 409: clash } = errorResponses;

  // Every refusal on a shop is audited under that shop. Only a well-formed id is copied:
  // anything else (a NUL byte, say) could make the audit insert itself fail.
  router.param('shopId', (_req, res, next, shopId: string) => {
    if (shopIdParams.safeParse({ shopId }).success) res.locals.audit = { ...(res.locals.audit ?? {}), target: `shop:${shopId}` };
    next();
  });

  const post = (
    path: string,
    summary: string,
    roles: Parameters<typeof requireRole>,
    body: z.ZodType,
    response: z.ZodType,
    status: number,
    action: string,
    handle: (shopId: string, body: never, principal: Principal) => Promise<unknown>,
  ) => {
    describeRoute(registry, {
      method: 'post',
      path: `/v1/shops/{shopId}${path}`,
      summary,
      request: { params: shopIdParams, headers: idempotencyHeaders, body: { required: false, ...json(body) } },
      // A 200 here is the end of an update on the shop's process, which may outlast the wait.
      responses: { [status]: { description: 'done', ...json(response) }, 409: clash, ...(status === 200 ? updateResponses : {}) },
    });
    router.post(`/shops/:shopId${path}`, requireRole(...roles), limitMutations, idempotent, async (req, res) => {
      const { shopId } = parse(shopIdParams, req.params, 'shop id');
      const parsed = parse(body, req.body ?? {}, 'request body');
      res.locals.audit = { action, target: `shop:${shopId}` };
      res.status(status).json(await handle(shopId, parsed as never, req.principal!));
    });
  };

  const get = (path: string, summary: string, roles: Role[], response: z.ZodType, handle: (shopId: string, principal: Principal) => Promise<unknown>) =>
    readRoute(router, registry, {
      path: `/v1/shops/{shopId}${path}`,
      summary,
      roles,
      params: { schema: shopIdParams, name: 'shop id' },
      response: { description: 'ok', schema: response },
      read: ({ shopId }, principal) => handle(shopId, principal),
    });

  listRoute(router, registry, {
    path: '/v1/shops',
    summary:
      'Shops by id, with where each deposit stands (requirement, balance, owed, shortfall, the open episode and its last ladder step, restrictions); filters depositState, merchantId (merchant for itself, ops, finance, admin)',
    roles: ['merchant', 'ops', 'finance', 'admin'],
    query: shopListQuery,
    item: shopListItem,
    list: (query, principal) => service.list(query, principal),
  });

  get('/deposit', 'Balance, requirement and its parts, restrictions in force, open shortfall episode, recent ledger lines (merchant for itself, ops, finance, admin)',
    ['merchant', 'ops', 'finance', 'admin'], depositResponse, (shopId, p) => service.deposit(shopId, p));
  post('/deposit/top-ups', "Credit a payment the platform confirmed to the account it was paid to, for the confirmed amount, once per paymentId (merchant for itself, finance, ops, admin). 404 unknown payment; 409 payment_pending (retry once confirmed), payment_failed, payment_mismatch (another shop, account or amount)",
    ['merchant', 'finance', 'ops', 'admin'], topUpBody, topUpResponse, 200, 'deposit.top_up', (shopId, body, p) => service.topUp(shopId, body, p));
  post('/deposit/deductions', 'Deduct from a deposit with a reason; idempotent on reference (finance, ops, admin)',
    ['finance', 'ops', 'admin'], deductionBody, movementResponse, 200, 'deposit.deduct', (shopId, body, p) => service.deduct(shopId, body, p));
  post('/closure', 'Ask to close the shop: sales stop at once, the deposits are refunded when every order is done (merchant for itself, ops, admin)',
    ['merchant', 'ops', 'admin'], emptyBody, closureStarted, 202, 'shop.closure.request', (shopId, _b, p) => service.requestClosure(shopId, p));
  post('/closure/cancel', 'Cancel a closure before its refund; the shop reopens (merchant for itself, ops, admin). A closure a ban started is a 409: only an upheld appeal cancels it',
    ['merchant', 'ops', 'admin'], emptyBody, closureState, 200, 'shop.closure.cancel', (shopId, _b, p) => service.cancelClosure(shopId, p));
  get('/closure', 'The latest closure of the shop and where it stands (merchant for itself, ops, finance, admin)',
    ['merchant', 'ops', 'finance', 'admin'], closureResponse, (shopId, p) => service.closure(shopId, p));
  post('/promotion/closure', 'Close third-party promotion (202): the function goes off on the platform at once; the promotion deposit, less what is owed, is refunded once no order is open, every after-sales window has passed and no violation case is undecided. 409 when the shop is not open or promotion is already closing or closed',
    ['merchant', 'ops', 'admin'], emptyBody, promotionClosureStarted, 202, 'promotion.close', (shopId, _b, p) => service.closePromotion(shopId, p));
  get('/promotion/closure', 'Where the closing of third-party promotion stands: status, what holds the refund back, deducted, refunded, still owed (merchant for itself, ops, finance, admin)',
    ['merchant', 'ops', 'finance', 'admin'], promotionClosureResponse, (shopId, p) => service.promotionClosure(shopId, p));
  post('/promotion/excess-withdrawal', 'Withdraw promotion deposit above the minimum when both conditions hold, else 409 with the reasons',
    ['merchant', 'ops', 'admin'], emptyBody, promotionResponse, 200, 'promotion.withdraw_excess', (shopId, _b, p) => service.withdrawPromotionExcess(shopId, p));

  return router;
}

/** Deposits, top-ups, closures and promotion closures of a shop, as the process registry mounts them. */
export const shopRoutes: RouteFactory = ({ config, db, temporal, openapi, limitMutations, idempotent, payments }) =>
  Router()
    .use(
      createShopRouter({
        service: createShopService({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, updateWaitMs: config.API_UPDATE_WAIT_MS }),
        registry: openapi,
        limitMutations,
        idempotent,
      }),
    )
    .use(createOfflineTopUpRouter({ service: payments, registry: openapi, limitMutations, idempotent }));
