import type { TypedSearchAttributes } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureSchedules } from '../../worker/schedules';
import { depositReassessmentProcess, REASSESSMENT_SCHEDULE_ID } from '../../workflows/deposit-reassessment.defs';
import { SETTLEMENT_SCHEDULE_ID } from '../../workflows/settlement.defs';
import { ORDER_IMPORT_SCHEDULE_ID } from '../../workflows/order-import.defs';
import { QUALIFICATION_CHECK_SCHEDULE_ID } from '../../workflows/qualification-check.defs';
import { catalogueSyncScheduleId } from '../../workflows/catalogue-sync.defs';
import { ORDER_PARTITIONS_SCHEDULE_ID } from '../../workflows/order-partitions.defs';
import { ensureSearchAttributes } from '../../worker/search-attributes';
import { PROCESS_TYPE } from '../../workflows/search-attributes';
import { temporalCliPath } from '../support/temporal';

// Schedules need a real Temporal server: the time-skipping one has none. The dev server
// from the temporal CLI starts in a few seconds, in memory.
describe('the schedules', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: temporalCliPath() }, ui: false, extraArgs: ['--log-level', 'error'] },
    });
    await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('fires at 03:00 on the 1st, Shanghai time, skips overlaps and catches up a day; creating it twice is harmless', async () => {
    await ensureSchedules(env.client, 'merchant-ops');
    await ensureSchedules(env.client, 'merchant-ops');
    const described = await env.client.schedule.getHandle(REASSESSMENT_SCHEDULE_ID).describe();

    expect(described.spec.timezone).toBe('Asia/Shanghai');
    expect(depositReassessmentProcess.schedules?.[0]?.spec.calendars).toEqual([{ dayOfMonth: 1, hour: 3, minute: 0 }]);
    expect(described.policies.overlap).toBe('SKIP');
    expect(described.policies.catchupWindow).toBe(24 * 60 * 60 * 1000);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'depositReassessment', taskQueue: 'merchant-ops' });

    const next = described.info.nextActionTimes.map((d) => d.toISOString());
    expect(next.length).toBeGreaterThanOrEqual(2);
    for (const at of next) {
      // 03:00 on the 1st in Shanghai is 19:00 UTC on the last day of the month before.
      const shanghai = new Date(Date.parse(at) + 8 * 60 * 60 * 1000);
      expect([shanghai.getUTCDate(), shanghai.getUTCHours(), shanghai.getUTCMinutes()]).toEqual([1, 3, 0]);
    }
  });

  test('settlement fires at 02:00 on the 20th, Shanghai time, skips overlaps and catches up missed runs within a week', async () => {
    await ensureSchedules(env.client, 'merchant-ops');
    const described = await env.client.schedule.getHandle(SETTLEMENT_SCHEDULE_ID).describe();
    expect(described.spec.timezone).toBe('Asia/Shanghai');
    expect(described.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 7 * 24 * 60 * 60 * 1000 });
    // Each run hands its period to settlement:<period> (test/fast/settlement.fast.test.ts), and says so in the Web UI.
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'monthlySettlement', args: [{ scheduled: true }] });
    expect(described.action.staticSummary).toMatch(/^settlement · scheduled: starts settlement:/);
    for (const at of described.info.nextActionTimes) {
      const shanghai = new Date(at.getTime() + 8 * 60 * 60 * 1000);
      expect([shanghai.getUTCDate(), shanghai.getUTCHours(), shanghai.getUTCMinutes()]).toEqual([20, 2, 0]);
    }
  });

  test('the order import fires every 5 minutes, one run at a time, and catches up only the last missed run', async () => {
    await ensureSchedules(env.client, 'merchant-ops');
    const described = await env.client.schedule.getHandle(ORDER_IMPORT_SCHEDULE_ID).describe();
    expect(described.spec.intervals).toEqual([expect.objectContaining({ every: 5 * 60 * 1000 })]);
    expect(described.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 5 * 60 * 1000 });
    expect(described.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'orderImport',
      workflowId: 'order-import:platform',
      taskQueue: 'merchant-ops',
      args: [{}],
      staticSummary: 'order-import · scheduled',
    });
    expect((described.action.typedSearchAttributes as TypedSearchAttributes).get(PROCESS_TYPE)).toBe('order-import');
    const next = described.info.nextActionTimes.map((d) => d.getTime());
    expect(next.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < next.length; i++) expect(next[i]! - next[i - 1]!).toBe(5 * 60 * 1000);
  });

  test('the qualification check fires at 04:00 on the 1st, Shanghai time, skips overlaps and catches up within a week', async () => {
    await ensureSchedules(env.client, 'merchant-ops');
    const described = await env.client.schedule.getHandle(QUALIFICATION_CHECK_SCHEDULE_ID).describe();
    expect(described.spec.timezone).toBe('Asia/Shanghai');
    expect(described.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 7 * 24 * 60 * 60 * 1000 });
    // Each run hands its month to qualification-check:<month> (test/fast/qualification-check.fast.test.ts).
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'qualificationCheck', taskQueue: 'merchant-ops', args: [{ scheduled: true }] });
    expect((described.action.typedSearchAttributes as TypedSearchAttributes).get(PROCESS_TYPE)).toBe('qualification-check');
    const next = described.info.nextActionTimes;
    expect(next.length).toBeGreaterThanOrEqual(2);
    for (const at of next) {
      const shanghai = new Date(at.getTime() + 8 * 60 * 60 * 1000);
      expect([shanghai.getUTCDate(), shanghai.getUTCHours(), shanghai.getUTCMinutes()]).toEqual([1, 4, 0]);
    }
  });

  test('the order partitions fire at 03:00 on the 1st, Shanghai time, one run at a time, caught up within a week', async () => {
    await ensureSchedules(env.client, 'merchant-ops');
    const described = await env.client.schedule.getHandle(ORDER_PARTITIONS_SCHEDULE_ID).describe();
    expect(described.spec.timezone).toBe('Asia/Shanghai');
    expect(described.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 7 * 24 * 60 * 60 * 1000 });
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'orderPartitions', workflowId: 'order-partitions:orders', args: [{}] });
    expect((described.action.typedSearchAttributes as TypedSearchAttributes).get(PROCESS_TYPE)).toBe('order-partitions');
    for (const at of described.info.nextActionTimes) {
      const shanghai = new Date(at.getTime() + 8 * 60 * 60 * 1000);
      expect([shanghai.getUTCDate(), shanghai.getUTCHours(), shanghai.getUTCMinutes()]).toEqual([1, 3, 0]);
    }
  });

  test.each([
    ['base', [2, 8, 14, 20], [0]],
    ['inventory', Array.from({ length: 24 }, (_, h) => h), [0]],
    ['promo', [9, 21], [30]],
  ] as const)('the %s catalogue sync fires at its Shanghai hours, one run at a time', async (kind, hours, minutes) => {
    await ensureSchedules(env.client, 'merchant-ops');
    const described = await env.client.schedule.getHandle(catalogueSyncScheduleId(kind)).describe();
    expect(described.spec.timezone).toBe('Asia/Shanghai');
    expect(described.policies.overlap).toBe('SKIP');
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'catalogueSync', workflowId: `catalogue-sync:${kind}`, args: [{ kind, startedBy: 'schedule' }] });
    expect((described.action.typedSearchAttributes as TypedSearchAttributes).get(PROCESS_TYPE)).toBe('catalogue-sync');
    const next = described.info.nextActionTimes;
    expect(next.length).toBeGreaterThanOrEqual(2);
    for (const at of next) {
      const shanghai = new Date(at.getTime() + 8 * 60 * 60 * 1000);
      expect(hours).toContain(shanghai.getUTCHours());
      expect(minutes).toContain(shanghai.getUTCMinutes());
    }
  });
});
