import type { LadderStep } from '../../domain/deposit-policy';
import { closureSignal, deductUpdate, depositStateQuery, topUpUpdate, type DepositAccountInput } from '../../workflows/deposit-account.defs';
import { DAY, iso, startFastEnv, statusesOf, type FastEnv } from './support';

const REQUIRED_FEN = 2_000_00;
/**
 * The ladder the stub plans, in days after the shortfall began (production reads it from
 * config). Not the default ladder: here every step after the first has a day of its own, so
 * each one is seen waiting for its day. Keyed by step, so a step added in domain/ must get a day.
 */
const STUB_DAYS: Record<LadderStep, number> = { notify: 0, transfer_proceeds: 1, close_cart: 3, stop_listing: 5, stop_sales: 7, restrict_withdrawals: 10 };
const LADDER = (Object.entries(STUB_DAYS) as Array<[LadderStep, number]>).map(([step, afterDays]) => ({ step, afterDays }));

interface StepCall {
  shopId: string;
  step: LadderStep;
  shortfallFen: number;
}

describe('depositAccount shortfall ladder (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  // The stub ledger: one balance per shop, moved by top-ups and deductions only.
  const balance = new Map<string, number>();
  const answer = (shopId: string) => ({ transactionId: 1, replayed: false, balanceFen: balance.get(shopId) ?? 0, promotionBalanceFen: 0, requiredFen: REQUIRED_FEN, owedFen: 0 });

  beforeAll(async () => {
    fast = await startFastEnv({
      openDepositAccount: async ({ shopId }: { shopId: string }) => answer(shopId),
      creditPayment: async ({ shopId, amountFen }: { shopId: string; amountFen: number }) => {
        balance.set(shopId, (balance.get(shopId) ?? 0) + amountFen);
        return answer(shopId);
      },
      postMovement: async ({ shopId, kind, amountFen }: { shopId: string; kind: string; amountFen: number }) => {
        balance.set(shopId, (balance.get(shopId) ?? 0) + (kind === 'deduction' ? -amountFen : amountFen));
        return answer(shopId);
      },
      balances: async ({ shopId }: { shopId: string }) => answer(shopId),
      startEpisode: async ({ startedAt }: { startedAt: string }) => ({
        schedule: LADDER.map(({ step, afterDays }) => ({ step, at: iso(Date.parse(startedAt) + afterDays * DAY) })),
      }),
      runLadderStep: async ({ shopId }: StepCall) => ({ ...answer(shopId), skipped: null }),
      endEpisode: async () => undefined,
      deductOwing: async ({ shopId }: { shopId: string }) => answer(shopId),
      reverseDeduction: async ({ shopId }: { shopId: string }) => answer(shopId),
      closePromotion: async () => ({ done: false, reasons: ['not stubbed'] }),
      withdrawPromotionExcess: async () => ({ done: false, reasons: ['not stubbed'] }),
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  const stepsOf = (shopId: string) => (fast.stubs.inputsOf('runLadderStep') as StepCall[]).filter((c) => c.shopId === shopId);
  /** Opens a funded account, then a deduction leaves it short: the episode starts at that instant. */
  const shortOn = async (shopId: string, deductFen: number) => {
    const input: DepositAccountInput = { shopId, merchantId: 'm-1', shopType: 'individual' };
    const handle = await fast.client.workflow.start('depositAccount', { taskQueue: fast.taskQueue, workflowId: `deposit:${shopId}`, args: [input] });
    await handle.executeUpdate(topUpUpdate, { args: [{ paymentId: `pay-${shopId}`, amountFen: REQUIRED_FEN, actor: 'merchant:m-1' }] });
    await fast.until(() => handle.query(depositStateQuery), (s) => s.funded);
    await handle.executeUpdate(deductUpdate, { args: [{ account: 'deposit', amountFen: deductFen, reason: 'fine', reference: `fine-${shopId}`, actor: 'ops:olga' }] });
    const short = await fast.until(() => handle.query(depositStateQuery), (s) => s.episode !== null);
    return { handle, startedAt: Date.parse(short.episode!.startedAt) };
  };
  const sleepTo = async (instant: number) => fast.env.sleep(instant - (await fast.now()));

  test('each ladder step runs on its day, not before, for the shortfall at the time', async () => {
    const { handle, startedAt } = await shortOn('shop-ladder', 300_00);
    const notified = await fast.until(async () => stepsOf('shop-ladder'), (s) => s.length === 1);
    expect(notified[0]).toMatchObject({ step: 'notify', shortfallFen: 300_00 });

    for (const { step, afterDays } of LADDER.slice(1)) {
      const due = startedAt + afterDays * DAY;
      await sleepTo(due - 60_000);
      expect(stepsOf('shop-ladder').map((s) => s.step)).not.toContain(step);
      await sleepTo(due + 60_000);
      const ran = await fast.until(async () => stepsOf('shop-ladder'), (s) => s.some((c) => c.step === step));
      expect(ran.at(-1)).toMatchObject({ step, shortfallFen: 300_00 });
    }
    const state = await handle.query(depositStateQuery);
    expect(state.episode!.stepsDone).toEqual(LADDER.map((l) => l.step));
    expect(state.restrictions).toEqual(['close_cart', 'stop_listing', 'stop_sales', 'restrict_withdrawals']);
    await handle.terminate('fast test over');
  });

  test('a top-up that makes the deposit whole ends the episode: no later step runs and restrictions lift', async () => {
    const { handle, startedAt } = await shortOn('shop-topup', 500_00);
    await sleepTo(startedAt + 3 * DAY + 60_000);
    await fast.until(async () => stepsOf('shop-topup'), (s) => s.some((c) => c.step === 'close_cart'));
    expect((await handle.query(depositStateQuery)).restrictions).toEqual(['close_cart']);

    await handle.executeUpdate(topUpUpdate, { args: [{ paymentId: 'pay-topup-2', amountFen: 500_00, actor: 'merchant:m-1' }] });
    const whole = await fast.until(() => handle.query(depositStateQuery), (s) => s.episode === null);
    expect(whole).toMatchObject({ balanceFen: REQUIRED_FEN, restrictions: [] });
    expect(fast.stubs.inputsOf('endEpisode')).toContainEqual(expect.objectContaining({ shopId: 'shop-topup', reason: 'restored', balanceFen: REQUIRED_FEN }));

    await sleepTo(startedAt + 20 * DAY);
    expect(stepsOf('shop-topup').map((s) => s.step)).toEqual(['notify', 'transfer_proceeds', 'close_cart']);
    await handle.terminate('fast test over');
  });

  test('a top-up that still leaves it short keeps the episode on its schedule', async () => {
    const { handle, startedAt } = await shortOn('shop-partial', 500_00);
    await handle.executeUpdate(topUpUpdate, { args: [{ paymentId: 'pay-partial-2', amountFen: 200_00, actor: 'merchant:m-1' }] });
    await sleepTo(startedAt + 3 * DAY + 60_000);
    const steps = await fast.until(async () => stepsOf('shop-partial'), (s) => s.some((c) => c.step === 'close_cart'));
    expect(steps.at(-1)).toMatchObject({ step: 'close_cart', shortfallFen: 300_00 });
    expect((await handle.query(depositStateQuery)).episode!.startedAt).toBe(iso(startedAt));
    await handle.terminate('fast test over');
  });

  test('the Web UI shows shortfall, then closing, and a closed shop ends showing closed beside Completed', async () => {
    const { handle } = await shortOn('shop-closed', 500_00);
    const shown = () => statusesOf(fast, handle.workflowId);
    expect(await fast.until(shown, (s) => s.business === 'shortfall')).toEqual({ execution: 'RUNNING', business: 'shortfall' });
    await handle.signal(closureSignal, { event: 'started' });
    expect(await fast.until(shown, (s) => s.business !== 'shortfall')).toEqual({ execution: 'RUNNING', business: 'closing' });
    await handle.signal(closureSignal, { event: 'closed', balanceFen: 0, promotionBalanceFen: 0 });
    expect(await handle.result()).toEqual({ status: 'closed' });
    expect(await shown()).toEqual({ execution: 'COMPLETED', business: 'closed' });
  });
});
