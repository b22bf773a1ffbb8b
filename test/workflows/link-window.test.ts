import { ApplicationFailure } from '@temporalio/common';
import { createLinkWindowService, type LinkWindowService } from '../../api/link-windows/service';
import { createPartnerLinkRepository } from '../../db/repositories/partner-links';
import { shanghaiDate } from '../../domain/calendar';
import { ErrorType } from '../../domain/errors';
import { closingInstant, openingInstant } from '../../domain/link-windows';
import type { PlatformClient } from '../../platform/types';
import { linkWindowStateQuery, type LinkWindowState } from '../../workflows/link-window.defs';
import { bindStore, linksTakenDownEarlier } from '../support/link-windows';
import { startStack, type Stack } from '../support/stack';

const DAY = 24 * 60 * 60 * 1000;
const ops = { sub: 'olga', role: 'ops' as const };

/**
 * A platform whose answers get lost: every third partner-links call is carried out and then
 * fails as a timeout would, so the activity retries a call the platform already acted on.
 */
function losingEveryThirdAnswer(lost: { count: number }) {
  let calls = 0;
  return (platform: PlatformClient): PlatformClient => ({
    ...platform,
    async setPartnerLinks(shopId, change, key) {
      const answer = await platform.setPartnerLinks(shopId, change, key);
      calls += 1;
      if (calls % 3 === 0) {
        lost.count += 1;
        throw ApplicationFailure.retryable('POST partner-links timed out (answer lost)', ErrorType.PlatformUnavailable);
      }
      return answer;
    },
  });
}

describe('a link window on its dates, under platform faults (time-skipping)', () => {
  let stack: Stack;
  let windows: LinkWindowService;
  const lost = { count: 0 };
  beforeAll(async () => {
    stack = await startStack({}, { wrapPlatform: losingEveryThirdAnswer(lost) });
    windows = createLinkWindowService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE, updateWaitMs: 10_000 });
    // One platform call in five also fails before acting (a 503): retried from the heartbeat's cursor.
    stack.sandbox.state.settings.errorRate = 0.2;
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  const now = async () => new Date(Number(await stack.env.currentTimeMs()));
  const dateIn = (at: Date, days: number) => shanghaiDate(new Date(at.getTime() + days * DAY));
  const sleepUntil = async (instant: Date, offsetMs: number) => stack.env.sleep(instant.getTime() + offsetMs - (await now()).getTime());
  /**
   * Waits on the server's clock, a second skipped per look: lost and failed answers are retried
   * with growing backoff, which on the wall clock could outlast any fixed wait.
   */
  const skipUntil = async <T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> => {
    for (let look = 0; look < 600; look++) {
      const value = await read();
      if (done(value)) return value;
      await stack.env.sleep(1_000);
    }
    throw new Error('the window never reached the state the test waits for in 10 minutes of its time');
  };
  const changesOf = (shopId: string) => stack.sandbox.state.shops.get(shopId)?.partnerLinkChanges ?? [];
  /** How often the platform actually changed each link, by action. */
  const timesChanged = (shopIds: string[], action: 'publish' | 'take_down') => {
    const counts = new Map<string, number>();
    for (const shopId of shopIds) for (const c of changesOf(shopId).filter((x) => x.action === action)) for (const id of c.changed) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  };

  test('opens on its first day, puts the links live once, re-plans its end when changed, and takes each down exactly once', async () => {
    const a = { ...(await bindStore(stack.db, 'm-lw-a', 'jd', 'jd-a')), merchantId: 'm-lw-a', platform: 'jd' as const, storeId: 'jd-a' };
    const b = { ...(await bindStore(stack.db, 'm-lw-b', 'jd', 'jd-b')), merchantId: 'm-lw-b', platform: 'jd' as const, storeId: 'jd-b' };
    // 450 links an earlier window took down: 2 calls for one store (250), 1 for the other.
    const restored = [...(await linksTakenDownEarlier(stack.db, a, 'self_operated', 250)), ...(await linksTakenDownEarlier(stack.db, b, 'self_operated', 200))];

    const today = await now();
    const plan = { opensOn: dateIn(today, 1), closesOn: dateIn(today, 3), phases: [] };
    const created = await windows.create({ partner: 'jd', linkKind: 'self_operated', ...plan, source: 'test announcement' }, ops, today);
    expect(created).toMatchObject({ status: 'scheduled', version: 1, progress: { toPublish: 450, live: 0 } });

    // Before the opening a listing is refused, naming this window.
    await expect(windows.listLink({ bindingId: a.bindingId, linkKind: 'self_operated', productId: 'p-new', url: 'https://item.jd.com/1.html' }, { sub: 'u-m-lw-a', role: 'merchant', merchantId: 'm-lw-a' }, today)).rejects.toMatchObject({
      status: 409,
      code: 'link_window_closed',
      extra: { allowingWindow: { windowId: created.windowId, opensOn: plan.opensOn } },
    });

    await sleepUntil(openingInstant(plan), -60_000);
    expect(changesOf(a.shopId)).toEqual([]);
    await sleepUntil(openingInstant(plan), 60_000);
    await skipUntil(() => windows.view(created.windowId), (w) => w.progress.live === 450);

    // Listed while open: published by the next pass.
    const listed = await windows.listLink({ bindingId: a.bindingId, linkKind: 'self_operated', productId: 'p-new', url: 'https://item.jd.com/1.html' }, { sub: 'u-m-lw-a', role: 'merchant', merchantId: 'm-lw-a' }, await now());
    expect(listed).toMatchObject({ status: 'listed', windowId: created.windowId });
    await skipUntil(() => windows.view(created.windowId), (w) => w.progress.live === 451);

    // Changed while open: its end moves two days later.
    const changed = await windows.change(created.windowId, { ...plan, closesOn: dateIn(today, 5), source: 'a later notice' }, ops, await now());
    expect(changed).toMatchObject({ version: 2, closesOn: dateIn(today, 5), versions: [{ version: 1 }, { version: 2, source: 'a later notice', changedBy: 'olga' }] });
    await sleepUntil(closingInstant(plan)!, 60_000);
    expect((await windows.view(created.windowId)).status).toBe('open');
    expect(timesChanged([a.shopId, b.shopId], 'take_down').size).toBe(0);

    const final = (await stack.env.client.workflow.getHandle(created.workflowId).result()) as LinkWindowState;
    expect(final.status).toBe('closed');
    expect(final.progress).toMatchObject({ published: 451, takenDown: 451, remaining: 0, takeDownFailed: 0 });
    expect(Date.parse((await now()).toISOString())).toBeGreaterThanOrEqual(closingInstant({ closesOn: dateIn(today, 5) })!.getTime());

    // Exactly once each, though calls were lost and retried.
    expect(lost.count).toBeGreaterThan(0);
    const all = [...restored, listed.linkId];
    const published = timesChanged([a.shopId, b.shopId], 'publish');
    const takenDown = timesChanged([a.shopId, b.shopId], 'take_down');
    expect(all.filter((id) => published.get(id) !== 1)).toEqual([]);
    expect(all.filter((id) => takenDown.get(id) !== 1)).toEqual([]);
    expect(published.size).toBe(451);
    expect(takenDown.size).toBe(451);
    // Never more than 200 links a call, and a retried call is a replay, not a second change.
    for (const c of [...changesOf(a.shopId), ...changesOf(b.shopId)]) expect(c.linkIds.length).toBeLessThanOrEqual(200);
    expect([...stack.sandbox.state.shops.get(a.shopId)!.partnerLinks, ...stack.sandbox.state.shops.get(b.shopId)!.partnerLinks]).toEqual([]);

    const rows = await stack.db('partner_links').whereIn('id', all).select('status', 'taken_down_by');
    expect(new Set(rows.map((r: { status: string; taken_down_by: string }) => `${r.status} ${r.taken_down_by}`))).toEqual(new Set([`down link-window:${created.windowId}`]));
    expect(await windows.view(created.windowId)).toMatchObject({ status: 'closed', progress: { live: 0, takenDown: 451, failed: 0 } });
  }, 120_000);

  test('links the platform refuses are recorded with the reason and the window still closes', async () => {
    const c = { ...(await bindStore(stack.db, 'm-lw-c', 'tmall', 'tm-c')), merchantId: 'm-lw-c', platform: 'tmall' as const, storeId: 'tm-c' };
    await linksTakenDownEarlier(stack.db, c, 'short_video_live', 3);
    // A link id longer than the platform takes: its call is refused with a 400, never retried.
    await stack.db('partner_links').where({ binding_id: c.bindingId }).update({ id: stack.db.raw(`id || repeat('x', 120)`) });
    const today = await now();
    const created = await windows.create({ partner: 'tmall', linkKind: 'short_video_live', opensOn: dateIn(today, 0), closesOn: dateIn(today, 1), phases: [], source: 'test' }, ops, today);
    const final = (await stack.env.client.workflow.getHandle(created.workflowId).result()) as LinkWindowState;
    expect(final).toMatchObject({ status: 'closed', progress: { published: 0, publishFailed: 3 } });
    const view = await windows.view(created.windowId);
    expect(view.progress.failed).toBe(3);
    expect(view.refusals).toHaveLength(3);
    expect(view.refusals[0]).toMatchObject({ action: 'publish', refusal: expect.stringMatching(/400/) });
    expect(await createPartnerLinkRepository(stack.db).progress(created.windowId, 'tmall', 'short_video_live', true)).toMatchObject({ toPublish: 0 });
  }, 120_000);

  test('cancelled before its opening, it never publishes', async () => {
    const today = await now();
    const created = await windows.create({ partner: 'taobao', linkKind: 'union_product', opensOn: dateIn(today, 2), closesOn: null, phases: [], source: 'test' }, ops, today);
    const cancelled = await windows.cancel(created.windowId, ops);
    expect(cancelled.windowId).toBe(created.windowId);
    const final = (await stack.env.client.workflow.getHandle(created.workflowId).result()) as LinkWindowState;
    expect(final).toMatchObject({ status: 'cancelled', cancelledBy: 'olga', progress: { published: 0 } });
    expect((await windows.view(created.windowId)).status).toBe('cancelled');
    const state = await stack.env.client.workflow.getHandle(created.workflowId).query(linkWindowStateQuery);
    expect(state.status).toBe('cancelled');
  }, 60_000);
});
