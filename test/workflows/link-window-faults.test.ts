import { ApplicationFailure } from '@temporalio/common';
import { createLinkWindowService, type LinkWindowService } from '../../api/link-windows/service';
import { shanghaiDate } from '../../domain/calendar';
import { ErrorType } from '../../domain/errors';
import { closingInstant } from '../../domain/link-windows';
import type { PartnerLinksChange, PlatformClient } from '../../platform/types';
import { linkWindowStateQuery, type LinkWindowState } from '../../workflows/link-window.defs';
import { eventually } from '../support/fixtures';
import { bindStore, linksTakenDownEarlier } from '../support/link-windows';
import { startStack, type Stack } from '../support/stack';

const DAY = 24 * 60 * 60 * 1000;
const ops = { sub: 'olga', role: 'ops' as const };

interface Sent {
  shopId: string;
  key: string;
  change: PartnerLinksChange;
}
/** Runs before a call reaches the platform (throw: the call never arrives), or after it acted (throw: its answer is lost). */
interface Fault {
  before?: (s: Sent) => Promise<void>;
  after?: (s: Sent) => Promise<void>;
}

/**
 * Link windows under the faults a review found: a product re-listed during a pass, answers
 * lost, take-downs refused, a cancel while open, windows re-publishing each other's links.
 * Every call the platform carried out is counted per link (`linkIds`, not only set changes).
 */
describe('link windows under faults (time-skipping)', () => {
  let stack: Stack;
  let windows: LinkWindowService;
  let fault: Fault = {};
  const sent: Sent[] = [];
  beforeAll(async () => {
    stack = await startStack({}, {
      wrapPlatform: (p: PlatformClient): PlatformClient => ({
        ...p,
        async setPartnerLinks(shopId, change, key) {
          const s = { shopId, key, change };
          await fault.before?.(s);
          const answer = await p.setPartnerLinks(shopId, change, key);
          sent.push(s);
          await fault.after?.(s);
          return answer;
        },
      }),
    });
    windows = createLinkWindowService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE, updateWaitMs: 10_000 });
  });
  afterEach(() => {
    fault = {};
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const now = async () => new Date(Number(await stack.env.currentTimeMs()));
  const dateIn = (at: Date, days: number) => shanghaiDate(new Date(at.getTime() + days * DAY));
  const store = async (merchantId: string, platform: 'jd' | 'taobao' | 'tmall' | 'youzan' | 'pinduoduo', storeId: string) => ({ ...(await bindStore(stack.db, merchantId, platform, storeId)), merchantId, platform, storeId });
  const liveOnPlatform = (shopId: string) => [...(stack.sandbox.state.shops.get(shopId)?.partnerLinks ?? [])];
  /** How many calls the platform carried out for each link and action (a replay is not carried out). */
  const carriedOut = (shopIds: string[], action: 'publish' | 'take_down') => {
    const counts = new Map<string, number>();
    for (const shopId of shopIds) for (const c of stack.sandbox.state.shops.get(shopId)?.partnerLinkChanges ?? []) if (c.action === action) for (const id of c.linkIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  };
  const openToday = async (partner: 'jd' | 'taobao' | 'tmall' | 'youzan' | 'pinduoduo', linkKind: 'union_product' | 'short_video_live' | 'self_operated', days = 1) => {
    const today = await now();
    return windows.create({ partner, linkKind, opensOn: dateIn(today, 0), closesOn: dateIn(today, days), phases: [], source: 'test' }, ops, today);
  };
  const resultOf = (workflowId: string) => stack.env.client.workflow.getHandle(workflowId).result() as Promise<LinkWindowState>;

  test('a product re-listed while the opening pass restores its old link: no link stays live unknown', async () => {
    const a = await store('m-f-relist', 'jd', 'jd-f-relist');
    await linksTakenDownEarlier(stack.db, a, 'self_operated', 3);
    let relisting: Promise<unknown> | undefined;
    fault.before = async ({ change }) => {
      if (change.action !== 'publish' || relisting) return;
      relisting = windows.listLink({ bindingId: a.bindingId, linkKind: 'self_operated', productId: 'p-0', url: 'https://item.jd.com/0.html' }, { sub: 'u', role: 'merchant', merchantId: a.merchantId }, await now()).catch((err: unknown) => err);
      await relisting;
    };
    const w = await openToday('jd', 'self_operated');
    const final = await resultOf(w.workflowId);
    expect(final.status).toBe('closed');
    expect(liveOnPlatform(a.shopId)).toEqual([]);
    const rows = (await stack.db('partner_links').where({ binding_id: a.bindingId }).select('status')) as Array<{ status: string }>;
    expect(rows.filter((r) => r.status !== 'down')).toEqual([]);
  }, 120_000);

  test('a claimed link changed by someone else during its call is taken down again, not left live unknown', async () => {
    const a = await store('m-f-undo', 'jd', 'jd-f-undo');
    const ids = await linksTakenDownEarlier(stack.db, a, 'short_video_live', 4);
    let changed = false;
    fault.after = async ({ change }) => {
      if (change.action !== 'publish' || changed) return;
      changed = true;
      await stack.db('partner_links').where({ id: ids[0] }).update({ status: 'refused', claim_key: null, claimed_by: null, failed_action: 'publish', refusal: 'withdrawn by ops' });
    };
    const w = await openToday('jd', 'short_video_live');
    expect(await resultOf(w.workflowId)).toMatchObject({ status: 'closed', progress: { published: 3, takenDown: 3 } });
    expect(liveOnPlatform(a.shopId)).toEqual([]);
    expect(carriedOut([a.shopId], 'take_down').get(ids[0]!)).toBe(1);
  }, 120_000);

  test('an answer lost mid-pass: the retry re-sends the same group under the same key, each link published and taken down once', async () => {
    const a = await store('m-f-keys-a', 'taobao', 'tb-f-keys-a');
    const b = await store('m-f-keys-b', 'taobao', 'tb-f-keys-b');
    const ids = [...(await linksTakenDownEarlier(stack.db, a, 'union_product', 150)), ...(await linksTakenDownEarlier(stack.db, b, 'union_product', 100))];
    let calls = 0;
    fault.after = async () => {
      calls += 1;
      if (calls === 2 || calls === 4) throw ApplicationFailure.retryable('answer lost', ErrorType.PlatformUnavailable);
    };
    const first = await openToday('taobao', 'union_product');
    const final = await resultOf(first.workflowId);
    expect(final.progress).toMatchObject({ published: 250, takenDown: 250, remaining: 0 });
    const keysOf = new Map<string, Set<string>>();
    for (const s of sent.filter((x) => x.change.action === 'publish' && ids.includes(x.change.linkIds[0]!))) for (const id of s.change.linkIds) keysOf.set(id, (keysOf.get(id) ?? new Set()).add(s.key));
    expect([...keysOf.values()].filter((k) => k.size !== 1)).toEqual([]);
    const published = carriedOut([a.shopId, b.shopId], 'publish');
    const takenDown = carriedOut([a.shopId, b.shopId], 'take_down');
    expect(ids.filter((id) => published.get(id) !== 1)).toEqual([]);
    expect(ids.filter((id) => takenDown.get(id) !== 1)).toEqual([]);

    // A later window puts the same links live again: the first window's counts are its own.
    const second = await openToday('taobao', 'union_product');
    expect((await resultOf(second.workflowId)).progress).toMatchObject({ published: 250, takenDown: 250 });
    expect((await windows.view(first.windowId)).progress).toMatchObject({ published: 250, takenDown: 250, live: 0, toPublish: 0 });
  }, 180_000);

  test('a refused take-down keeps the window closing in needs_attention until ops retry and the links are down', async () => {
    const a = await store('m-f-refuse', 'tmall', 'tm-f-refuse');
    await linksTakenDownEarlier(stack.db, a, 'short_video_live', 5);
    let refusals = 0;
    fault.before = async ({ change }) => {
      if (change.action === 'take_down' && refusals === 0) {
        refusals += 1;
        throw ApplicationFailure.nonRetryable('POST partner-links failed with 409 (link_locked)', ErrorType.PlatformRejected, { status: 409, body: { error: 'link_locked' } });
      }
    };
    const w = await openToday('tmall', 'short_video_live');
    const handle = stack.env.client.workflow.getHandle(w.workflowId);
    await eventually(() => windows.view(w.windowId), (v) => v.progress.live === 5, 30_000);
    await stack.env.sleep(closingInstant(w)!.getTime() + 60_000 - (await now()).getTime());
    const waiting = await eventually(() => handle.query(linkWindowStateQuery), (s) => s.attention !== null, 60_000);
    expect(waiting.attention).toMatchObject({ step: 'takeDownWindowLinks' });
    expect(waiting.status).toBe('closing');
    expect((await windows.view(w.windowId)).status).toBe('closing');
    expect(liveOnPlatform(a.shopId)).toHaveLength(5);
    await expect(windows.resolveAttention(w.windowId, { action: 'abandon', note: 'give up' }, ops)).rejects.toMatchObject({ status: 409 });
    await windows.resolveAttention(w.windowId, { action: 'retry', note: 'platform unlocked them' }, ops);
    const final = await handle.result();
    expect(final).toMatchObject({ status: 'closed', progress: { takenDown: 5 } });
    expect(liveOnPlatform(a.shopId)).toEqual([]);
  }, 120_000);

  test('a 403 on publish is the whole pass: attention, not links refused one by one', async () => {
    const a = await store('m-f-403', 'pinduoduo', 'pdd-f-403');
    await linksTakenDownEarlier(stack.db, a, 'union_product', 2);
    let denied = 0;
    fault.before = async ({ change }) => {
      if (change.action === 'publish' && denied === 0) {
        denied += 1;
        throw ApplicationFailure.nonRetryable('POST partner-links failed with 403', ErrorType.PlatformRejected, { status: 403, body: {} });
      }
    };
    const w = await openToday('pinduoduo', 'union_product');
    const handle = stack.env.client.workflow.getHandle(w.workflowId);
    await eventually(() => handle.query(linkWindowStateQuery), (s) => s.attention !== null, 60_000);
    expect((await stack.db('partner_links').where({ binding_id: a.bindingId, status: 'refused' })).length).toBe(0);
    await windows.resolveAttention(w.windowId, { action: 'retry', note: 'token renewed' }, ops);
    expect(await handle.result()).toMatchObject({ status: 'closed', progress: { published: 2, takenDown: 2, publishFailed: 0 } });
  }, 120_000);

  test('a window publishes only bound stores, and takes down the links of stores unbound since', async () => {
    const unboundBefore = await store('m-f-unb-1', 'jd', 'jd-f-unb-1');
    const unboundDuring = await store('m-f-unb-2', 'jd', 'jd-f-unb-2');
    await linksTakenDownEarlier(stack.db, unboundBefore, 'union_product', 2);
    await linksTakenDownEarlier(stack.db, unboundDuring, 'union_product', 3);
    await stack.db('store_bindings').where({ id: unboundBefore.bindingId }).update({ status: 'unbound' });
    const w = await openToday('jd', 'union_product');
    await eventually(() => windows.view(w.windowId), (v) => v.progress.live === 3, 30_000);
    await stack.db('store_bindings').where({ id: unboundDuring.bindingId }).update({ status: 'unbound' });
    expect(await resultOf(w.workflowId)).toMatchObject({ status: 'closed', progress: { published: 3, takenDown: 3 } });
    expect(stack.sandbox.state.shops.get(unboundBefore.shopId)?.partnerLinkChanges ?? []).toEqual([]);
    expect(liveOnPlatform(unboundDuring.shopId)).toEqual([]);
  }, 120_000);

  test('the dates in force are the ones the process runs on: an answer lost after it took a version does not undo it', async () => {
    const today = await now();
    const w = await windows.create({ partner: 'tmall', linkKind: 'union_product', opensOn: dateIn(today, 20), closesOn: dateIn(today, 22), phases: [], source: 'test' }, ops, today);
    const client = stack.env.client;
    // The process takes the update, then the connection drops before its answer arrives.
    const losingClient = {
      ...client,
      workflow: {
        ...client.workflow,
        getHandle: (id: string) => {
          const handle = client.workflow.getHandle(id);
          return Object.assign(Object.create(handle) as typeof handle, {
            startUpdate: async (...args: Parameters<typeof handle.startUpdate>) => {
              const started = await handle.startUpdate(...args);
              return Object.assign(Object.create(started) as typeof started, {
                result: async () => {
                  await started.result();
                  throw new Error('connection reset');
                },
              });
            },
          });
        },
      },
    } as unknown as typeof client;
    const losing = createLinkWindowService({ db: stack.db, temporal: losingClient, taskQueue: stack.config.TEMPORAL_TASK_QUEUE, updateWaitMs: 10_000 });
    await expect(losing.change(w.windowId, { opensOn: dateIn(today, 20), closesOn: dateIn(today, 25), phases: [], source: 'a later notice' }, ops, today)).rejects.toThrow('connection reset');
    const state = await client.workflow.getHandle(w.workflowId).query(linkWindowStateQuery);
    expect(state.plan).toMatchObject({ version: 2, closesOn: dateIn(today, 25) });
    const view = await windows.view(w.windowId);
    expect(view).toMatchObject({ version: 2, closesOn: dateIn(today, 25) });
    expect(view.versions.map((v) => [v.version, v.state])).toEqual([
      [1, 'applied'],
      [2, 'applied'],
    ]);
    // Its days are taken: a window over them is refused.
    await expect(windows.create({ partner: 'tmall', linkKind: 'union_product', opensOn: dateIn(today, 24), closesOn: dateIn(today, 26), phases: [], source: 'x' }, ops, today)).rejects.toMatchObject({ status: 422 });
    await windows.cancel(w.windowId, ops);
  }, 60_000);

  test('a version the process refuses is marked so and never in force; a pending one counts for overlaps', async () => {
    const today = await now();
    const w = await windows.create({ partner: 'youzan', linkKind: 'short_video_live', opensOn: dateIn(today, 30), closesOn: dateIn(today, 31), phases: [], source: 'test' }, ops, today);
    // Ended behind the rows' back: the process answers no.
    await stack.env.client.workflow.getHandle(w.workflowId).terminate('test');
    await expect(windows.change(w.windowId, { opensOn: dateIn(today, 30), closesOn: dateIn(today, 33), phases: [], source: 'later' }, ops, today)).rejects.toMatchObject({ status: 409 });
    const view = await windows.view(w.windowId);
    expect(view).toMatchObject({ version: 1, closesOn: dateIn(today, 31) });
    expect(view.versions.map((v) => [v.version, v.state])).toEqual([
      [1, 'applied'],
      [2, 'refused'],
    ]);
    // A version written and not yet taken may still be: its days count.
    await stack.db('link_window_versions').insert({ window_id: w.windowId, version: 3, opens_on: dateIn(today, 30), closes_on: dateIn(today, 40), phases: '[]', source: 'pending', changed_by: 'olga', state: 'pending' });
    await expect(windows.create({ partner: 'youzan', linkKind: 'short_video_live', opensOn: dateIn(today, 35), closesOn: dateIn(today, 36), phases: [], source: 'x' }, ops, today)).rejects.toMatchObject({ status: 422, extra: { windowId: w.windowId } });
    await stack.db('link_window_versions').where({ window_id: w.windowId, version: 3 }).update({ state: 'refused' });
    expect(await windows.create({ partner: 'youzan', linkKind: 'short_video_live', opensOn: dateIn(today, 35), closesOn: dateIn(today, 36), phases: [], source: 'x' }, ops, today)).toMatchObject({ status: 'scheduled' });
  }, 60_000);

  test('a window cancelled while open stops blocking its partner and kind', async () => {
    const first = await openToday('youzan', 'self_operated', 10);
    await eventually(() => windows.view(first.windowId), (w) => w.status === 'open', 30_000);
    await windows.cancel(first.windowId, ops);
    expect((await resultOf(first.workflowId)).status).toBe('closed');
    const today = await now();
    const next = await windows.create({ partner: 'youzan', linkKind: 'self_operated', opensOn: dateIn(today, 1), closesOn: dateIn(today, 3), phases: [], source: 'the next notice' }, ops, today);
    expect(next.status).toBe('scheduled');
  }, 120_000);
});
