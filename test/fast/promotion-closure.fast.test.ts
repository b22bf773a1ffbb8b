import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain/errors';
import { resolveAttentionUpdate } from '../../workflows/attention.defs';
import { depositStateQuery, depositWorkflowId, type DepositAccountInput } from '../../workflows/deposit-account.defs';
import { promotionClosureStateQuery, promotionClosureWorkflowId, type PromotionClosureInput, type PromotionClosureState } from '../../workflows/promotion-closure.defs';
import type { ClosureBlockers } from '../../workflows/shop-closure.defs';
import { DAY, iso, skipToResult, startFastEnv, statusesOf, type FastEnv } from './support';

const NONE: ClosureBlockers = { openOrders: 0, openViolations: 0, afterSalesUntil: null };
const HOUR = 60 * 60 * 1000;
const MONEY_STEPS = ['collectOwedFromPromotion', 'refundPromotionDeposit'];

describe('promotionClosure branching (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  /** Per shop: what holds its refund back at a given instant. */
  const blockersOf = new Map<string, (asOf: number) => ClosureBlockers>();
  /** Per shop and step: a failure to throw once, instead of answering. */
  const failOnce = new Map<string, ApplicationFailure>();
  const failing = (step: string, shopId: string) => {
    const failure = failOnce.get(`${step}:${shopId}`);
    failOnce.delete(`${step}:${shopId}`);
    if (failure) throw failure;
  };
  beforeAll(async () => {
    fast = await startFastEnv({
      switchOffThirdPartyPromotion: async ({ shopId }: { shopId: string }) => failing('switchOffThirdPartyPromotion', shopId),
      promotionClosureBlockers: async ({ shopId, asOf }: { shopId: string; asOf: string }) => (blockersOf.get(shopId) ?? (() => NONE))(Date.parse(asOf)),
      collectOwedFromPromotion: async ({ shopId }: { shopId: string }) => {
        failing('collectOwedFromPromotion', shopId);
        return { deductedFen: 300_00, stillOwedFen: 50_00 };
      },
      refundPromotionDeposit: async ({ shopId }: { shopId: string }) => {
        failing('refundPromotionDeposit', shopId);
        return { refundedFen: 700_00, balances: { balanceFen: 2_000_00, promotionBalanceFen: 0, owedFen: 50_00 } };
      },
      // Only for the shop's deposit process that the refund tells (started by the test where it runs).
      openDepositAccount: async () => ({ requiredFen: 2_000_00, balanceFen: 2_000_00, promotionBalanceFen: 1_000_00 }),
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  const start = async (shopId: string) => {
    const input: PromotionClosureInput = { requestId: `req-${shopId}`, shopId, merchantId: 'm-1', requestedBy: 'merchant:m-1' };
    return fast.client.workflow.start('promotionClosure', { taskQueue: fast.taskQueue, workflowId: promotionClosureWorkflowId(shopId), args: [input] });
  };
  /** The closure's own calls (not those of a deposit process started beside it). */
  const callsFor = (shopId: string) => fast.stubs.calls.filter((c) => c.name !== 'openDepositAccount' && (c.input as { shopId?: string }).shopId === shopId);
  const namesFor = (shopId: string) => callsFor(shopId).map((c) => c.name);
  const moneyStepsFor = (shopId: string) => namesFor(shopId).filter((n) => MONEY_STEPS.includes(n));
  const looksOf = (shopId: string) => callsFor(shopId).filter((c) => c.name === 'promotionClosureBlockers').map((c) => Date.parse((c.input as { asOf: string }).asOf));
  const gapsOf = (looks: number[]) => looks.slice(1).map((look, i) => Math.round((look - looks[i]) / 60_000) * 60_000);

  test('switched off at once; after the last after-sales window what is owed is taken, the rest refunded once, and the deposit process told', async () => {
    const account = await fast.client.workflow.start('depositAccount', {
      taskQueue: fast.taskQueue,
      workflowId: depositWorkflowId('shop-window'),
      args: [{ shopId: 'shop-window', merchantId: 'm-1', shopType: 'individual' } satisfies DepositAccountInput],
    });
    await fast.until(() => account.query(depositStateQuery), (s) => s.promotionBalanceFen === 1_000_00);

    const windowEnds = (await fast.now()) + 18 * HOUR;
    blockersOf.set('shop-window', (asOf) => (asOf < windowEnds ? { ...NONE, afterSalesUntil: iso(windowEnds) } : NONE));
    const handle = await start('shop-window');
    const waiting = await fast.until(() => handle.query(promotionClosureStateQuery), (s) => s.blockers !== null);
    expect(waiting).toMatchObject({ status: 'waiting', blockers: { afterSalesUntil: iso(windowEnds) } });
    expect(namesFor('shop-window')).toEqual(['switchOffThirdPartyPromotion', 'promotionClosureBlockers']);
    expect(fast.stubs.inputsOf('switchOffThirdPartyPromotion')).toContainEqual({ requestId: 'req-shop-window', shopId: 'shop-window' });
    // Nothing waits for ops: an answer from them is refused.
    const unasked = await handle.executeUpdate(resolveAttentionUpdate, { args: [{ action: 'retry', actor: 'ops:olga' }] }).catch((err: Error) => err);
    expect((unasked as Error).cause).toMatchObject({ message: expect.stringMatching(/nothing is waiting for ops/) });

    await fast.env.sleep(windowEnds - (await fast.now()) - 60_000);
    expect((await handle.query(promotionClosureStateQuery)).status).toBe('waiting');
    expect(moneyStepsFor('shop-window')).toEqual([]);

    const final = await skipToResult<PromotionClosureState>(fast, handle);
    expect(final).toMatchObject({ status: 'closed', blockers: NONE, deductedFen: 300_00, stillOwedFen: 50_00, refundedFen: 700_00, attention: null });
    expect(moneyStepsFor('shop-window')).toEqual(MONEY_STEPS);
    expect(fast.stubs.inputsOf('refundPromotionDeposit')).toContainEqual({ requestId: 'req-shop-window', shopId: 'shop-window', actor: 'merchant:m-1' });
    const looks = looksOf('shop-window');
    expect(looks).toHaveLength(2);
    expect(looks[1]).toBeGreaterThanOrEqual(windowEnds);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'closed' });

    const told = await fast.until(() => account.query(depositStateQuery), (s) => s.promotionClosed);
    expect(told).toMatchObject({ balanceFen: 2_000_00, promotionBalanceFen: 0, owedFen: 50_00 });
    await account.terminate('fast test over');
  });

  test('with an undecided violation case it looks again daily until the case is decided; with the deposit process gone it closes all the same', async () => {
    const decided = (await fast.now()) + 2 * DAY + HOUR;
    blockersOf.set('shop-case', (asOf) => (asOf < decided ? { ...NONE, openViolations: 1 } : NONE));
    const handle = await start('shop-case');
    const final = await skipToResult<PromotionClosureState>(fast, handle);
    expect(final).toMatchObject({ status: 'closed', refundedFen: 700_00 });
    // At the start, one day later (still undecided), two days later (still undecided), three days later (decided).
    expect(gapsOf(looksOf('shop-case'))).toEqual([DAY, DAY, DAY]);
    expect(moneyStepsFor('shop-case')).toEqual(MONEY_STEPS);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'closed' });
  });

  test('a window ending more than a day away is looked at daily, then at its end', async () => {
    const windowEnds = (await fast.now()) + 2 * DAY + 12 * HOUR;
    blockersOf.set('shop-long', (asOf) => (asOf < windowEnds ? { ...NONE, openOrders: 1, afterSalesUntil: iso(windowEnds) } : NONE));
    const handle = await start('shop-long');
    expect((await skipToResult<PromotionClosureState>(fast, handle)).status).toBe('closed');
    const looks = looksOf('shop-long');
    expect(gapsOf(looks)).toEqual([DAY, DAY, 12 * HOUR]);
    expect(looks.at(-1)).toBeGreaterThanOrEqual(windowEnds);
  });

  test('a step the database refuses for good waits in needs_attention; it cannot be abandoned, and a retry goes on to refund once', async () => {
    failOnce.set('collectOwedFromPromotion:shop-attention', ApplicationFailure.nonRetryable('collectOwedFromPromotion failed for good: the database refused a value (SQLSTATE 23514)', ErrorType.DataRejected));
    const handle = await start('shop-attention');
    const stuck = await fast.until(() => handle.query(promotionClosureStateQuery), (s) => s.attention !== null);
    expect(stuck).toMatchObject({ status: 'settling', refundedFen: null, attention: { step: 'collectOwedFromPromotion', errorType: 'DataRejected', statusBefore: 'settling', abandonable: false } });
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'RUNNING', business: 'needs_attention' });
    expect(moneyStepsFor('shop-attention')).toEqual(['collectOwedFromPromotion']);

    const abandoned = await handle.executeUpdate(resolveAttentionUpdate, { args: [{ action: 'abandon', actor: 'ops:olga' }] }).catch((err: Error) => err);
    expect((abandoned as Error).cause).toMatchObject({ message: expect.stringMatching(/cannot be abandoned/) });
    expect(await handle.executeUpdate(resolveAttentionUpdate, { args: [{ action: 'retry', actor: 'ops:olga' }] })).toEqual({ action: 'retry', step: 'collectOwedFromPromotion' });
    const final = await skipToResult<PromotionClosureState>(fast, handle);
    expect(final).toMatchObject({ status: 'closed', attention: null, deductedFen: 300_00, refundedFen: 700_00 });
    expect(moneyStepsFor('shop-attention')).toEqual(['collectOwedFromPromotion', 'collectOwedFromPromotion', 'refundPromotionDeposit']);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'closed' });
  });

  test('a platform refusal of the switch-off is not retried: the run fails before anything is read or moved', async () => {
    failOnce.set('switchOffThirdPartyPromotion:shop-refused', ApplicationFailure.nonRetryable('platform 400: promotion not enabled', ErrorType.PlatformRejected));
    const handle = await start('shop-refused');
    const failed = await handle.result().catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    expect(namesFor('shop-refused')).toEqual(['switchOffThirdPartyPromotion']);
    expect((await statusesOf(fast, handle.workflowId)).execution).toBe('FAILED');
  });
});
