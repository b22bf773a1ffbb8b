import { createShopService, type ShopService } from '../../api/shops/service';
import { createLedger } from '../../db/repositories/ledger';
import { appealUpdate, decideAppealUpdate } from '../../workflows/violation-case.defs';
import { eventually } from '../support/fixtures';
import { depositState, expectLedgerWhole, merchantOf, openShop } from '../support/shops';
import { paymentIdOf } from '../support/payments';
import { startStack, type Stack } from '../support/stack';
import { caseHandle, caseState, openViolation } from '../support/violations';

const FINE = 200_000;

// A case's fine and its return go through the shop's deposit process, whose handlers run
// activities of their own on the same worker. An activity that waited for them would hold a slot
// they need: with every slot so held (here the only one) nothing moves again. The case hands the
// movement over and goes on once the deposit process has accepted it.
describe('a penalty on a worker with one activity slot (time-skipping)', () => {
  let stack: Stack;
  let shops: ShopService;
  beforeAll(async () => {
    stack = await startStack({}, { activitySlots: 1 });
    shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('the fine reaches the ledger, and an upheld appeal returns it, without waiting for a second slot', async () => {
    const merchantId = 'm-one-slot';
    const { shopId } = await openShop(stack, merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 60_000 }) }, merchantOf(merchantId));
    await depositState(stack, shopId, (s) => s.funded);

    const c = await openViolation(stack, { merchantId, shopId, type: 'other', level: 'serious' });
    await caseState(stack, c.caseId, (s) => s.status === 'appealable');
    const fined = await eventually(() => stack.db('violation_cases').where({ id: c.caseId }).first(), (r) => Number(r.fine_deducted_fen) > 0, 60_000);
    expect(Number(fined.fine_deducted_fen)).toBe(FINE);
    // 600 CNY taken from the deposit, 1,400 CNY owed.
    const short = await depositState(stack, shopId, (s) => s.owedFen === FINE - 60_000);
    expect(short).toMatchObject({ balanceFen: 0 });
    await eventually(() => stack.db('violation_events').where({ case_id: c.caseId, type: 'penalty_applied' }).first(), (e) => e !== undefined, 60_000);

    await caseHandle(stack, c.caseId).executeUpdate(appealUpdate, { args: [{ statement: 'the claim was true', actor: `u-${merchantId}` }] });
    const decided = await caseHandle(stack, c.caseId).executeUpdate(decideAppealUpdate, { args: [{ decision: 'upheld', reasons: ['evidence re-examined'], reviewer: 'rui' }] });
    expect(decided.status).toBe('reversed');
    const restored = await depositState(stack, shopId, (s) => s.episode === null && s.owedFen === 0);
    expect(restored.balanceFen).toBe(60_000);
    expect((await createLedger(stack.db).recentLines(shopId)).map((l) => l.kind)).toEqual(expect.arrayContaining(['deduction', 'reversal']));
    await expectLedgerWhole(stack, shopId);
  }, 180_000);
});
