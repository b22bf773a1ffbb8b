import request from 'supertest';
import type { PartnerProduct } from '../../platform/partners/types';
import { createSandboxPlatform } from '../../platform/sandbox';
import {
  CATALOGUE_CATEGORIES,
  FILING_NUMBER_CATEGORIES,
  GENERATED_BANNED_WORDS,
  generateProducts,
  mutate,
  QUALITY_REPORT_CATEGORIES,
  UNMAPPED_CATEGORIES,
} from '../../platform/sandbox/partners/catalogue-generator';
import { APP_AUTH, CALLBACK, consent, PARTNER_APP, putPartnerStore, testClock } from './partner-fixtures';
import { TOKEN } from './sandbox-fixtures';

const productsPath = (platform: string, storeId: string) => `/partners/stores/${platform}/${storeId}/products`;
const fixturePath = (platform: string, storeId: string) => `/partners/_stores/${platform}/${storeId}/products`;
const hasBannedWord = (p: PartnerProduct) => GENERATED_BANNED_WORDS.some((w) => p.title.includes(w) || p.description.includes(w));
const share = (items: PartnerProduct[], test: (p: PartnerProduct) => boolean) => items.filter(test).length / items.length;

describe('sandbox partner catalogue', () => {
  const clock = testClock();
  let dice = 0.99;
  const sandbox = () => createSandboxPlatform({ token: TOKEN, partnerApp: PARTNER_APP, now: clock.now, random: () => dice });

  beforeEach(() => {
    dice = 0.99;
  });

  it('pages 2,500 products with limit 1000: every product once, in product-id order', async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'taobao', 'tb-1');
    await request(app).post(`${fixturePath('taobao', 'tb-1')}/generate`).send({ count: 2_500, seed: 11 }).expect(200, { platform: 'taobao', storeId: 'tb-1', count: 2_500 });
    const seen: string[] = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    do {
      const res = await request(app)
        .get(productsPath('taobao', 'tb-1'))
        .query({ limit: 1000, ...(cursor === null ? {} : { cursor }) })
        .set(APP_AUTH)
        .expect(200);
      const page = res.body as { products: PartnerProduct[]; nextCursor: string | null };
      sizes.push(page.products.length);
      seen.push(...page.products.map((p) => p.productId));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(new Set(seen).size).toBe(2_500);
    expect(seen).toEqual([...seen].sort());
  });

  it('refuses a limit outside 1..1000, unknown stores, and callers that are not the app', async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'jd', 'jd-1');
    await request(app).get(productsPath('jd', 'jd-1')).query({ limit: 1001 }).set(APP_AUTH).expect(400);
    await request(app).get(productsPath('jd', 'jd-1')).query({ limit: 0 }).set(APP_AUTH).expect(400);
    await request(app).get(productsPath('jd', 'jd-1')).query({ limit: 10 }).set(APP_AUTH).expect(200, { products: [], nextCursor: null });
    await request(app).get(productsPath('jd', 'nope')).set(APP_AUTH).expect(404, { error: 'store_not_found' });
    await request(app).get(productsPath('ebay', 'jd-1')).set(APP_AUTH).expect(404);
    await request(app).get(productsPath('jd', 'jd-1')).expect(401, { error: 'invalid_client' });
  });

  it("reads a Youzan store with its own grant's token, and refuses a token for another store with 403 and an unknown one with 401", async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'youzan', 'yz-1');
    await putPartnerStore(app, 'youzan', 'yz-2');
    await request(app).post(`${fixturePath('youzan', 'yz-1')}/generate`).send({ count: 3, seed: 'a' }).expect(200);
    const code = await consent(app, 'yz-1');
    const token = await request(app).post('/partners/youzan/oauth/token').set(APP_AUTH).type('form').send({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK }).expect(200);
    const bearer = { Authorization: `Bearer ${(token.body as { access_token: string }).access_token}` };
    const own = await request(app).get(productsPath('youzan', 'yz-1')).set(bearer).expect(200);
    expect((own.body as { products: unknown[] }).products).toHaveLength(3);
    await request(app).get(productsPath('youzan', 'yz-2')).set(bearer).expect(403, { error: 'insufficient_scope' });
    await request(app).get(productsPath('youzan', 'yz-1')).set({ Authorization: 'Bearer not-a-token' }).expect(401, { error: 'invalid_token' });
  });

  it('fails reads as injected and logs them; fixtures never fail and are not logged', async () => {
    const { app, state } = sandbox();
    await putPartnerStore(app, 'tmall', 'tm-1');
    await request(app).put('/v1/_settings').set({ Authorization: `Bearer ${TOKEN}` }).send({ errorRate: 1 }).expect(200);
    dice = 0;
    await request(app).post(`${fixturePath('tmall', 'tm-1')}/generate`).send({ count: 5, seed: 1 }).expect(200);
    await request(app).get(productsPath('tmall', 'tm-1')).set(APP_AUTH).expect(503);
    expect(state.calls.map((c) => [c.method, c.path, c.status])).toEqual([['GET', '/partners/stores/tmall/tm-1/products', 503]]);
  });

  it('replaces the catalogue (PUT), upserts and deletes some (PATCH), and validates both', async () => {
    const { app } = sandbox();
    await putPartnerStore(app, 'pinduoduo', 'pdd-1');
    const [a, b, c] = generateProducts({ storeId: 'pdd-1', count: 3, seed: 5 });
    await request(app).put(fixturePath('pinduoduo', 'pdd-1')).send([c, a]).expect(200, { platform: 'pinduoduo', storeId: 'pdd-1', count: 2 });
    await request(app).put(fixturePath('pinduoduo', 'pdd-1')).send([a, a]).expect(400);
    await request(app).put(fixturePath('pinduoduo', 'pdd-1')).send([{ ...a, extra: 1 }]).expect(400);
    await request(app).put(fixturePath('pinduoduo', 'nope')).send([a]).expect(404);
    await request(app)
      .patch(fixturePath('pinduoduo', 'pdd-1'))
      .send({ upsert: [b, { ...c, priceFen: 1 }], delete: [a.productId] })
      .expect(200, { platform: 'pinduoduo', storeId: 'pdd-1', count: 2 });
    const page = await request(app).get(productsPath('pinduoduo', 'pdd-1')).set(APP_AUTH).expect(200);
    expect((page.body as { products: PartnerProduct[] }).products).toEqual([b, { ...c, priceFen: 1 }]);
  });

  it('generates the same products from the same seed, and others from another', () => {
    const one = generateProducts({ storeId: 's-1', count: 500, seed: 42, rates: { bannedWord: 0.1 } });
    expect(generateProducts({ storeId: 's-1', count: 500, seed: 42, rates: { bannedWord: 0.1 } })).toEqual(one);
    expect(generateProducts({ storeId: 's-1', count: 500, seed: 43 })).not.toEqual(one);
    expect(JSON.parse(JSON.stringify(one))).toEqual(one);
    expect(mutate(one, { seed: 1, priceChangeRate: 0.1, priceChangePercent: 20 })).toEqual(mutate(one, { seed: 1, priceChangeRate: 0.1, priceChangePercent: 20 }));
  });

  it('generates clean products without defect rates', () => {
    const products = generateProducts({ storeId: 's-clean', count: 2_000, seed: 3 });
    for (const p of products) {
      const category = p.category as keyof typeof CATALOGUE_CATEGORIES;
      expect(CATALOGUE_CATEGORIES[category]).toBeDefined();
      for (const name of CATALOGUE_CATEGORIES[category]) expect(p.attributes[name]).toBeTruthy();
      expect(p.images[0].width).toBeGreaterThanOrEqual(800);
      expect(p.images[0].watermark || p.images[0].text).toBe(false);
      expect(QUALITY_REPORT_CATEGORIES.includes(category) === (p.qualityReport !== null)).toBe(true);
      expect(FILING_NUMBER_CATEGORIES.includes(category) === (p.filingNumber !== null)).toBe(true);
      expect(p.presale === (p.presaleLabel !== null)).toBe(true);
      expect(p.promoTags.every((t) => t.official)).toBe(true);
      expect(hasBannedWord(p)).toBe(false);
      expect(Math.abs(p.channelPriceFen - p.priceFen) / p.priceFen).toBeLessThanOrEqual(0.1);
    }
    expect(new Set(products.map((p) => p.category)).size).toBe(5);
    expect(share(products, (p) => p.presale)).toBeCloseTo(0.05, 1);
  });

  it('injects each defect at its rate, within tolerance', () => {
    const rate = 0.2;
    const products = generateProducts({
      storeId: 's-defects',
      count: 20_000,
      seed: 9,
      presaleRate: 0.2,
      rates: { unmappedCategory: rate, missingAttribute: rate, smallMainImage: rate, watermarkOrText: rate, missingQualityReport: rate, missingFilingNumber: rate, missingPresaleLabel: rate, unofficialPromoTag: rate, bannedWord: rate, priceGap: rate },
    });
    const mapped = products.filter((p) => !UNMAPPED_CATEGORIES.includes(p.category));
    const missingAttribute = (p: PartnerProduct) => CATALOGUE_CATEGORIES[p.category as keyof typeof CATALOGUE_CATEGORIES].some((name) => !p.attributes[name]);
    const observed = {
      unmappedCategory: share(products, (p) => UNMAPPED_CATEGORIES.includes(p.category)),
      missingAttribute: share(mapped, missingAttribute),
      smallMainImage: share(products, (p) => p.images[0].width < 800 || p.images[0].height < 800),
      watermarkOrText: share(products, (p) => p.images[0].watermark || p.images[0].text),
      missingQualityReport: share(mapped.filter((p) => QUALITY_REPORT_CATEGORIES.includes(p.category)), (p) => p.qualityReport === null),
      missingFilingNumber: share(mapped.filter((p) => FILING_NUMBER_CATEGORIES.includes(p.category)), (p) => p.filingNumber === null),
      missingPresaleLabel: share(products.filter((p) => p.presale), (p) => p.presaleLabel === null),
      unofficialPromoTag: share(products, (p) => p.promoTags.some((t) => !t.official)),
      bannedWord: share(products, hasBannedWord),
      priceGap: share(products, (p) => Math.abs(p.channelPriceFen - p.priceFen) / p.priceFen > 0.1),
    };
    for (const [defect, value] of Object.entries(observed)) expect([defect, Math.abs(value - rate) < 0.03]).toEqual([defect, true]);
  });

  it('mutates a second round: moved prices and new banned words at their rates, the rest untouched', () => {
    const products = generateProducts({ storeId: 's-round', count: 20_000, seed: 2 });
    const next = mutate(products, { seed: 7, priceChangeRate: 0.01, priceChangePercent: 20, bannedWordRate: 0.001 });
    const moved = next.filter((p, i) => p.priceFen !== products[i].priceFen);
    expect(moved.length / products.length).toBeCloseTo(0.01, 2);
    for (const p of moved) {
      const before = products.find((q) => q.productId === p.productId) as PartnerProduct;
      expect(Math.abs(p.priceFen / before.priceFen - 1)).toBeCloseTo(0.2, 2);
    }
    expect(next.filter(hasBannedWord).length).toBeGreaterThan(5);
    expect(next.filter(hasBannedWord).length).toBeLessThan(45);
    expect(next.filter((p, i) => p === products[i]).length).toBeGreaterThan(19_500);
  });

  it('generates a large catalogue quickly (reported, not asserted)', () => {
    const started = process.hrtime.bigint();
    const products = generateProducts({ storeId: 's-speed', count: 100_000, seed: 1 });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(`generated ${products.length} products in ${ms.toFixed(0)} ms (${((products.length / ms) * 1000).toFixed(0)}/s)\n`);
    expect(products).toHaveLength(100_000);
  });
});
