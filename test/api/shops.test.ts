import request from 'supertest';
import type { Role } from '../../api/auth';
import type { TokenClaims } from '../../security/tokens';
import { eventually } from '../support/fixtures';
import { depositState, expectLedgerWhole, openShop, platformShop } from '../support/shops';
import { paymentIdOf } from '../support/payments';
import { startStack, type Stack } from '../support/stack';
import { apiFor, expectAnsweredAsMissing, merchant, staff, type Api } from './http';

const REQUIRED = 50_000; // [default] individual shop: 500 CNY
const PROMOTION_MINIMUM = 50_000; // [src] promotion deposit: at least 500 CNY
const UNKNOWN_SHOP = 'shop-nobody';

interface Issue {
  path: string;
  message: string;
}

interface ShopRoute {
  method: 'GET' | 'POST';
  path: string;
  allowed: Role[];
  /** A body the route accepts, so a refusal can only come from who is asking. */
  body?: Record<string, unknown>;
}

/** The nine shop routes and who may call each (a merchant only on its own shop). */
const ROUTES: ShopRoute[] = [
  { method: 'GET', path: '/deposit', allowed: ['merchant', 'ops', 'finance', 'admin'] },
  { method: 'POST', path: '/deposit/top-ups', allowed: ['merchant', 'finance', 'ops', 'admin'], body: { paymentId: 'pay_roles-1' } },
  { method: 'POST', path: '/deposit/deductions', allowed: ['finance', 'ops', 'admin'], body: { amountFen: 1, reason: 'roles', reference: 'roles-1' } },
  { method: 'POST', path: '/closure', allowed: ['merchant', 'ops', 'admin'], body: {} },
  { method: 'POST', path: '/closure/cancel', allowed: ['merchant', 'ops', 'admin'], body: {} },
  { method: 'GET', path: '/closure', allowed: ['merchant', 'ops', 'finance', 'admin'] },
  { method: 'POST', path: '/promotion/closure', allowed: ['merchant', 'ops', 'admin'], body: {} },
  { method: 'POST', path: '/promotion/excess-withdrawal', allowed: ['merchant', 'ops', 'admin'], body: {} },
  { method: 'GET', path: '/promotion/closure', allowed: ['merchant', 'ops', 'finance', 'admin'] },
];

const STAFF: Array<Exclude<Role, 'merchant'>> = ['ops', 'reviewer', 'finance', 'admin'];

describe('shop routes: deposits, promotion deposit and closure over HTTP', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    // The limit has its own suite (rate-limit.test.ts); here one token sends many requests.
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const call = (route: Pick<ShopRoute, 'method' | 'path'>, shopId: string, who: TokenClaims, body: unknown = route.method === 'POST' ? {} : undefined) =>
    route.method === 'GET' ? api.get(`/v1/shops/${shopId}${route.path}`, who) : api.post(`/v1/shops/${shopId}${route.path}`, who, body);
  const deposit = (shopId: string, who: TokenClaims = staff.finance) => api.get(`/v1/shops/${shopId}/deposit`, who);
  const topUp = (shopId: string, who: TokenClaims, body: unknown) => api.post(`/v1/shops/${shopId}/deposit/top-ups`, who, body);
  const deduct = (shopId: string, who: TokenClaims, body: unknown) => api.post(`/v1/shops/${shopId}/deposit/deductions`, who, body);
  const requestClosure = (shopId: string, who: TokenClaims) => api.post(`/v1/shops/${shopId}/closure`, who, {});
  const cancelClosure = (shopId: string, who: TokenClaims) => api.post(`/v1/shops/${shopId}/closure/cancel`, who, {});
  const closure = (shopId: string, who: TokenClaims = staff.ops) => api.get(`/v1/shops/${shopId}/closure`, who);

  /** The merchant pays through the platform; answers the confirmed payment's id. */
  const paid = (shopId: string, amountFen: number, account: 'deposit' | 'promotion_deposit' = 'deposit') => paymentIdOf(stack, { shopId, account, amountFen });
  const ledgerLinesOf = async (shopId: string) => (await stack.db('ledger_transactions').where({ shop_id: shopId })).length;
  const claimsFor = (role: Role, ownerId: string): TokenClaims => (role === 'merchant' ? merchant(ownerId) : staff[role]);
  /** An order still open on the platform keeps a closure waiting, so it can be cancelled. */
  const keepClosureWaiting = (shopId: string) => {
    platformShop(stack, shopId).orders = [{ orderId: `o-${shopId}`, status: 'open', receiptConfirmedAt: null }];
  };

  describe('who may call what', () => {
    let shopId: string;
    const owner = 'm-shop-roles';
    beforeAll(async () => {
      ({ shopId } = await openShop(stack, owner));
    });

    test.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s: a wrong role is a 403, an unknown shop or another merchant\'s a 404, and nothing changes', async (_name, route) => {
      for (const role of STAFF.filter((r) => !route.allowed.includes(r))) {
        const res = await call(route, shopId, staff[role], route.body);
        expect({ role, status: res.status, code: res.body.code }).toEqual({ role, status: 403, code: 'forbidden' });
      }
      if (!route.allowed.includes('merchant')) {
        const res = await call(route, shopId, merchant(owner), route.body);
        expect({ status: res.status, message: res.body.detail }).toEqual({ status: 403, message: expect.stringContaining('role merchant') });
      }
      if (route.allowed.includes('merchant')) {
        // Another merchant's shop answers exactly like a missing one: shop ids cannot be enumerated.
        const intruder = await call(route, shopId, merchant('m-shop-intruder'), route.body);
        const missing = await call(route, UNKNOWN_SHOP, merchant('m-shop-intruder'), route.body);
        expect(intruder.body).toMatchObject({ code: 'not_found', detail: `shop ${shopId} does not exist`, instance: intruder.headers['x-request-id'] });
        expectAnsweredAsMissing(intruder, missing, { existing: shopId, unknown: UNKNOWN_SHOP });
      }

      for (const role of route.allowed) {
        const res = await call(route, UNKNOWN_SHOP, claimsFor(role, 'm-shop-nobody'), route.body);
        expect({ role, status: res.status, code: res.body.code }).toEqual({ role, status: 404, code: 'not_found' });
        expect(res.body.detail).toContain(UNKNOWN_SHOP);
      }
      const anonymous = route.method === 'GET' ? await request(stack.app).get(`/v1/shops/${shopId}${route.path}`) : await request(stack.app).post(`/v1/shops/${shopId}${route.path}`).send(route.body);
      expect(anonymous.status).toBe(401);

      expect(await ledgerLinesOf(shopId)).toBe(0);
      expect(await stack.db('shop_closures').where({ shop_id: shopId })).toHaveLength(0);
      expect(platformShop(stack, shopId).restrictions.size).toBe(0);
    });

    test('every allowed role is let through each route', async () => {
      const readers = (path: string) => ROUTES.find((r) => r.method === 'GET' && r.path === path)!.allowed;
      for (const role of readers('/deposit')) expect({ role, status: (await deposit(shopId, claimsFor(role, owner))).status }).toEqual({ role, status: 200 });

      let reference = 0;
      for (const role of ROUTES[1]!.allowed) {
        reference += 1;
        const res = await topUp(shopId, claimsFor(role, owner), { paymentId: await paid(shopId, 20_000) });
        expect({ role, status: res.status }).toEqual({ role, status: 200 });
      }
      for (const role of ROUTES[2]!.allowed) {
        reference += 1;
        const res = await deduct(shopId, claimsFor(role, owner), { amountFen: 1_000, reason: 'late shipment', reference: `fine-${reference}` });
        expect({ role, status: res.status }).toEqual({ role, status: 200 });
      }
      expect((await deposit(shopId)).body.balanceFen).toBe(4 * 20_000 - 3 * 1_000);

      // Each role in turn asks for a closure, and the next one cancels it; each request comes
      // right after the last cancellation, while that closure's process is still ending.
      keepClosureWaiting(shopId);
      const turns: Array<[Role, Role]> = [
        ['merchant', 'ops'],
        ['ops', 'admin'],
        ['admin', 'merchant'],
      ];
      for (const [asker, canceller] of turns) {
        const asked = await requestClosure(shopId, claimsFor(asker, owner));
        expect({ asker, status: asked.status }).toEqual({ asker, status: 202 });
        const cancelled = await cancelClosure(shopId, claimsFor(canceller, owner));
        expect({ canceller, status: cancelled.status, state: cancelled.body.status }).toEqual({ canceller, status: 200, state: 'cancelled' });
        expect((await closure(shopId)).body).toMatchObject({ closureId: asked.body.closureId, status: 'cancelled' });
      }
      for (const role of readers('/closure')) {
        const res = await closure(shopId, claimsFor(role, owner));
        expect({ role, status: res.status, state: res.body.status }).toEqual({ role, status: 200, state: 'cancelled' });
      }
      expect(await stack.db('shop_closures').where({ shop_id: shopId, status: 'cancelled' })).toHaveLength(3);

      // Never asked to close third-party promotion: missing for every reader, never a 403.
      for (const role of readers('/promotion/closure')) {
        const res = await api.get(`/v1/shops/${shopId}/promotion/closure`, claimsFor(role, owner));
        expect({ role, status: res.status }).toEqual({ role, status: 404 });
      }

      // No excess above the minimum: a reasoned refusal, never a 403.
      for (const role of ROUTES[7]!.allowed) {
        const res = await call(ROUTES[7]!, shopId, claimsFor(role, owner));
        expect({ role, status: res.status, reasons: res.body.reasons }).toEqual({ role, status: 409, reasons: [expect.any(String)] });
      }
      await expectLedgerWhole(stack, shopId);
    });
  });

  describe('bad input is a 400 with field-level issues, and nothing moves', () => {
    let shopId: string;
    beforeAll(async () => {
      ({ shopId } = await openShop(stack, 'm-shop-bad-input'));
    });
    afterAll(async () => {
      expect(await ledgerLinesOf(shopId)).toBe(0);
      expect(await stack.db('shop_closures').where({ shop_id: shopId })).toHaveLength(0);
    });

    const topUpOf = (amountFen: unknown) => ({ amountFen, paymentId: 'pay_bad' });
    const deductionOf = (amountFen: unknown) => ({ amountFen, reason: 'fine', reference: 'fine-bad' });
    const cases: Array<[string, string, unknown, Issue]> = [
      ['a negative top-up', '/deposit/top-ups', topUpOf(-100), { path: 'amountFen', message: expect.any(String) }],
      ['a zero top-up', '/deposit/top-ups', topUpOf(0), { path: 'amountFen', message: expect.any(String) }],
      ['a fractional top-up (half a fen)', '/deposit/top-ups', topUpOf(0.5), { path: 'amountFen', message: expect.stringContaining('int') }],
      ['a top-up in yuan with cents (a float)', '/deposit/top-ups', topUpOf(500.25), { path: 'amountFen', message: expect.stringContaining('int') }],
      ['a top-up past the safe integers', '/deposit/top-ups', topUpOf(2 ** 53), { path: 'amountFen', message: expect.any(String) }],
      // Two of those would take the balance past 2^53 fen, which no read of it survives.
      ['a top-up of the largest safe integer', '/deposit/top-ups', topUpOf(Number.MAX_SAFE_INTEGER), { path: 'amountFen', message: expect.stringContaining('100,000,000 CNY') }],
      ['a top-up one fen over 100 million CNY', '/deposit/top-ups', topUpOf(10_000_000_001), { path: 'amountFen', message: expect.stringContaining('100,000,000 CNY') }],
      ['a deduction one fen over 100 million CNY', '/deposit/deductions', deductionOf(10_000_000_001), { path: 'amountFen', message: expect.stringContaining('100,000,000 CNY') }],
      ['a top-up amount as text', '/deposit/top-ups', topUpOf('50000'), { path: 'amountFen', message: expect.stringContaining('expected number') }],
      ['a top-up without a paymentId', '/deposit/top-ups', { amountFen: 100 }, { path: 'paymentId', message: expect.any(String) }],
      ['a paymentId with spaces', '/deposit/top-ups', { amountFen: 100, paymentId: 'pay 1' }, { path: 'paymentId', message: expect.stringContaining('letters, digits') }],
      ['a made-up paymentReference instead of a payment', '/deposit/top-ups', { amountFen: 100, paymentReference: 'anything' }, { path: 'paymentId', message: expect.any(String) }],
      ['an unknown account', '/deposit/top-ups', { ...topUpOf(100), account: 'savings' }, { path: 'account', message: expect.any(String) }],
      ['an unknown field on a top-up', '/deposit/top-ups', { ...topUpOf(100), note: 'x' }, { path: '(root)', message: expect.stringContaining('note') }],
      ['a negative deduction', '/deposit/deductions', deductionOf(-1), { path: 'amountFen', message: expect.any(String) }],
      ['a fractional deduction', '/deposit/deductions', deductionOf(99.9), { path: 'amountFen', message: expect.stringContaining('int') }],
      ['a deduction without a reason', '/deposit/deductions', { amountFen: 100, reference: 'r' }, { path: 'reason', message: expect.any(String) }],
      ['a deduction with a blank reason', '/deposit/deductions', { amountFen: 100, reason: '   ', reference: 'r' }, { path: 'reason', message: expect.any(String) }],
      ['a deduction without a reference', '/deposit/deductions', { amountFen: 100, reason: 'fine' }, { path: 'reference', message: expect.any(String) }],
      ['an unknown field on a closure', '/closure', { force: true }, { path: '(root)', message: expect.stringContaining('force') }],
      ['an unknown field on a cancellation', '/closure/cancel', { reason: 'changed my mind' }, { path: '(root)', message: expect.stringContaining('reason') }],
      ['an amount on a promotion closure', '/promotion/closure', { amountFen: 100 }, { path: '(root)', message: expect.stringContaining('amountFen') }],
      ['an amount on an excess withdrawal', '/promotion/excess-withdrawal', { amountFen: 100 }, { path: '(root)', message: expect.stringContaining('amountFen') }],
      ['a list instead of an object', '/closure', [], { path: '(root)', message: expect.stringContaining('expected object') }],
    ];

    test.each(cases)('%s', async (_what, path, body, issue) => {
      const res = await api.post(`/v1/shops/${shopId}${path}`, staff.admin, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_request', detail: 'request body is invalid', instance: res.headers['x-request-id'] });
      expect(res.body.issues).toEqual(expect.arrayContaining([issue]));
      for (const i of res.body.issues as Issue[]) expect(i).toEqual({ path: expect.any(String), message: expect.any(String) });
    });

    test.each([
      ['a dot', 'shop.x'],
      ['a space', 'shop%20x'],
      ['Chinese characters', encodeURIComponent('店铺')],
      ['81 characters', 's'.repeat(81)],
      ['a NUL byte', '%00'],
    ])('a shop id with %s is a 400 on every route, before anything is looked up', async (_what, badId) => {
      for (const route of ROUTES) {
        const res = await call(route, badId, staff.admin, route.body);
        expect({ route: route.path, status: res.status, issues: res.body.issues }).toEqual({
          route: route.path,
          status: 400,
          issues: [{ path: 'shopId', message: 'not a shop id' }],
        });
      }
    });

    test('a top-up needs only the payment id; a body-less closure request is an empty one', async () => {
      // Checked on the unknown shop so that nothing moves: the body passed, the lookup refused.
      expect((await topUp(UNKNOWN_SHOP, staff.finance, { paymentId: 'pay_p' })).status).toBe(404);
      const bare = await request(stack.app).post(`/v1/shops/${UNKNOWN_SHOP}/closure`).set('Authorization', `Bearer ${await stack.token(staff.ops)}`);
      expect(bare.status).toBe(404);
    });
  });

  describe('top-ups and deductions', () => {
    test('a movement of exactly 100 million CNY is accepted, and deducted back', async () => {
      const owner = 'm-shop-largest';
      const { shopId } = await openShop(stack, owner);
      const paymentId = await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 10_000_000_000 });
      const top = await topUp(shopId, staff.finance, { paymentId });
      expect(top.status).toBe(200);
      expect(top.body.balanceFen).toBe(10_000_000_000);
      const back = await deduct(shopId, staff.finance, { amountFen: 10_000_000_000, reason: 'recorded in error', reference: 'undo-largest' });
      expect(back.status).toBe(200);
      expect(back.body.balanceFen).toBe(0);
    });

    test('a top-up of a confirmed payment repeated answers the same transaction, replayed, and counts once', async () => {
      const owner = 'm-shop-topup';
      const { shopId } = await openShop(stack, owner);
      const paymentId = await paid(shopId, 30_000);
      const first = await topUp(shopId, merchant(owner), { paymentId });
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ transactionId: expect.any(Number), replayed: false, balanceFen: 30_000, promotionBalanceFen: 0, owedFen: 0, requiredFen: REQUIRED, paymentId, account: 'deposit', creditedFen: 30_000 });

      const again = await topUp(shopId, merchant(owner), { paymentId, amountFen: 30_000 });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ ...first.body, replayed: true });
      // The same payment from another caller (finance recording it) is the same payment.
      const byFinance = await topUp(shopId, staff.finance, { account: 'deposit', amountFen: 30_000, paymentId });
      expect(byFinance.body).toMatchObject({ transactionId: first.body.transactionId, replayed: true, balanceFen: 30_000 });

      // A payment cannot be claimed for a different amount or account than it was made for.
      const otherAmount = await topUp(shopId, merchant(owner), { amountFen: 31_000, paymentId });
      expect(otherAmount.status).toBe(409);
      expect(otherAmount.body).toMatchObject({ code: 'payment_mismatch', detail: `payment ${paymentId} is of 30000 fen, not 31000` });
      const otherAccount = await topUp(shopId, merchant(owner), { account: 'promotion_deposit', amountFen: 30_000, paymentId });
      expect(otherAccount.status).toBe(409);

      const view = await deposit(shopId, merchant(owner));
      expect(view.body).toMatchObject({ balanceFen: 30_000, promotionBalanceFen: 0, shortfallFen: REQUIRED - 30_000 });
      expect(view.body.recentLines).toEqual([expect.objectContaining({ transactionId: first.body.transactionId, kind: 'top_up', actor: `merchant:u-${owner}` })]);
      expect(await ledgerLinesOf(shopId)).toBe(1);

      // Another payment is another credit, on the account it was paid to.
      const promotion = await topUp(shopId, merchant(owner), { paymentId: await paid(shopId, 60_000, 'promotion_deposit') });
      expect(promotion.body).toMatchObject({ replayed: false, balanceFen: 30_000, promotionBalanceFen: 60_000 });
      expect(promotion.body.transactionId).not.toBe(first.body.transactionId);
      await expectLedgerWhole(stack, shopId);
    });

    test('a deduction above the balance is a 409 that changes nothing; a repeated reference deducts once', async () => {
      const owner = 'm-shop-deduct';
      const { shopId } = await openShop(stack, owner);
      await topUp(shopId, merchant(owner), { paymentId: await paid(shopId, REQUIRED) });
      await topUp(shopId, merchant(owner), { paymentId: await paid(shopId, 10_000, 'promotion_deposit') });

      const tooMuch = await deduct(shopId, staff.finance, { amountFen: REQUIRED + 1, reason: 'counterfeit goods', reference: 'case-1' });
      expect(tooMuch.status).toBe(409);
      expect(tooMuch.body).toMatchObject({
        code: 'conflict',
        detail: `ledger: ${shopId} deposit holds ${REQUIRED} fen, cannot take ${REQUIRED + 1} fen`,
        instance: tooMuch.headers['x-request-id'],
      });
      // The promotion deposit is its own account: it does not cover the deposit.
      const fromPromotion = await deduct(shopId, staff.finance, { account: 'promotion_deposit', amountFen: 10_001, reason: 'x', reference: 'case-2' });
      expect(fromPromotion.status).toBe(409);
      expect((await deposit(shopId)).body).toMatchObject({ balanceFen: REQUIRED, promotionBalanceFen: 10_000 });
      expect(await ledgerLinesOf(shopId)).toBe(2);

      // A refused reference is not used up: the same reference with a right amount goes through, once.
      const fine = await deduct(shopId, staff.ops, { amountFen: 5_000, reason: 'late shipment', reference: 'case-1' });
      expect(fine.status).toBe(200);
      expect(fine.body).toMatchObject({ replayed: false, balanceFen: REQUIRED - 5_000, requiredFen: REQUIRED });
      const again = await deduct(shopId, staff.ops, { amountFen: 5_000, reason: 'late shipment', reference: 'case-1' });
      expect(again.body).toEqual({ ...fine.body, replayed: true });
      const all = await deduct(shopId, staff.admin, { amountFen: REQUIRED - 5_000, reason: 'the rest', reference: 'case-3' });
      expect(all.body).toMatchObject({ balanceFen: 0 });
      expect((await deduct(shopId, staff.admin, { amountFen: 1, reason: 'one more', reference: 'case-4' })).status).toBe(409);
      await expectLedgerWhole(stack, shopId);
    });

    test('GET deposit shows the balance, the requirement and its parts, the shortfall, restrictions and the recent ledger lines', async () => {
      const owner = 'm-shop-view';
      const { shopId } = await openShop(stack, owner);
      const fresh = await deposit(shopId, merchant(owner));
      expect(fresh.status).toBe(200);
      expect(fresh.body).toEqual({
        shopId,
        merchantId: owner,
        shopStatus: 'open',
        balanceFen: 0,
        promotionBalanceFen: 0,
        owedFen: 0,
        requirement: {
          requiredFen: REQUIRED,
          parts: { baseFen: 50_000, specialFen: 0, gmvTierFen: 0, totalFen: REQUIRED, specialCategoriesCounted: [] },
          assessedForMonth: expect.stringMatching(/^\d{4}-\d{2}$/),
          assessedAt: expect.any(String),
        },
        shortfallFen: REQUIRED,
        restrictions: [],
        openEpisode: null,
        recentLines: [],
      });

      await topUp(shopId, merchant(owner), { paymentId: await paid(shopId, REQUIRED) });
      await topUp(shopId, merchant(owner), { paymentId: await paid(shopId, PROMOTION_MINIMUM, 'promotion_deposit') });
      await depositState(stack, shopId, (s) => s.funded);
      await deduct(shopId, staff.finance, { amountFen: 20_000, reason: 'fake shipping number', reference: 'case-9' });
      // Below the requirement: the merchant is told and proceeds are taken at once.
      await depositState(stack, shopId, (s) => s.episode?.stepsDone.length === 2);

      const view = await deposit(shopId, staff.ops);
      expect(view.body).toMatchObject({ balanceFen: 30_000, promotionBalanceFen: PROMOTION_MINIMUM, shortfallFen: 20_000, restrictions: [] });
      expect(view.body.openEpisode).toEqual({
        id: expect.any(String),
        startedAt: expect.any(String),
        schedule: expect.arrayContaining([expect.objectContaining({ step: 'close_cart' })]),
        steps: [
          { step: 'notify', at: expect.any(String) },
          { step: 'transfer_proceeds', at: expect.any(String) },
        ],
      });
      expect(view.body.recentLines).toEqual([
        {
          transactionId: expect.any(Number),
          kind: 'deduction',
          reason: 'fake shipping number',
          actor: 'finance:fang',
          createdAt: expect.any(String),
          entries: expect.arrayContaining([{ account: 'deposit', amountFen: -20_000 }]),
        },
        expect.objectContaining({ kind: 'top_up', entries: expect.arrayContaining([{ account: 'promotion_deposit', amountFen: PROMOTION_MINIMUM }]) }),
        expect.objectContaining({ kind: 'top_up', entries: expect.arrayContaining([{ account: 'deposit', amountFen: REQUIRED }]) }),
      ]);

      // A closure's restrictions show too, with where they come from.
      keepClosureWaiting(shopId);
      expect((await requestClosure(shopId, merchant(owner))).status).toBe(202);
      const closing = await eventually(() => deposit(shopId), (r) => r.body.restrictions.length === 2);
      expect(closing.body.shopStatus).toBe('closing');
      expect(closing.body.restrictions).toEqual([
        { restriction: 'stop_listing', source: 'closure', since: expect.any(String) },
        { restriction: 'stop_sales', source: 'closure', since: expect.any(String) },
      ]);
      expect((await cancelClosure(shopId, merchant(owner))).status).toBe(200);
      await expectLedgerWhole(stack, shopId);
    });
  });

  describe('closure', () => {
    test('a request is a 202 shown by GET closure; a second is a 409 naming it; a cancellation reopens the shop', async () => {
      const owner = 'm-shop-close';
      const { shopId } = await openShop(stack, owner);
      expect((await closure(shopId)).status).toBe(404);
      expect((await cancelClosure(shopId, merchant(owner))).status).toBe(409);
      keepClosureWaiting(shopId);

      const asked = await requestClosure(shopId, merchant(owner));
      expect(asked.status).toBe(202);
      expect(asked.body).toEqual({ closureId: expect.stringMatching(/^cl_[0-9a-f]{24}$/), workflowId: `closure:${shopId}`, status: 'requested' });
      const { closureId } = asked.body as { closureId: string };

      const shown = await closure(shopId, merchant(owner));
      expect(shown.status).toBe(200);
      expect(shown.body).toMatchObject({ closureId, shopId, status: expect.stringMatching(/^(requested|waiting)$/), requestedBy: `merchant:u-${owner}`, closedAt: null, cancelledAt: null });
      // Waiting shows before its first look at the blockers: wait for that look.
      const waiting = await eventually(() => closure(shopId), (r) => r.body.status === 'waiting' && r.body.details?.blockers != null);
      expect(waiting.body.details).toMatchObject({ blockers: { openOrders: 1 } });
      expect([...platformShop(stack, shopId).restrictions].sort()).toEqual(['stop_listing', 'stop_sales']);

      const second = await requestClosure(shopId, staff.ops);
      expect(second.status).toBe(409);
      expect(second.body).toMatchObject({ code: 'conflict', closureId, instance: second.headers['x-request-id'] });
      expect(await stack.db('shop_closures').where({ shop_id: shopId })).toHaveLength(1);

      const cancelled = await cancelClosure(shopId, merchant(owner));
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({ closureId, shopId, status: 'cancelled' });
      const after = await closure(shopId, merchant(owner));
      expect(after.body).toMatchObject({ closureId, status: 'cancelled', cancelledAt: expect.any(String) });
      expect((await deposit(shopId)).body).toMatchObject({ shopStatus: 'open', restrictions: [] });
      expect([...platformShop(stack, shopId).restrictions]).toEqual([]);
      expect(platformShop(stack, shopId).refunds).toEqual([]);

      // Cancelled is final: a second cancellation is a 409; a new request is a new closure.
      await eventually(() => stack.env.client.workflow.getHandle(`closure:${shopId}`).describe(), (d) => d.status.name !== 'RUNNING');
      const twice = await cancelClosure(shopId, staff.ops);
      expect(twice.status).toBe(409);
      expect(twice.body.detail).toBe(`shop ${shopId}'s closure has no running process`);
      const anew = await requestClosure(shopId, staff.ops);
      expect(anew.status).toBe(202);
      expect(anew.body.closureId).not.toBe(closureId);
      expect((await cancelClosure(shopId, staff.admin)).status).toBe(200);
      expect((await closure(shopId)).body).toMatchObject({ closureId: anew.body.closureId, status: 'cancelled' });
      await expectLedgerWhole(stack, shopId);
    });
    test('a closure asked for right after a cancellation is a new one, and no phantom closure is left behind', async () => {
      const owner = 'm-shop-reclose';
      const { shopId } = await openShop(stack, owner);
      keepClosureWaiting(shopId);
      const first = await requestClosure(shopId, merchant(owner));
      expect((await cancelClosure(shopId, merchant(owner))).status).toBe(200);
      const second = await requestClosure(shopId, merchant(owner));
      expect(second.status).toBe(202);
      expect((await closure(shopId, merchant(owner))).body).toMatchObject({ closureId: second.body.closureId, status: expect.stringMatching(/^(requested|waiting)$/) });
      const rows = await stack.db('shop_closures').where({ shop_id: shopId }).orderBy('requested_at');
      expect(rows.map((r) => [r.id, r.status === 'cancelled'])).toEqual([
        [first.body.closureId, true],
        [second.body.closureId, false],
      ]);
      await eventually(() => deposit(shopId), (r) => r.body.shopStatus === 'closing');
      expect((await cancelClosure(shopId, staff.ops)).status).toBe(200);
      expect((await deposit(shopId)).body).toMatchObject({ shopStatus: 'open', restrictions: [] });
    });
  });

  describe('promotion deposit', () => {
    test('an excess withdrawal at the minimum is a 409 with reasons; closing promotion switches it off at once and refunds once no order is open', async () => {
      const owner = 'm-shop-promo';
      const { shopId } = await openShop(stack, owner);
      await topUp(shopId, merchant(owner), { paymentId: await paid(shopId, PROMOTION_MINIMUM, 'promotion_deposit') });

      const atMinimum = await api.post(`/v1/shops/${shopId}/promotion/excess-withdrawal`, merchant(owner), {});
      expect(atMinimum.status).toBe(409);
      expect(atMinimum.body).toMatchObject({ code: 'conflict', reasons: [expect.stringMatching(/excess|minimum/i)], instance: atMinimum.headers['x-request-id'] });
      expect(atMinimum.body.detail).toContain(atMinimum.body.reasons[0]);

      // With excess but a high-deposit category still open: that is the reason given.
      await topUp(shopId, merchant(owner), { paymentId: await paid(shopId, 30_000, 'promotion_deposit') });
      await stack.db('shop_categories').insert({ shop_id: shopId, category: 'beauty', status: 'open' });
      const categoryOpen = await api.post(`/v1/shops/${shopId}/promotion/excess-withdrawal`, staff.ops, {});
      expect(categoryOpen.status).toBe(409);
      expect(categoryOpen.body.reasons).toEqual([expect.stringContaining('beauty')]);
      expect((await deposit(shopId)).body.promotionBalanceFen).toBe(PROMOTION_MINIMUM + 30_000);

      expect((await api.get(`/v1/shops/${shopId}/promotion/closure`, merchant(owner))).status).toBe(404);
      platformShop(stack, shopId).orders = [{ orderId: 'o-promo', status: 'open', receiptConfirmedAt: null }];
      const asked = await api.post(`/v1/shops/${shopId}/promotion/closure`, merchant(owner), {});
      expect(asked.status).toBe(202);
      expect(asked.body).toEqual({ requestId: expect.stringMatching(/^pc_/), workflowId: `promotion-closure:${shopId}`, status: 'requested' });
      const promotionClosure = () => api.get(`/v1/shops/${shopId}/promotion/closure`, merchant(owner));
      const waiting = await eventually(promotionClosure, (r) => r.body.status === 'waiting' && r.body.blockers != null);
      expect(waiting.body).toMatchObject({ requestId: asked.body.requestId, blockers: { openOrders: 1, openViolations: 0, afterSalesUntil: null }, refundedFen: null });
      expect([...platformShop(stack, shopId).restrictions]).toContain('disable_third_party_promotion');
      expect(platformShop(stack, shopId).refunds).toEqual([]);
      // Asked again while it waits: one process per shop.
      expect((await api.post(`/v1/shops/${shopId}/promotion/closure`, staff.ops, {})).status).toBe(409);

      platformShop(stack, shopId).orders = [];
      await stack.env.sleep('1d');
      const closed = await eventually(promotionClosure, (r) => r.body.status === 'closed');
      expect(closed.body).toMatchObject({ deductedFen: 0, refundedFen: PROMOTION_MINIMUM + 30_000, stillOwedFen: 0 });
      // Back to the two payments it came from, each in full.
      expect(platformShop(stack, shopId).refunds.map((r) => [r.account, r.amountFen])).toEqual([
        ['promotion_deposit', PROMOTION_MINIMUM],
        ['promotion_deposit', 30_000],
      ]);
      expect((await deposit(shopId)).body.promotionBalanceFen).toBe(0);
      // Closed once: a second closure is a conflict and refunds nothing more.
      const again = await api.post(`/v1/shops/${shopId}/promotion/closure`, staff.admin, {});
      expect(again.status).toBe(409);
      expect(again.body.detail).toMatch(new RegExp(`third-party promotion of shop ${shopId} is already (closed|closing or closed)`));
      expect(platformShop(stack, shopId).refunds).toHaveLength(2);
      await expectLedgerWhole(stack, shopId);
    });
  });

  describe('audit log', () => {
    test('every mutating shop request leaves one row under shop:<shopId>, refusals included; reads leave none', async () => {
      const owner = 'm-shop-audit';
      const { shopId } = await openShop(stack, owner);
      keepClosureWaiting(shopId);
      const target = `shop:${shopId}`;
      const sent: Array<[string, request.Response, number, string | RegExp, string]> = [];
      const send = async (what: string, pending: Promise<request.Response>, status: number, action: string | RegExp, who: string) => {
        sent.push([what, await pending, status, action, who]);
      };
      await send('a top-up', topUp(shopId, merchant(owner), { paymentId: await paid(shopId, 100) }), 200, 'deposit.top_up', `u-${owner}`);
      await send('a deduction by a merchant', deduct(shopId, merchant(owner), { amountFen: 1, reason: 'x', reference: 'a-2' }), 403, /^POST \/v1\/shops\/.+\/deposit\/deductions$/, `u-${owner}`);
      await send('a deduction too large', deduct(shopId, staff.finance, { amountFen: 101, reason: 'x', reference: 'a-3' }), 409, 'deposit.deduct', 'fang');
      await send('a bad top-up', topUp(shopId, staff.finance, { amountFen: 1.5, paymentId: 'pay_a-4' }), 400, /deposit\/top-ups$/, 'fang');
      await send('a closure', requestClosure(shopId, merchant(owner)), 202, 'shop.closure.request', `u-${owner}`);
      await send('a second closure', requestClosure(shopId, staff.ops), 409, 'shop.closure.request', 'olga');
      await send('a closure by another merchant', requestClosure(shopId, merchant('m-shop-intruder')), 404, 'shop.closure.request', 'u-m-shop-intruder');
      await send('a cancellation', cancelClosure(shopId, staff.admin), 200, 'shop.closure.cancel', 'ada');
      await send('a promotion closure by finance', api.post(`/v1/shops/${shopId}/promotion/closure`, staff.finance, {}), 403, /promotion\/closure$/, 'fang');
      await send('an excess withdrawal', api.post(`/v1/shops/${shopId}/promotion/excess-withdrawal`, merchant(owner), {}), 409, 'promotion.withdraw_excess', `u-${owner}`);
      const read = await deposit(shopId, merchant(owner));
      expect(read.status).toBe(200);

      for (const [what, res, status, action, who] of sent) {
        expect({ what, status: res.status }).toEqual({ what, status });
        const row = await api.auditRowOf(res.headers['x-request-id']);
        expect({ what, row }).toEqual({
          what,
          row: expect.objectContaining({ target, actor_sub: who, status_code: status, outcome: status < 400 ? 'succeeded' : 'refused', action: typeof action === 'string' ? action : expect.stringMatching(action) }),
        });
      }
      expect(await stack.db('audit_log').where({ request_id: read.headers['x-request-id'] })).toHaveLength(0);
      expect(await stack.db('audit_log').where({ target })).toHaveLength(sent.length);

      // An unknown shop is recorded under the id asked for; a malformed id is recorded without a target.
      const unknown = await requestClosure(UNKNOWN_SHOP, staff.ops);
      expect(unknown.status).toBe(404);
      expect(await api.auditRowOf(unknown.headers['x-request-id'])).toMatchObject({ target: `shop:${UNKNOWN_SHOP}`, status_code: 404, outcome: 'refused' });
      const malformed = await api.post('/v1/shops/%00/closure', staff.ops, {});
      expect(malformed.status).toBe(400);
      // Not copied into the row (PostgreSQL text refuses a NUL byte: the whole row would be lost).
      expect(await api.auditRowOf(malformed.headers['x-request-id'])).toMatchObject({ target: null, action: 'POST /v1/shops/%00/closure', status_code: 400, outcome: 'refused' });
      await expectLedgerWhole(stack, shopId);
    });
  });

  test('the OpenAPI document lists the eight shop routes, each behind the bearer token with its shopId parameter', async () => {
    const res = await request(stack.app).get('/openapi.json');
    expect(res.status).toBe(200);
    const paths = res.body.paths as Record<string, Record<string, { security: unknown; parameters: unknown[]; responses: Record<string, unknown> }>>;
    const shopOperations = Object.entries(paths)
      // Offline transfers have their own suite (payments.test.ts).
      .filter(([path]) => path.startsWith('/v1/shops/') && !path.includes('/offline-top-ups'))
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(shopOperations.sort()).toEqual(ROUTES.map((r) => `${r.method} /v1/shops/{shopId}${r.path}`).sort());
    for (const route of ROUTES) {
      const operation = paths[`/v1/shops/{shopId}${route.path}`]![route.method.toLowerCase()]!;
      expect(operation.security).toEqual([{ bearer: [] }]);
      // Every shop POST accepts an Idempotency-Key (api/idempotency.ts).
      const idempotencyKey = route.method === 'POST' ? [expect.objectContaining({ name: 'idempotency-key', in: 'header', required: false })] : [];
      expect(operation.parameters).toEqual([expect.objectContaining({ name: 'shopId', in: 'path', required: true }), ...idempotencyKey]);
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '403', '404']));
      if (route.method === 'POST') expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['400', '409']));
    }
    const topUpSchema = res.body.paths['/v1/shops/{shopId}/deposit/top-ups'].post.requestBody.content['application/json'].schema;
    expect(topUpSchema).toMatchObject({ additionalProperties: false, required: ['paymentId'] });
    expect(topUpSchema.properties.amountFen).toMatchObject({ type: 'integer' });
    expect(topUpSchema.properties.account.enum).toEqual(['deposit', 'promotion_deposit']);
  });
});
