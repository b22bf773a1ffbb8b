import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import request from 'supertest';
import { createSandboxPlatform } from '../../platform/sandbox';
import { fileStore } from '../../platform/sandbox/store';
import type { PartnerLinksChange } from '../../platform/types';
import { AUTH, TOKEN } from './sandbox-fixtures';

const aChange = (overrides: Partial<PartnerLinksChange> = {}): PartnerLinksChange => ({
  action: 'publish',
  partner: 'jd',
  storeId: 'jd-store-1',
  linkKind: 'self_operated',
  linkIds: ['pl-1'],
  reason: 'link-window:lw-1 opened',
  ...overrides,
});

describe('sandbox platform: partner links', () => {
  const rolls: number[] = [];
  // Rolls of 1 never fail; a test pushes 0 to fail the next platform call.
  const { app, state } = createSandboxPlatform({ token: TOKEN, errorRate: 0.5, random: () => rolls.shift() ?? 1 });
  const post = (shopId: string, key: string, body: object) => request(app).post(`/v1/shops/${shopId}/partner-links`).set(AUTH).set('Idempotency-Key', key).send(body);

  it('publishes and takes down as a set, answering the live links sorted and recording what each call changed', async () => {
    expect((await post('s-set', 'k-1', aChange({ linkIds: ['pl-9', 'pl-2'] }))).body).toEqual({ live: ['pl-2', 'pl-9'] });
    expect((await post('s-set', 'k-2', aChange({ linkIds: ['pl-2', 'pl-5'] }))).body).toEqual({ live: ['pl-2', 'pl-5', 'pl-9'] });
    // pl-7 was never live: taking it down is a no-op, not an error.
    const down = await post('s-set', 'k-3', aChange({ action: 'take_down', linkIds: ['pl-9', 'pl-7'] }));
    expect(down.status).toBe(200);
    expect(down.body).toEqual({ live: ['pl-2', 'pl-5'] });
    expect(state.shops.get('s-set')!.partnerLinkChanges.map((c) => [c.action, c.changed])).toEqual([
      ['publish', ['pl-9', 'pl-2']],
      ['publish', ['pl-5']],
      ['take_down', ['pl-9']],
    ]);
    expect(state.shops.get('s-other')).toBeUndefined();
  });

  it('replays a retried call without acting again', async () => {
    const body = aChange({ action: 'take_down', linkIds: ['pl-1'] });
    await post('s-replay', 'r-0', aChange({ linkIds: ['pl-1'] }));
    const first = await post('s-replay', 'r-1', body);
    const again = await post('s-replay', 'r-1', body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(state.shops.get('s-replay')!.partnerLinkChanges).toHaveLength(2);
    expect((await post('s-replay', 'r-1', aChange({ linkIds: ['pl-2'] }))).status).toBe(422);
  });

  it.each([
    ['no links', { linkIds: [] }],
    ['201 links', { linkIds: Array.from({ length: 201 }, (_, i) => `pl-${i}`) }],
    ['an unknown partner', { partner: 'amazon' }],
    ['an unknown link kind', { linkKind: 'anything' }],
    ['an unknown action', { action: 'delete' }],
    ['no reason', { reason: '' }],
    ['an extra member', { extra: 1 }],
  ])('refuses %s with 400 and changes nothing', async (_name, overrides) => {
    const response = await post('s-bad', `bad-${_name}`, { ...aChange(), ...overrides });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(state.shops.get('s-bad')).toBeUndefined();
  });

  it('takes 200 links in one call', async () => {
    const linkIds = Array.from({ length: 200 }, (_, i) => `pl-${String(i).padStart(3, '0')}`);
    expect((await post('s-200', 'k-200', aChange({ linkIds }))).body.live).toHaveLength(200);
  });

  it('fails an injected fault before acting, so a retry acts once', async () => {
    rolls.push(0);
    expect((await post('s-fault', 'f-1', aChange())).status).toBe(503);
    expect(state.shops.get('s-fault')).toBeUndefined();
    expect((await post('s-fault', 'f-1', aChange())).status).toBe(200);
    expect(state.shops.get('s-fault')!.partnerLinkChanges).toHaveLength(1);
  });

  it('keeps live links and their changes across a restart', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-links-')), 'state.json');
    const first = createSandboxPlatform({ token: TOKEN, store: fileStore(file) });
    await request(first.app).post('/v1/shops/s-keep/partner-links').set(AUTH).set('Idempotency-Key', 'keep-1').send(aChange({ linkIds: ['pl-1', 'pl-2'] })).expect(200);
    const second = createSandboxPlatform({ token: TOKEN, store: fileStore(file) });
    expect([...second.state.shops.get('s-keep')!.partnerLinks].sort()).toEqual(['pl-1', 'pl-2']);
    expect(second.state.shops.get('s-keep')!.partnerLinkChanges).toHaveLength(1);
  });
});
