import { settlementPeriod } from '../../domain/settlement';
import { SETTLEMENT_PROCESS, type SettlementHandOver, type SettlementResult } from '../../workflows/settlement.defs';
import { BUSINESS_STATUS, PROCESS_TYPE } from '../../workflows/search-attributes';
import { startFastEnv, statusesOf, type FastEnv } from './support';

describe('monthlySettlement status (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  let release: () => void = () => undefined;
  const hold = () => new Promise<void>((resolve) => (release = resolve));
  let completeHeld = hold();
  beforeAll(async () => {
    fast = await startFastEnv({
      importOrders: async () => ({ pages: 0, events: 0 }),
      startRun: async () => ({ merchantsDone: 0, alreadySettled: false }),
      settlementLanes: async () => [{ after: '', upTo: null }],
      settleBatch: async () => ({ statements: 3, missingRate: [], after: 'm-3', merchantsDone: 3, totals: { netFen: 900_00 }, done: true }),
      payOutStatements: async () => ({ payouts: 2 }),
      completeRun: async () => completeHeld,
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  test('a run started showing running, as the API starts it, ends showing completed beside Completed', async () => {
    const handle = await fast.client.workflow.start('monthlySettlement', {
      taskQueue: fast.taskQueue,
      workflowId: 'settlement:2026-10',
      args: [{ period: '2026-10' }],
      typedSearchAttributes: [
        { key: PROCESS_TYPE, value: SETTLEMENT_PROCESS },
        { key: BUSINESS_STATUS, value: 'running' },
      ],
    });
    await fast.until(async () => fast.stubs.inputsOf('completeRun'), (c) => c.length === 1);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'RUNNING', business: 'running' });
    release();
    expect(await handle.result()).toMatchObject<Partial<SettlementResult>>({ period: '2026-10', statements: 3, payouts: 2, alreadySettled: false });
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'completed' });
  });

  // Temporal gives a scheduled run an id of its own (settlement-scheduled-<fire time>).
  const startScheduled = () =>
    fast.client.workflow.start('monthlySettlement', {
      taskQueue: fast.taskQueue,
      workflowId: `settlement-scheduled-${Date.now()}`,
      args: [{ scheduled: true }],
      typedSearchAttributes: [{ key: PROCESS_TYPE, value: SETTLEMENT_PROCESS }],
    });

  test('a scheduled run settles under settlement:<period>, the id a run by hand has, with its summary', async () => {
    const period = settlementPeriod(new Date()).period;
    const trigger = await startScheduled();
    expect(await trigger.result()).toEqual<SettlementHandOver>({ period, workflowId: `settlement:${period}`, handedOver: 'started' });
    const settlement = fast.client.workflow.getHandle(`settlement:${period}`);
    expect(await settlement.result()).toMatchObject<Partial<SettlementResult>>({ period, statements: 3, payouts: 2 });
    expect(await statusesOf(fast, settlement.workflowId)).toEqual({ execution: 'COMPLETED', business: 'completed' });
    expect(await (await settlement.describe()).staticSummary()).toBe(`settlement · period ${period}`);
  });

  test('a scheduled run while a run by hand settles the period starts nothing more: that run is the period\'s process', async () => {
    const period = settlementPeriod(new Date()).period;
    completeHeld = hold();
    const startsBefore = fast.stubs.inputsOf('startRun').length;
    const byHand = await fast.client.workflow.start('monthlySettlement', {
      taskQueue: fast.taskQueue,
      workflowId: `settlement:${period}`,
      args: [{ period }],
      typedSearchAttributes: [
        { key: PROCESS_TYPE, value: SETTLEMENT_PROCESS },
        { key: BUSINESS_STATUS, value: 'running' },
      ],
    });
    const before = fast.stubs.inputsOf('completeRun').length;
    await fast.until(async () => fast.stubs.inputsOf('completeRun'), (c) => c.length === before + 1);
    const trigger = await startScheduled();
    expect(await trigger.result()).toEqual<SettlementHandOver>({ period, workflowId: `settlement:${period}`, handedOver: 'already_running' });
    release();
    await byHand.result();
    // One run settled the period: the one started by hand.
    expect(fast.stubs.inputsOf('startRun').slice(startsBefore)).toEqual([{ period }]);
  });
});
