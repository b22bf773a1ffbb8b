import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import { requestShopClosure } from '../../activities/shop-closure-start';
import { createShopRepository } from '../../db/repositories/shops';
import { ClosureAlreadyActive, ErrorType, ShopAlreadyClosed } from '../../domain/errors';
import { CLOSURE_PROCESS, CLOSURE_WORKFLOW_TYPE } from '../../workflows/shop-closure.defs';
import { createTestDb, type TestDb } from '../support/db';

/**
 * The one function that starts a shop closure, for the API and a ban alike: its refusals are
 * domain errors (no HTTP status), and a start that fails leaves no active row behind.
 * Temporal is a fake here: only the start request it receives matters, and the refusals
 * before it must not reach it at all.
 */
describe('requestShopClosure', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  async function shop(shopId: string, status: 'open' | 'closed' = 'open') {
    await t.db('merchants').insert({ id: `m-${shopId}`, entity_type: 'individual', legal_name: 'x' });
    await t.db('shops').insert({ id: shopId, merchant_id: `m-${shopId}`, shop_type: 'individual', opened_by_case_id: `vc-${shopId}` });
    if (status === 'closed') await t.db('shops').where({ id: shopId }).update({ status });
  }

  /** A Temporal client whose start answers with `answer`; the requests it received. */
  function temporalStarting(answer: () => Promise<unknown>) {
    const starts: Array<{ type: string; options: WorkflowStartOptions }> = [];
    const client = {
      workflow: {
        start: (type: string, options: WorkflowStartOptions) => {
          starts.push({ type, options });
          return answer();
        },
        getHandle: () => ({ query: () => Promise.reject(new Error('no state')) }),
      },
    } as unknown as Client;
    return { client, starts };
  }
  const closuresOf = (shopId: string) => t.db('shop_closures').where({ shop_id: shopId }).orderBy('requested_at');

  it('records the closure, then starts its process with the ban case, the policies and the search attributes', async () => {
    await shop('s-start');
    const { client, starts } = temporalStarting(() => Promise.resolve({}));
    const started = await requestShopClosure(
      { db: t.db, temporal: client, taskQueue: 'q' },
      { shopId: 's-start', requestedBy: 'admin:violation:vc-9', penaltyCaseId: 'vc-9' },
    );
    expect(started).toEqual({ closureId: expect.stringMatching(/^cl_[0-9a-f]{24}$/), workflowId: 'closure:s-start', status: 'requested' });
    const [row] = await closuresOf('s-start');
    expect(row).toMatchObject({ id: started.closureId, status: 'requested', requested_by: 'admin:violation:vc-9', details: { penaltyCaseId: 'vc-9' } });
    expect(starts).toHaveLength(1);
    expect(starts[0]?.type).toBe(CLOSURE_WORKFLOW_TYPE);
    expect(starts[0]?.options).toMatchObject({
      workflowId: 'closure:s-start',
      taskQueue: 'q',
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      args: [{ closureId: started.closureId, shopId: 's-start', merchantId: 'm-s-start', requestedBy: 'admin:violation:vc-9', penaltyCaseId: 'vc-9' }],
    });
    expect(starts[0]?.options.typedSearchAttributes).toEqual(
      expect.arrayContaining([expect.objectContaining({ value: CLOSURE_PROCESS }), expect.objectContaining({ value: 'waiting' })]),
    );
  });

  it('refuses a closed shop with ShopAlreadyClosed, before any row or start', async () => {
    await shop('s-closed', 'closed');
    const { client, starts } = temporalStarting(() => Promise.resolve({}));
    const refusal = requestShopClosure({ db: t.db, temporal: client, taskQueue: 'q' }, { shopId: 's-closed', requestedBy: 'ops:o' });
    await expect(refusal).rejects.toBeInstanceOf(ShopAlreadyClosed);
    await expect(refusal).rejects.toMatchObject({ type: ErrorType.ShopAlreadyClosed, message: 'shop s-closed is already closed' });
    expect(await closuresOf('s-closed')).toEqual([]);
    expect(starts).toEqual([]);
  });

  it('refuses a second closure with ClosureAlreadyActive naming the active one, and starts nothing', async () => {
    await shop('s-twice');
    const { client, starts } = temporalStarting(() => Promise.resolve({}));
    const first = await requestShopClosure({ db: t.db, temporal: client, taskQueue: 'q' }, { shopId: 's-twice', requestedBy: 'merchant:m' });
    const second = requestShopClosure({ db: t.db, temporal: client, taskQueue: 'q' }, { shopId: 's-twice', requestedBy: 'ops:o' });
    await expect(second).rejects.toBeInstanceOf(ClosureAlreadyActive);
    await expect(second).rejects.toMatchObject({ type: ErrorType.ClosureAlreadyActive, activeClosureId: first.closureId });
    expect((await closuresOf('s-twice')).map((c: { id: string }) => c.id)).toEqual([first.closureId]);
    expect(starts).toHaveLength(1);
  });

  it('a process already running (not ending) is ClosureAlreadyActive, and its row is cancelled', async () => {
    await shop('s-running');
    const { client } = temporalStarting(() => Promise.reject(new WorkflowExecutionAlreadyStartedError('started', 'closure:s-running', 'shopClosure')));
    await expect(requestShopClosure({ db: t.db, temporal: client, taskQueue: 'q' }, { shopId: 's-running', requestedBy: 'ops:o' })).rejects.toBeInstanceOf(
      ClosureAlreadyActive,
    );
    expect(await closuresOf('s-running')).toEqual([expect.objectContaining({ status: 'cancelled' })]);
  });

  it('a start that fails otherwise rethrows it and cancels its row, so the next request may start', async () => {
    await shop('s-flaky');
    const down = temporalStarting(() => Promise.reject(new Error('temporal unavailable')));
    await expect(requestShopClosure({ db: t.db, temporal: down.client, taskQueue: 'q' }, { shopId: 's-flaky', requestedBy: 'ops:o' })).rejects.toThrow(
      'temporal unavailable',
    );
    expect(await createShopRepository(t.db).latestClosureOf('s-flaky')).toMatchObject({ status: 'cancelled', details: { error: 'the closure process could not start' } });
    const up = temporalStarting(() => Promise.resolve({}));
    const again = await requestShopClosure({ db: t.db, temporal: up.client, taskQueue: 'q' }, { shopId: 's-flaky', requestedBy: 'ops:o' });
    expect(await createShopRepository(t.db).latestClosureOf('s-flaky')).toMatchObject({ id: again.closureId, status: 'requested' });
  });
});
