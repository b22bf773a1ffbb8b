import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createSandboxPlatform, startSandboxPlatform } from '../../platform/sandbox';
import type { KuaishouListing, ListingsUpsert } from '../../platform/types';
import { AUTH, TOKEN } from './sandbox-fixtures';

const aListing = (productId: string, overrides: Partial<KuaishouListing> = {}): KuaishouListing => ({
  productId,
  title: '花西子新款口红',
  category: 'ks-cosmetics',
  priceFen: 12_900,
  inventory: 30,
  mainImageUrl: `https://img.partner.example/${productId}/0.jpg`,
  detailUrl: `https://item.partner.example/tb-1/${productId}`,
  presaleLabel: null,
  promoTags: ['百亿补贴'],
  ...overrides,
});
const anUpsert = (listings: KuaishouListing[]): ListingsUpsert => ({ partner: 'taobao', storeId: 'tb-1', listings });

describe('sandbox Kuaishou listings', () => {
  let dice = 0.99;
  const sandbox = () => createSandboxPlatform({ token: TOKEN, random: () => dice });
  beforeEach(() => {
    dice = 0.99;
  });

  it('lists products, counts a listing equal to the stored one as no change, and counts upserts per product', async () => {
    const { app } = sandbox();
    const upsert = (key: string, listings: KuaishouListing[]) => request(app).post('/v1/shops/s-1/listings').set(AUTH).set('Idempotency-Key', key).send(anUpsert(listings));
    await upsert('sync:1', [aListing('p-1'), aListing('p-2')]).expect(200, { changed: 2 });
    await upsert('sync:2', [aListing('p-1'), aListing('p-2', { priceFen: 13_900 })]).expect(200, { changed: 1 });
    const replay = await upsert('sync:2', [aListing('p-1'), aListing('p-2', { priceFen: 13_900 })]).expect(200, { changed: 1 });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    await upsert('sync:2', [aListing('p-1')]).expect(422);
    const read = await request(app).get('/v1/_shops/s-1/listings').set(AUTH).expect(200);
    expect(read.body).toEqual({
      listings: [
        { ...aListing('p-1'), partner: 'taobao', storeId: 'tb-1', held: false, upserts: 2, changes: 1 },
        { ...aListing('p-2', { priceFen: 13_900 }), partner: 'taobao', storeId: 'tb-1', held: false, upserts: 2, changes: 2 },
      ],
      nextCursor: null,
    });
  });

  it('validates batches: 1..200 listings, unique ids, known fields only', async () => {
    const { app } = sandbox();
    const post = (body: unknown, key: string) => request(app).post('/v1/shops/s-2/listings').set(AUTH).set('Idempotency-Key', key).send(body as object);
    await post(anUpsert([]), 'k1').expect(400);
    await post(anUpsert(Array.from({ length: 201 }, (_, i) => aListing(`p-${i}`))), 'k2').expect(400);
    await post(anUpsert([aListing('p-1'), aListing('p-1')]), 'k3').expect(400);
    await post(anUpsert([{ ...aListing('p-1'), extra: true } as KuaishouListing]), 'k4').expect(400);
    await post({ ...anUpsert([aListing('p-1')]), partner: 'ebay' }, 'k5').expect(400);
    await post(anUpsert(Array.from({ length: 200 }, (_, i) => aListing(`p-${i}`))), 'k6').expect(200, { changed: 200 });
    await request(app).post('/v1/shops/s-2/listings').set(AUTH).send(anUpsert([aListing('p-1')])).expect(400, { error: 'idempotency_key_required' });
  });

  it('holds and releases listings as a set, shown in the shop view', async () => {
    const { app } = sandbox();
    const hold = (key: string, action: 'hold' | 'release', productIds: string[]) =>
      request(app).post('/v1/shops/s-3/listings/hold').set(AUTH).set('Idempotency-Key', key).send({ action, partner: 'taobao', storeId: 'tb-1', productIds, reason: 'price_gap' });
    await request(app).post('/v1/shops/s-3/listings').set(AUTH).set('Idempotency-Key', 'u').send(anUpsert([aListing('p-1'), aListing('p-2')])).expect(200);
    await hold('h1', 'hold', ['p-1', 'p-2']).expect(200, { changed: 2 });
    await hold('h2', 'hold', ['p-1']).expect(200, { changed: 0 });
    await hold('h3', 'release', ['p-2', 'p-9']).expect(200, { changed: 1 });
    const view = await request(app).get('/v1/_shops/s-3').set(AUTH).expect(200);
    expect((view.body as { listings: unknown }).listings).toEqual({ count: 2, upserts: 2, held: [{ partner: 'taobao', storeId: 'tb-1', productId: 'p-1', reason: 'price_gap' }] });
  });

  it('fails as injected with nothing changed, logs a batch by its size, and keeps fixture reads out of the log', async () => {
    const { app, state } = sandbox();
    await request(app).put('/v1/_settings').set(AUTH).send({ errorRate: 1 }).expect(200);
    dice = 0;
    await request(app).post('/v1/shops/s-4/listings').set(AUTH).set('Idempotency-Key', 'f').send(anUpsert([aListing('p-1')])).expect(503);
    expect(state.listings.get('s-4')).toBeUndefined();
    await request(app).get('/v1/_shops/s-4/listings').set(AUTH).expect(200, { listings: [], nextCursor: null });
    await request(app).put('/v1/_settings').set(AUTH).send({ errorRate: 0 }).expect(200);
    await request(app).post('/v1/shops/s-4/listings').set(AUTH).set('Idempotency-Key', 'f').send(anUpsert([aListing('p-1')])).expect(200, { changed: 1 });
    expect(state.calls.map((c) => [c.path, c.status, c.body])).toEqual([
      ['/v1/shops/s-4/listings', 503, { partner: 'taobao', storeId: 'tb-1', listings: '[1 listings]' }],
      ['/v1/shops/s-4/listings', 200, { partner: 'taobao', storeId: 'tb-1', listings: '[1 listings]' }],
    ]);
  });

  it('keeps listings, holds and catalogues across a restart, in files of their own', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-listings-'));
    const stateFile = path.join(dir, 'state.json');
    const first = await startSandboxPlatform({ port: 0, token: TOKEN, stateFile });
    try {
      const app = first.url;
      await request(app).post('/v1/shops/s-5/listings').set(AUTH).set('Idempotency-Key', 'u1').send(anUpsert([aListing('p-1')])).expect(200);
      await request(app).post('/v1/shops/s-5/listings/hold').set(AUTH).set('Idempotency-Key', 'h1').send({ action: 'hold', partner: 'taobao', storeId: 'tb-1', productIds: ['p-1'], reason: 'r' }).expect(200);
      await request(app).put('/partners/_stores/jd/jd-1').send({ storeName: 'J', entity: { kind: 'enterprise', name: 'J', uscc: '91330100MA2H3X4Y5Z' } }).expect(200);
      await request(app).post('/partners/_stores/jd/jd-1/products/generate').send({ count: 20, seed: 1 }).expect(200);
      await request(app).post('/v1/shops/s-5/listings').set(AUTH).set('Idempotency-Key', 'u-p2').send(anUpsert([aListing('p-2')])).expect(200);
      await request(app).post('/v1/shops/s-5/listings').set(AUTH).set('Idempotency-Key', 'u-p2b').send(anUpsert([aListing('p-2', { priceFen: 1 })])).expect(200);
    } finally {
      await first.close();
    }
    expect(fs.readFileSync(stateFile, 'utf8')).not.toContain('p-1/0.jpg');
    // A journal: each save appended the listings it changed, none rewrote the others.
    const journal = fs.readFileSync(path.join(`${stateFile}.parts`, 'listings%3As-5.ndjson'), 'utf8').trim().split('\n');
    expect(journal.map((line) => (JSON.parse(line) as [string])[0])).toEqual(['taobao:tb-1:p-1', 'taobao:tb-1:p-1', 'taobao:tb-1:p-2', 'taobao:tb-1:p-2']);
    expect(fs.readdirSync(`${stateFile}.parts`).sort()).toEqual(['catalogue%3Ajd%3Ajd-1.ndjson', 'listings%3As-5.ndjson']);
    const second = await startSandboxPlatform({ port: 0, token: TOKEN, stateFile });
    try {
      expect(second.state.partners.catalogues.get('jd:jd-1')?.products.size).toBe(20);
      await request(second.url).post('/v1/shops/s-5/listings').set(AUTH).set('Idempotency-Key', 'u2').send(anUpsert([aListing('p-1')])).expect(200, { changed: 0 });
      const read = await request(second.url).get('/v1/_shops/s-5/listings').set(AUTH).expect(200);
      expect((read.body as { listings: Array<{ held: boolean; upserts: number; priceFen: number }> }).listings.map((l) => [l.held, l.upserts, l.priceFen])).toEqual([
        [true, 2, 12_900],
        [false, 2, 1],
      ]);
    } finally {
      await second.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
