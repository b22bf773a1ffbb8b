import { createSettlementQueries } from '../../db/repositories/settlement/queries';
import { createStatementRepository } from '../../db/repositories/settlement/statements';
import { createViolationRepository } from '../../db/repositories/violations';
import { createTestDb, type TestDb } from '../support/db';

const THRESHOLDS = { unionFen: 10_000, shopFen: 10_000 };
const shanghai = (local: string) => new Date(`${local}+08:00`);
const HOUR = 3_600_000;

describe('forfeiture of unsettled commission', () => {
  let t: TestDb;
  let statements: ReturnType<typeof createStatementRepository>;
  let queries: ReturnType<typeof createSettlementQueries>;
  const settle = (merchantId: string, period: string) => statements.settleMerchantRange(period, `${merchantId}`.slice(0, -1), merchantId, THRESHOLDS);

  beforeAll(async () => {
    t = await createTestDb();
    statements = createStatementRepository(t.db);
    queries = createSettlementQueries(t.db);
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const sell = (merchantId: string, id: string, amountFen: number, receivedAt: Date) =>
    t.db('orders').insert({
      id, merchant_id: merchantId, shop_id: `shop-${merchantId}`, category: 'apparel', amount_fen: amountFen,
      status: 'receipt_confirmed', paid_at: new Date(receivedAt.getTime() - 86_400_000), receipt_confirmed_at: receivedAt,
    });
  const flag = (merchantId: string, caseId: string, hoursAgo: number) =>
    t.db('merchant_flags').insert({ merchant_id: merchantId, flag: 'forfeit_unsettled', since: new Date(Date.now() - hoursAgo * HOUR), case_id: caseId });

  test('a refund of a line whose commission was forfeited takes nothing back; an upheld appeal then pays back the rest', async () => {
    // October: two apparel lines (13% fees), 100,000 and 50,000 fen; net 87,000 + 43,500, all forfeited.
    await sell('fa-1', 'fa-1-a', 100_000, shanghai('2026-10-10T10:00:00'));
    await sell('fa-1', 'fa-1-b', 50_000, shanghai('2026-10-11T10:00:00'));
    await flag('fa-1', 'case-fa-1', 1);
    await settle('fa-1', '2026-10');
    expect(await queries.statement('fa-1', '2026-10')).toMatchObject({ forfeitedFen: 130_500, netFen: 0, payoutFen: 0 });

    // Refunded in November: nothing was paid for it, so November takes nothing back.
    await t.db('orders').where({ id: 'fa-1-b' }).update({ status: 'refunded', refunded_at: shanghai('2026-11-03T10:00:00') });
    await settle('fa-1', '2026-11');
    expect(await queries.statement('fa-1', '2026-11')).toMatchObject({ refundsFen: 0, netFen: 0, carriedOutFen: 0, lineCount: 1 });

    // The appeal upheld: what is paid back is the commission of the line that was not refunded.
    const restored = await createViolationRepository(t.db).restoreForfeitFlag('case-fa-1', new Date());
    expect(restored).toEqual({ consumedPeriod: '2026-10', forfeitedFen: 87_000 });
  });

  test('two flags used by one statement record the forfeiture once; it is paid back once, when both appeals are upheld', async () => {
    await sell('fb-1', 'fb-1-a', 100_000, shanghai('2026-10-10T10:00:00'));
    await flag('fb-1', 'case-fb-1', 2);
    await flag('fb-1', 'case-fb-2', 1);
    await settle('fb-1', '2026-10');
    expect(await queries.statement('fb-1', '2026-10')).toMatchObject({ forfeitedFen: 87_000, netFen: 0 });
    const shares = await t.db('merchant_flags').where({ merchant_id: 'fb-1' }).orderBy('since').pluck('forfeited_fen');
    expect(shares.map(Number)).toEqual([87_000, 0]);

    const violations = createViolationRepository(t.db);
    // The first appeal upheld: the other flag alone still forfeits the whole net.
    expect(await violations.restoreForfeitFlag('case-fb-1', new Date())).toEqual({ consumedPeriod: '2026-10', forfeitedFen: 0 });
    expect(await violations.restoreForfeitFlag('case-fb-1', new Date())).toEqual({ consumedPeriod: '2026-10', forfeitedFen: 0 });
    // The second one upheld: the whole forfeiture, once.
    expect(await violations.restoreForfeitFlag('case-fb-2', new Date())).toEqual({ consumedPeriod: '2026-10', forfeitedFen: 87_000 });
    expect(await violations.restoreForfeitFlag('case-fb-2', new Date())).toEqual({ consumedPeriod: '2026-10', forfeitedFen: 87_000 });
    const after = await t.db('merchant_flags').where({ merchant_id: 'fb-1' }).orderBy('since').select('forfeited_fen', 'restored_fen');
    expect(after.map((f) => [Number(f.forfeited_fen), Number(f.restored_fen)])).toEqual([[0, 0], [87_000, 87_000]]);
  });

  test('two flags upheld in the other order pay back the whole forfeiture once too', async () => {
    await sell('fc-1', 'fc-1-a', 100_000, shanghai('2026-10-10T10:00:00'));
    await flag('fc-1', 'case-fc-1', 2);
    await flag('fc-1', 'case-fc-2', 1);
    await settle('fc-1', '2026-10');
    const violations = createViolationRepository(t.db);
    const answers = [await violations.restoreForfeitFlag('case-fc-2', new Date()), await violations.restoreForfeitFlag('case-fc-1', new Date())];
    expect(answers.map((a) => a?.forfeitedFen)).toEqual([0, 87_000]);
  });
});
