import { Client } from '@temporalio/client';
import { createShopService, type ShopService } from '../../api/shops/service';
import { createLedger } from '../../db/repositories/ledger';
import { settlementWorkflowId, SETTLEMENT_WORKFLOW_TYPE } from '../../workflows/settlement.defs';
import { appealUpdate, decideAppealUpdate } from '../../workflows/violation-case.defs';
import { cancelClosureUpdate, closureStateQuery, closureWorkflowId } from '../../workflows/shop-closure.defs';
import { eventually } from '../support/fixtures';
import { depositState, expectLedgerWhole, merchantOf, openShop, ops, platformShop } from '../support/shops';
import { paymentIdOf } from '../support/payments';
import { startStack, type Stack } from '../support/stack';
import { caseHandle, caseState, openViolation, OPENED_BY } from '../support/violations';

const DAY = 24 * 60 * 60 * 1000;
const OTHER_REVIEWER = 'rui';
const admin = { sub: 'ada', role: 'admin' } as const;

describe('violation cases (time-skipping)', () => {
  let stack: Stack;
  let shops: ShopService;
  let client: Client;
  beforeAll(async () => {
    stack = await startStack();
    shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
    client = new Client({ connection: stack.env.connection });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const appeal = (caseId: string, merchantId: string) =>
    caseHandle(stack, caseId).executeUpdate(appealUpdate, { args: [{ statement: 'the claim on the page was true', actor: `u-${merchantId}` }] });
  const decide = (caseId: string, decision: 'upheld' | 'rejected', reviewer = OTHER_REVIEWER) =>
    caseHandle(stack, caseId).executeUpdate(decideAppealUpdate, { args: [{ decision, reasons: ['evidence re-examined'], reviewer }] });
  const restrictionsOf = (shopId: string) => [...platformShop(stack, shopId).restrictions].sort();

  // Runs first: the flag's start is the case's (test server) time and settlement compares it
  // with the database's clock, which later sleeps would leave behind.
  test('false advertising zeroes the next statement; an upheld appeal pays the forfeited commission back', async () => {
    const merchantId = 'm-false-ad';
    const { shopId } = await openShop(stack, merchantId);
    await stack.db('orders').insert({
      id: 'fa-1',
      merchant_id: merchantId,
      shop_id: shopId,
      category: 'apparel',
      amount_fen: 200_000,
      status: 'receipt_confirmed',
      paid_at: new Date('2026-10-05T02:00:00Z'),
      receipt_confirmed_at: new Date('2026-10-10T02:00:00Z'),
    });
    const c = await openViolation(stack, { merchantId, shopId, type: 'false_advertising', level: 'general', productIds: ['fa-p1'] });
    await caseState(stack, c.caseId, (s) => s.status === 'appealable');
    expect([...platformShop(stack, shopId).delistedProducts]).toEqual(['fa-p1']);
    await eventually(() => stack.db('merchant_flags').where({ case_id: c.caseId }).first(), (f) => f !== undefined);

    await client.workflow.execute(SETTLEMENT_WORKFLOW_TYPE, { workflowId: settlementWorkflowId('2026-10'), taskQueue: stack.config.TEMPORAL_TASK_QUEUE, args: [{ period: '2026-10' }] });
    // 200,000 − 10% − 3% = 174,000 fen earned, all of it forfeited.
    expect(await stack.db('statements').where({ merchant_id: merchantId, period: '2026-10' }).first()).toMatchObject({
      gmv_fen: 200_000,
      forfeited_fen: 174_000,
      net_fen: 0,
      payout_fen: 0,
    });
    expect(stack.sandbox.state.payouts.filter((p) => p.merchantId === merchantId)).toEqual([]);

    await appeal(c.caseId, merchantId);
    const reversed = await decide(c.caseId, 'upheld');
    expect(reversed.status).toBe('reversed');
    expect([...platformShop(stack, shopId).delistedProducts]).toEqual([]);
    expect(stack.sandbox.state.payouts.filter((p) => p.merchantId === merchantId).map((p) => [p.period, p.amountFen])).toEqual([['2026-10', 174_000]]);
    expect(await stack.db('merchant_flags').where({ case_id: c.caseId }).first()).toMatchObject({ consumed_period: '2026-10', restored_at: expect.any(Date) });
    // Reversed: its 2 points no longer count.
    expect(await stack.db('violation_cases').where({ id: c.caseId }).first()).toMatchObject({ status: 'reversed', points: 2 });
  });

  test('a fine that empties the deposit opens the shortfall ladder; an upheld appeal returns it and the ladder ends', async () => {
    const merchantId = 'm-fined';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 60_000 }) }, me);
    await depositState(stack, shopId, (s) => s.funded);

    const c = await openViolation(stack, { merchantId, shopId, type: 'other', level: 'serious' });
    const opened = await caseState(stack, c.caseId, (s) => s.status === 'appealable');
    expect(opened.decision).toMatchObject({ level: 'serious', escalatedBecause: null, penalty: { fineFen: 200_000 } });
    // The fine takes what the deposit holds (600 CNY of 2,000) and the rest is owed: the ladder starts.
    const short = await depositState(stack, shopId, (s) => s.episode !== null);
    expect(short.balanceFen).toBe(0);
    await eventually(() => stack.db('violation_cases').where({ id: c.caseId }).first(), (r) => Number(r.fine_deducted_fen) === 200_000);
    expect(short.owedFen).toBe(140_000);
    expect(restrictionsOf(shopId)).toEqual(['stop_sales']);

    await appeal(c.caseId, merchantId);
    // The reviewer who opened the case may not decide its appeal.
    await expect(decide(c.caseId, 'upheld', OPENED_BY)).rejects.toMatchObject({ cause: { message: expect.stringMatching(/opened the case/) } });
    expect((await decide(c.caseId, 'upheld')).status).toBe('reversed');

    const restored = await depositState(stack, shopId, (s) => s.episode === null);
    expect(restored.balanceFen).toBe(60_000);
    expect(restrictionsOf(shopId)).toEqual([]);
    const kinds = (await createLedger(stack.db).recentLines(shopId)).map((l) => l.kind);
    expect(kinds).toEqual(expect.arrayContaining(['deduction', 'reversal']));
    await expectLedgerWhole(stack, shopId);
  });

  test('general then serious: points and delisting, escalation by a repeat, suspension and effect periods lifting by timer', async () => {
    const merchantId = 'm-repeat';
    const me = merchantOf(merchantId);
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 300_000 }) }, me);
    await depositState(stack, shopId, (s) => s.funded);

    const first = await openViolation(stack, { merchantId, shopId, type: 'price_violation', level: 'general', productIds: ['p-1', 'p-2'] });
    const general = await caseState(stack, first.caseId, (s) => s.status === 'appealable');
    expect(general.decision).toMatchObject({ level: 'general', penalty: { points: 2, delistProducts: true, fineFen: 0, restrictionsForEffect: ['bar_big_promotions'] } });
    await eventually(async () => [...platformShop(stack, shopId).delistedProducts].sort(), (d) => d.join() === 'p-1,p-2');
    expect(restrictionsOf(shopId)).toEqual(['bar_big_promotions']);

    // A repeat while the first is in effect: reported general, it stands as serious.
    const second = await openViolation(stack, { merchantId, shopId, type: 'other', level: 'general' });
    const serious = await caseState(stack, second.caseId, (s) => s.status === 'appealable');
    expect(serious.decision).toMatchObject({ level: 'serious', escalatedBecause: 'repeat_in_effect', penalty: { fineFen: 200_000 } });
    await depositState(stack, shopId, (s) => s.balanceFen === 100_000);
    // The fine is deducted before the sales stop is applied: wait for both.
    await eventually(async () => restrictionsOf(shopId), (r) => r.join() === 'bar_big_promotions,stop_sales');

    // Past the serious case's 3 working days: the appeal window closes. Past 7 days: sales resume.
    await stack.env.sleep(8 * DAY);
    await caseState(stack, second.caseId, (s) => s.status === 'in_effect' && s.suspensionLifted);
    expect(restrictionsOf(shopId)).toEqual(['bar_big_promotions']);
    await expect(appeal(second.caseId, merchantId)).rejects.toMatchObject({ cause: { message: expect.stringMatching(/appeal window closed at/) } });

    // 30 days: the general case expires and its bar on big promotions lifts; delisted products stay delisted.
    await stack.env.sleep(23 * DAY);
    await caseState(stack, first.caseId, (s) => s.status === 'expired');
    expect(restrictionsOf(shopId)).toEqual([]);
    expect(await client.workflow.getHandle(`violation:${first.caseId}`).result()).toMatchObject({ status: 'expired' });

    // 180 days: the serious case expires too.
    await stack.env.sleep(150 * DAY);
    await caseState(stack, second.caseId, (s) => s.status === 'expired');
    const history = await stack.db('violation_events').where({ case_id: second.caseId }).orderBy('id').pluck('type');
    expect(history).toEqual(['opened', 'penalty_applied', 'appeal_window_closed', 'suspension_lifted', 'effect_lifted', 'expired']);
    await expectLedgerWhole(stack, shopId);
  });

  // Last: once a shop closure has completed, the time-skipping server lets later sleeps pass
  // in real time (seen with closures alone; nothing is left pending).
  test('an especially serious violation bans for good: no appeal, the shop-closure flow starts and nobody can cancel it', async () => {
    const merchantId = 'm-banned';
    const { shopId } = await openShop(stack, merchantId);
    // An open order keeps the closure waiting, where a merchant's own closure could be cancelled.
    platformShop(stack, shopId).orders = [{ orderId: 'o-ban', status: 'open', receiptConfirmedAt: null }];
    const c = await openViolation(stack, { merchantId, shopId, type: 'qualification_mismatch', level: 'especially_serious' });
    await caseState(stack, c.caseId, (s) => s.status === 'permanent');
    await eventually(() => stack.db('shop_closures').where({ shop_id: shopId }).first(), (r) => r !== undefined);
    const closure = stack.env.client.workflow.getHandle(closureWorkflowId(shopId));
    expect((await closure.describe()).status.name).toBe('RUNNING');
    await eventually(() => closure.query(closureStateQuery), (s) => s.status === 'waiting' && s.blockers !== null);
    expect((await shops.closure(shopId, ops)).details).toMatchObject({ penaltyCaseId: c.caseId });

    // The closure is the penalty: neither the merchant nor staff can cancel it (409, saying why).
    for (const who of [merchantOf(merchantId), ops, admin]) {
      await expect(shops.cancelClosure(shopId, who)).rejects.toMatchObject({
        status: 409,
        message: expect.stringContaining(`started by the penalty of violation case ${c.caseId}`),
      });
    }
    // Nor a reversal of another case.
    await expect(closure.executeUpdate(cancelClosureUpdate, { args: [{ actor: 'rui', reversalOf: 'vio_other' }] })).rejects.toThrow();
    expect((await closure.query(closureStateQuery)).status).toBe('waiting');
    expect([...platformShop(stack, shopId).restrictions]).toEqual(expect.arrayContaining(['stop_listing', 'stop_sales']));
    expect(await stack.db('shops').where({ id: shopId }).first()).toMatchObject({ status: 'closing' });
    // A qualification mismatch closes API permission for good, beside the closure's own stops.
    await eventually(async () => restrictionsOf(shopId), (r) => r.includes('disable_api'));
    const done = await client.workflow.getHandle(`violation:${c.caseId}`).result();
    expect(done).toMatchObject({ status: 'permanent', decision: { effectEndsAt: null, appealDeadline: null } });
    // Nothing is left to appeal to: the process has ended, the case stays permanent.
    await expect(appeal(c.caseId, merchantId)).rejects.toThrow();
    expect(await stack.db('violation_cases').where({ id: c.caseId }).first()).toMatchObject({ status: 'permanent', appeal_deadline: null });

    // A ban never stops counting: a serious case after it stands one level up, permanent too.
    const after = await openViolation(stack, { merchantId, shopId, type: 'other', level: 'serious' });
    const escalated = await caseState(stack, after.caseId, (s) => s.status === 'permanent');
    expect(escalated.decision).toMatchObject({ level: 'especially_serious', escalatedBecause: 'repeat_in_effect' });

    // The one path that may cancel it: the reversal of the case that started it.
    const reversed = await closure.executeUpdate(cancelClosureUpdate, { args: [{ actor: 'rui', reversalOf: c.caseId }] });
    expect(reversed.status).toBe('cancelled');
  });
});
