import * as workflows from '../../workflows';
import { createActivities, type ActivityDeps } from '../../worker/dependencies';
import { PROCESSES, processOfWorkflowType, routeFactories } from '../../worker/registry';
import { scheduledRuns } from '../../worker/schedules';
import { shopRoutes } from '../../api/shops/router';

const unique = (values: string[]) => new Set(values).size === values.length;

describe('the process registry', () => {
  test('registers exactly the workflows the bundle exports, once each', () => {
    expect(PROCESSES.map((p) => p.workflowType).sort()).toEqual(Object.keys(workflows).sort());
    for (const name of Object.keys(workflows)) expect(processOfWorkflowType(name)?.workflowType).toBe(name);
  });

  test('gives every process its own workflow type, process type, id space and replay prefix', () => {
    expect(unique(PROCESSES.map((p) => p.workflowType))).toBe(true);
    expect(unique(PROCESSES.map((p) => p.processType))).toBe(true);
    expect(unique(PROCESSES.map((p) => p.workflowId('k')))).toBe(true);
    // No prefix is the start of another, so a history file maps to one process only.
    for (const a of PROCESSES) for (const b of PROCESSES) if (a !== b) expect(b.replayPrefix.startsWith(a.replayPrefix)).toBe(false);
  });

  test('every schedule belongs to one process and has its own id', () => {
    const runs = scheduledRuns();
    expect(runs.map((r) => r.workflowType).sort()).toEqual(['afterSalesEscalation', 'catalogueSync', 'catalogueSync', 'catalogueSync', 'depositReassessment', 'fulfilmentScan', 'monthlySettlement', 'orderImport', 'orderPartitions', 'qualificationCheck']);
    expect(unique(runs.map((r) => r.schedule.scheduleId))).toBe(true);
  });

  test('the worker registers every process’s activities, and two processes cannot claim one name', () => {
    const deps = { db: {}, platform: {}, partners: {}, partnerSettings: { secretsKey: Buffer.alloc(32, 1).toString('base64') }, calendar: {}, policy: {}, depositPolicy: {}, settlementThresholds: {} } as unknown as ActivityDeps;
    const activities = createActivities(deps);
    // One from each group, including the one the re-assessment calls through the deposit group.
    for (const name of ['openCase', 'reassessShops', 'recordClosureStatus', 'settleBatch', 'importOrders', 'applyViolationPenalty']) {
      expect(typeof activities[name]).toBe('function');
    }
    const twice = PROCESSES.filter((p) => p.activities).slice(0, 1);
    expect(() => createActivities(deps, [...twice, ...twice])).toThrow(/two activity groups define/);
  });

  test('mounts each route factory once, though three processes share the shop routes', () => {
    const factories = routeFactories();
    expect(factories.filter((f) => f === shopRoutes)).toHaveLength(1);
    expect(PROCESSES.filter((p) => p.routes === shopRoutes).map((p) => p.workflowType).sort()).toEqual(['depositAccount', 'promotionClosure', 'shopClosure']);
  });
});
