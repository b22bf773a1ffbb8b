import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createLinkWindowActivities } from '../../activities/link-windows';
import { ErrorType } from '../../domain/errors';
import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import type { PlatformClient } from '../../platform/types';
import { createTestDb, type TestDb } from '../support/db';
import { bindStore } from '../support/link-windows';

/**
 * An unbound store's links come down: set-based (≤ 200 a call), each link once although an
 * answer is lost, refused calls wait for ops and go again under a new key, other stores untouched.
 */
describe('takeDownBindingLinks (database and sandbox platform)', () => {
  let t: TestDb;
  let sandbox: RunningSandbox;
  let platform: PlatformClient;
  let fault: ((action: string, calls: number) => void) | undefined;
  const sent: Array<{ key: string; ids: string[] }> = [];

  beforeAll(async () => {
    t = await createTestDb();
    sandbox = await startSandboxPlatform({ port: 0, token: 't' });
    const real = createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 });
    let calls = 0;
    platform = {
      ...real,
      async setPartnerLinks(shopId, change, key) {
        calls += 1;
        if (change.action === 'take_down' && fault) {
          const f = fault;
          fault = undefined;
          f('before', calls);
        }
        const answer = await real.setPartnerLinks(shopId, change, key);
        sent.push({ key, ids: change.linkIds });
        return answer;
      },
    };
  });
  afterAll(async () => {
    await sandbox?.close();
    await t?.destroy();
  });

  /** Live links of one store, on the platform and in the rows, as a window leaves them. */
  async function liveLinks(binding: { bindingId: string; shopId: string; merchantId: string; storeId: string }, kind: 'self_operated' | 'union_product', count: number) {
    const ids = Array.from({ length: count }, (_, i) => `pl_${binding.bindingId}_${kind}_${String(i).padStart(4, '0')}`);
    const rows = ids.map((id, i) => ({ id, binding_id: binding.bindingId, merchant_id: binding.merchantId, shop_id: binding.shopId, platform: 'jd', store_id: binding.storeId, link_kind: kind, product_id: `p-${kind}-${i}`, url: `https://item.jd.com/${i}.html`, status: 'live', listed_by: 'u' }));
    await t.db('partner_links').insert(rows);
    for (let i = 0; i < ids.length; i += 200) await platform.setPartnerLinks(binding.shopId, { action: 'publish', partner: 'jd', storeId: binding.storeId, linkKind: kind, linkIds: ids.slice(i, i + 200), reason: 'seed' }, `seed:${ids[i]}`);
    return ids;
  }

  const takenDownOn = (shopId: string) => {
    const counts = new Map<string, number>();
    for (const c of sandbox.state.shops.get(shopId)?.partnerLinkChanges ?? []) if (c.action === 'take_down') for (const id of c.linkIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  };

  test('every live link of the binding comes down exactly once, across a lost answer and a refusal', async () => {
    const activities = createLinkWindowActivities({ db: t.db, platform });
    const gone = { ...(await bindStore(t.db, 'm-unbound', 'jd', 'jd-unbound')), merchantId: 'm-unbound', storeId: 'jd-unbound' };
    const kept = { ...(await bindStore(t.db, 'm-kept', 'jd', 'jd-kept')), merchantId: 'm-kept', storeId: 'jd-kept' };
    const ids = [...(await liveLinks(gone, 'self_operated', 250)), ...(await liveLinks(gone, 'union_product', 3))];
    const keptIds = await liveLinks(kept, 'self_operated', 2);
    await t.db('store_bindings').where({ id: gone.bindingId }).update({ status: 'unbound' });
    const run = () => new MockActivityEnvironment().run(activities.takeDownBindingLinks, { bindingId: gone.bindingId, reason: `store-binding:${gone.bindingId} unbound` });

    // The platform refuses the first call: the links stay live, ops are asked, nothing is lost.
    fault = () => {
      throw ApplicationFailure.nonRetryable('POST partner-links failed with 409', ErrorType.PlatformRejected, { status: 409, body: {} });
    };
    await expect(run()).rejects.toMatchObject({ type: ErrorType.PlatformRefusalNeedsOps });
    expect(await t.db('partner_links').where({ binding_id: gone.bindingId, status: 'live' }).select('id')).toHaveLength(253);

    // Retried: the second call's answer is lost after the platform acted.
    let lostOnce = false;
    const losing = platform.setPartnerLinks;
    platform.setPartnerLinks = async (shopId, change, key) => {
      const answer = await losing(shopId, change, key);
      if (change.action === 'take_down' && !lostOnce && sent.filter((s) => s.key.startsWith('sb:')).length === 2) {
        lostOnce = true;
        throw ApplicationFailure.retryable('answer lost', ErrorType.PlatformUnavailable);
      }
      return answer;
    };
    await expect(run()).rejects.toThrow('answer lost');
    platform.setPartnerLinks = losing;
    expect(await run()).toMatchObject({ takenDown: expect.any(Number) });

    const counts = takenDownOn(gone.shopId);
    expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect([...(sandbox.state.shops.get(gone.shopId)?.partnerLinks ?? [])]).toEqual([]);
    expect([...(sandbox.state.shops.get(kept.shopId)?.partnerLinks ?? [])].sort()).toEqual(keptIds);
    const rows = (await t.db('partner_links').where({ binding_id: gone.bindingId }).select('status', 'taken_down_by', 'claim_key')) as Array<Record<string, string | null>>;
    expect(new Set(rows.map((r) => `${r.status} ${r.taken_down_by} ${r.claim_key}`))).toEqual(new Set([`down store-binding:${gone.bindingId} null`]));
    // The audit trail: one take-down per link.
    const actions = (await t.db('partner_link_actions').whereIn('link_id', ids).where({ action: 'take_down' }).select('link_id')) as Array<{ link_id: string }>;
    expect(actions).toHaveLength(ids.length);
    // No call sent the same link under two keys, and no call exceeded 200 links.
    const keysOf = new Map<string, Set<string>>();
    for (const s of sent.filter((x) => x.key.startsWith('sb:'))) {
      expect(s.ids.length).toBeLessThanOrEqual(200);
      for (const id of s.ids) keysOf.set(id, (keysOf.get(id) ?? new Set()).add(s.key));
    }
    expect([...keysOf.values()].filter((k) => k.size !== 1)).toEqual([]);

    // Idempotent: once done, another run calls nothing.
    const callsBefore = sent.length;
    expect(await run()).toEqual({ calls: 0, takenDown: 0 });
    expect(sent.length).toBe(callsBefore);
  });

  test('links a window is publishing at that moment come down once that call has settled', async () => {
    const activities = createLinkWindowActivities({ db: t.db, platform });
    const b = { ...(await bindStore(t.db, 'm-racing', 'jd', 'jd-racing')), merchantId: 'm-racing', storeId: 'jd-racing' };
    const [first, second] = await liveLinks(b, 'self_operated', 2);
    // A window claimed the second for its publish call, not yet settled.
    await t.db('partner_links').where({ id: second }).update({ status: 'publishing', claim_key: 'lw:x:v1:publish:k', claimed_by: 'link-window:lw_x' });
    const run = () => new MockActivityEnvironment().run(activities.takeDownBindingLinks, { bindingId: b.bindingId, reason: 'unbound' });
    await expect(run()).rejects.toMatchObject({ type: ErrorType.PlatformUnavailable });
    expect(takenDownOn(b.shopId).get(first!)).toBe(1);
    await t.db('partner_links').where({ id: second }).update({ status: 'live', claim_key: null, claimed_by: null });
    expect(await run()).toEqual({ calls: 1, takenDown: 1 });
    expect([...(sandbox.state.shops.get(b.shopId)?.partnerLinks ?? [])]).toEqual([]);
  });
});
