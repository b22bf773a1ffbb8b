import { cancelClosureUpdate, closureStateQuery, type ClosureBlockers, type ClosureInput, type ClosureState } from '../../workflows/shop-closure.defs';
import { DAY, iso, skipToResult, startFastEnv, statusesOf, type FastEnv } from './support';

const NONE: ClosureBlockers = { openOrders: 0, openViolations: 0, afterSalesUntil: null };

describe('shopClosure branching (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  /** Per shop: what blocks its closure at a given instant. */
  const blockersOf = new Map<string, (asOf: number) => ClosureBlockers>();
  beforeAll(async () => {
    fast = await startFastEnv({
      suspendShopForClosure: async () => undefined,
      closureBlockers: async ({ shopId, asOf }: { shopId: string; asOf: string }) => (blockersOf.get(shopId) ?? (() => NONE))(Date.parse(asOf)),
      recordClosureStatus: async () => undefined,
      cancelClosure: async () => undefined,
      finalSettlement: async () => ({ owedFen: 120_00 }),
      deductOwed: async () => ({ stillOwedFen: 0 }),
      refundDeposits: async () => ({ deposit: 1_880_00, promotionDeposit: 0, heldFen: { deposit: 0, promotionDeposit: 0 } }),
      completeClosure: async () => undefined,
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  const start = async (shopId: string, extra: Partial<ClosureInput> = {}) => {
    const input: ClosureInput = { closureId: `closure-${shopId}`, shopId, merchantId: 'm-1', requestedBy: 'merchant:m-1', ...extra };
    const handle = await fast.client.workflow.start('shopClosure', { taskQueue: fast.taskQueue, workflowId: `closure:${shopId}`, args: [input] });
    await fast.until(() => handle.query(closureStateQuery), (s) => s.blockers !== null);
    return handle;
  };
  const namesFor = (shopId: string) =>
    fast.stubs.calls.filter((c) => (c.input as { shopId?: string; closureId?: string }).shopId === shopId || (c.input as { closureId?: string }).closureId === `closure-${shopId}`).map((c) => c.name);
  const moneyStepsFor = (shopId: string) => namesFor(shopId).filter((n) => ['finalSettlement', 'deductOwed', 'refundDeposits', 'completeClosure'].includes(n));

  test('waits out the last after-sales window, then settles, deducts what is owed, refunds once and closes', async () => {
    const windowEnds = (await fast.now()) + 3 * DAY;
    blockersOf.set('shop-window', (asOf) => (asOf < windowEnds ? { ...NONE, afterSalesUntil: iso(windowEnds) } : NONE));
    const handle = await start('shop-window');
    expect(namesFor('shop-window')[0]).toBe('suspendShopForClosure');

    await fast.env.sleep(windowEnds - (await fast.now()) - 60_000);
    expect((await handle.query(closureStateQuery)).status).toBe('waiting');
    expect(moneyStepsFor('shop-window')).toEqual([]);

    const final = await skipToResult<ClosureState>(fast, handle);
    expect(final).toMatchObject({ status: 'closed', owedFen: 120_00, stillOwedFen: 0, refundedFen: { deposit: 1_880_00, promotionDeposit: 0 } });
    expect(moneyStepsFor('shop-window')).toEqual(['finalSettlement', 'deductOwed', 'refundDeposits', 'completeClosure']);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'closed' });
    expect(fast.stubs.inputsOf('deductOwed')).toContainEqual({ closureId: 'closure-shop-window', shopId: 'shop-window', owedFen: 120_00 });
  });

  test('with open orders it looks again daily until they are finished', async () => {
    const ordersDone = (await fast.now()) + 2 * DAY + 3_600_000;
    blockersOf.set('shop-orders', (asOf) => (asOf < ordersDone ? { ...NONE, openOrders: 2 } : NONE));
    const handle = await start('shop-orders');
    const final = await skipToResult<ClosureState>(fast, handle);
    expect(final.status).toBe('closed');
    const looks = (fast.stubs.inputsOf('closureBlockers') as Array<{ shopId: string; asOf: string }>).filter((i) => i.shopId === 'shop-orders');
    // At the start, one day later (still open), two days later (still open), three days later (done).
    expect(looks).toHaveLength(4);
    const gaps = looks.slice(1).map((l, i) => Date.parse(l.asOf) - Date.parse(looks[i].asOf));
    gaps.forEach((gap) => expect(Math.round(gap / 60_000)).toBe(DAY / 60_000));
  });

  test('the merchant cancels while it waits: functions come back and no money moves', async () => {
    blockersOf.set('shop-cancel', () => ({ ...NONE, openOrders: 1 }));
    const handle = await start('shop-cancel');
    const cancelled = await handle.executeUpdate(cancelClosureUpdate, { args: [{ actor: 'merchant:m-1' }] });
    expect(cancelled.status).toBe('cancelled');
    expect((await handle.result()).status).toBe('cancelled');
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'cancelled' });
    expect(fast.stubs.inputsOf('cancelClosure')).toContainEqual({ closureId: 'closure-shop-cancel', shopId: 'shop-cancel', merchantId: 'm-1', actor: 'merchant:m-1' });
    expect(moneyStepsFor('shop-cancel')).toEqual([]);
  });

  test("a penalty's closure refuses the merchant's cancel; only the reversal of its case cancels it", async () => {
    blockersOf.set('shop-banned', () => ({ ...NONE, openViolations: 1 }));
    const handle = await start('shop-banned', { requestedBy: 'admin:violation:v-ban', penaltyCaseId: 'v-ban' });
    const refused = await handle.executeUpdate(cancelClosureUpdate, { args: [{ actor: 'merchant:m-1' }] }).catch((err: Error) => err);
    expect((refused as Error).cause).toMatchObject({ message: expect.stringMatching(/started by the penalty of violation case v-ban/) });
    expect((await handle.query(closureStateQuery)).status).toBe('waiting');

    const reversed = await handle.executeUpdate(cancelClosureUpdate, { args: [{ actor: 'reviewer:rui', reversalOf: 'v-ban' }] });
    expect(reversed.status).toBe('cancelled');
    expect(moneyStepsFor('shop-banned')).toEqual([]);
  });

  test('once the refund has started a cancel is refused', async () => {
    let release: () => void = () => undefined;
    const refundHeld = new Promise<void>((resolve) => (release = resolve));
    fast.stubs.answer('refundDeposits', async () => {
      await refundHeld;
      return { deposit: 1_880_00, promotionDeposit: 0 };
    });
    const handle = await start('shop-refunding');
    await fast.until(() => handle.query(closureStateQuery), (s) => s.status === 'refunding');
    const refused = await handle.executeUpdate(cancelClosureUpdate, { args: [{ actor: 'merchant:m-1' }] }).catch((err: Error) => err);
    expect((refused as Error).cause).toMatchObject({ message: expect.stringMatching(/is refunding: it can only be cancelled before the refund/) });
    release();
    expect((await handle.result()).status).toBe('closed');
    expect(fast.stubs.inputsOf('cancelClosure')).not.toContainEqual(expect.objectContaining({ shopId: 'shop-refunding' }));
  });
});
