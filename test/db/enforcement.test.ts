import { keysetQuery } from '../../db/keyset';
import { countsQuery, createEnforcementRepository, ordersToRefundQuery, REFUND_LIST_ORDER, refundListQuery } from '../../db/repositories/enforcement';
import { createTestDb, type TestDb } from '../support/db';
import { seedEnforcedShop } from '../support/enforcement';

/** The enforcement tables hold their rules whoever writes: one answer per order, outcomes whole, maker ≠ checker. */
describe('enforcement tables', () => {
  let t: TestDb;
  const shop = { shopId: 'shop-enf-db', merchantId: 'm-enf-db' };
  beforeAll(async () => {
    t = await createTestDb();
    await seedEnforcedShop(t.db, shop, 5);
    const actions = createEnforcementRepository(t.db);
    for (const id of ['enf_1', 'enf_2']) {
      await actions.insertAction({ id, shop_id: shop.shopId, merchant_id: shop.merchantId, reason: 'forged_brand_authorisation', evidence: 'letter', opened_by: 'olga', workflow_id: `enforcement:${id}` });
    }
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const refund = (orderId: string) => ({ orderId, amountFen: 100, outcome: 'refunded' as const, platformRefundId: `r-${orderId}`, refundedAt: '2026-12-01T00:00:00.000Z' });

  test('an order is answered once across actions: the second action records nothing for it, and no later walk selects it', async () => {
    const actions = createEnforcementRepository(t.db);
    expect(await actions.countOrdersToRefund(shop.shopId)).toBe(5);
    expect(await actions.recordPage('enf_1', 1, [refund('eo-shop-enf-db-0000001')])).toEqual({ refunded: 1, refused: 0 });
    expect(await actions.recordPage('enf_2', 1, [refund('eo-shop-enf-db-0000001')])).toEqual({ refunded: 0, refused: 0 });
    expect(await t.db('enforcement_refunds').where({ order_id: 'eo-shop-enf-db-0000001' }).pluck('action_id')).toEqual(['enf_1']);
    // `orders` is the order feed's to write: the order stays as the last import left it…
    expect(await t.db('orders').where({ id: 'eo-shop-enf-db-0000001' }).first()).toMatchObject({ status: 'receipt_confirmed', refunded_at: null });
    // …and is skipped all the same: its refund row says it is answered for.
    expect(await actions.countOrdersToRefund(shop.shopId)).toBe(4);
    expect((await actions.ordersToRefund(shop.shopId, '', 10)).map((o) => o.orderId)).not.toContain('eo-shop-enf-db-0000001');
    expect(await actions.counts('enf_1', shop.shopId)).toEqual({ refunded: 1, refused: 0, open: 4 });
  });

  test.each([
    ['refunded without a platform refund id', { state: 'refunded', platform_refund_id: null, refunded_at: new Date() }],
    ['refunded with a reason code', { state: 'refunded', platform_refund_id: 'r', refunded_at: new Date(), reason_code: 'order_unknown' }],
    ['refused without a reason code', { state: 'refused' }],
    ['refused with a platform refund id', { state: 'refused', reason_code: 'order_unknown', platform_refund_id: 'r' }],
    ['an amount of 0', { state: 'refused', reason_code: 'order_unknown', amount_fen: 0 }],
  ])('refuses a row %s', async (_name, row) => {
    await expect(t.db('enforcement_refunds').insert({ order_id: 'eo-shop-enf-db-0000002', action_id: 'enf_1', amount_fen: 100, ...row })).rejects.toMatchObject({ code: '23514' });
  });

  /** The plan with scans that read a whole table (or a whole index by bitmap) priced out: the seed is tiny. */
  async function planOf(sql: { toString(): string }): Promise<string> {
    return t.db.transaction(async (trx) => {
      for (const setting of ['enable_seqscan', 'enable_bitmapscan', 'enable_sort']) await trx.raw(`SET LOCAL ${setting} = off`);
      const { rows } = (await trx.raw(`EXPLAIN ${sql.toString()}`)) as { rows: Array<{ 'QUERY PLAN': string }> };
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
  }

  test.each([
    ["an action's progress (counts by state)", () => countsQuery(t.db, 'enf_1', shop.shopId)],
    ["an action's refund list, unfiltered, a page after a cursor", () => keysetQuery(t.db, refundListQuery(t.db, { actionId: 'enf_1' }), REFUND_LIST_ORDER, ['eo-shop-enf-db-0000001'], 50)],
  ])("%s reads one action's rows from enforcement_refunds_by_action, without sorting", async (_name, build) => {
    const plan = await planOf(build());
    expect(plan).toContain('enforcement_refunds_by_action');
    // Without the index the only way left is a scan of every action's rows (disabled, yet chosen).
    expect(plan).not.toMatch(/Seq Scan/);
    expect(plan).not.toMatch(/\bSort\b/);
  });

  test("the walk's next page reads the shop's orders by orders_by_shop and checks each against enforcement_refunds_pkey, without sorting", async () => {
    const plan = await planOf(ordersToRefundQuery(t.db, shop.shopId, 'eo-shop-enf-db-0000001', 50));
    // Each month's partition carries orders_by_shop under its own name (orders_2026_10_shop_id_id_idx),
    // merged in id order without a sort.
    expect(plan).toMatch(/orders_by_shop|orders_\w+_shop_id_id_idx/);
    expect(plan).toContain('enforcement_refunds_pkey');
    // A Sort node, not the Merge Append's own "Sort Key".
    expect(plan).not.toMatch(/\bSort\s+\(cost/);
  });

  test('the maker can neither approve nor reject, and no action refunds before approval', async () => {
    await expect(t.db('enforcement_actions').where({ id: 'enf_2' }).update({ approved_by: 'olga' })).rejects.toMatchObject({ constraint: 'enforcement_actions_maker_checker' });
    await expect(t.db('enforcement_actions').where({ id: 'enf_2' }).update({ rejected_by: 'olga' })).rejects.toMatchObject({ constraint: 'enforcement_actions_rejecter_not_maker' });
    await expect(t.db('enforcement_actions').where({ id: 'enf_2' }).update({ state: 'refunding' })).rejects.toMatchObject({ constraint: 'enforcement_actions_approved_to_act' });
    await t.db('enforcement_actions').where({ id: 'enf_2' }).update({ approved_by: 'pan', state: 'refunding' });
  });
});
