import { checkProduct, countByClass, hasPresaleLabel, officialPromoTags, type CategoryMappingRule, type CheckClass } from '../../domain/catalogue-checks';
import type { PartnerProduct } from '../../platform/partners/types';

const good: PartnerProduct = {
  productId: 'p-1',
  title: '保湿面霜 50ml',
  description: '温和保湿',
  category: 'cat-cream',
  priceFen: 9_900,
  channelPriceFen: 9_900,
  inventory: 10,
  presale: false,
  presaleLabel: null,
  promoTags: [],
  attributes: { brand: 'Acme', volume: '50ml' },
  images: [{ url: 'https://img.example.com/1.jpg', width: 800, height: 800, watermark: false, text: false }],
  qualityReport: 'QR-1',
  filingNumber: '国妆备进字J2026001',
  detailUrl: 'https://shop.example.com/p-1',
  updatedAt: '2026-12-01T00:00:00.000Z',
};
const mapped: CategoryMappingRule = { ksCategory: 'ks-skincare', requiredAttributes: ['brand', 'volume'], specialClass: 'none' };
const main = good.images[0]!;

describe('product checks: one failure class each', () => {
  test.each<[string, Partial<PartnerProduct>, CategoryMappingRule | null, CheckClass[]]>([
    ['a good product', {}, mapped, []],
    ['unmapped category', {}, null, ['category_unmapped']],
    ['a required attribute missing', { attributes: { brand: 'Acme' } }, mapped, ['attributes_missing']],
    ['a required attribute blank', { attributes: { brand: 'Acme', volume: ' ' } }, mapped, ['attributes_missing']],
    ['main image 799 wide', { images: [{ ...main, width: 799 }] }, mapped, ['main_image_too_small']],
    ['main image 799 high', { images: [{ ...main, height: 799 }] }, mapped, ['main_image_too_small']],
    ['no image at all', { images: [] }, mapped, ['main_image_too_small']],
    ['first image watermarked', { images: [{ ...main, watermark: true }] }, mapped, ['first_image_watermark']],
    ['first image with text', { images: [{ ...main, text: true }] }, mapped, ['first_image_text']],
    ['a later image with text is fine', { images: [main, { ...main, text: true, watermark: true, width: 10 }] }, mapped, []],
    ['beauty without a quality report', { qualityReport: null }, { ...mapped, specialClass: 'beauty' }, ['quality_report_missing']],
    ['food without a quality report', { qualityReport: '' }, { ...mapped, specialClass: 'food' }, ['quality_report_missing']],
    ['an ordinary product needs no report', { qualityReport: null, filingNumber: null }, mapped, []],
    ['cosmetics without a filing number', { filingNumber: null }, { ...mapped, specialClass: 'cosmetics' }, ['filing_number_missing']],
    ['pre-sale without a deposit label', { presale: true }, mapped, ['presale_label_missing']],
    ['pre-sale labelled 订金', { presale: true, presaleLabel: '付订金' }, mapped, []],
    ['pre-sale labelled 淘宝预售 in the title', { presale: true, title: '【淘宝预售】面霜' }, mapped, []],
    ['several at once', { images: [{ ...main, width: 640, watermark: true }], attributes: {} }, mapped, ['attributes_missing', 'main_image_too_small', 'first_image_watermark']],
  ])('%s', (_name, change, mapping, classes) => {
    expect(checkProduct({ ...good, ...change }, mapping, 'base').map((f) => f.class)).toEqual(classes);
  });

  test('each failure says why and how to fix it', () => {
    for (const f of checkProduct({ ...good, presale: true, images: [] }, null, 'base')) {
      expect(f.reason).not.toBe('');
      expect(f.fix).not.toBe('');
    }
  });

  test('an inventory run checks the deposit label only; a promo run nothing', () => {
    const bad = { ...good, presale: true, images: [] };
    expect(checkProduct(bad, null, 'inventory').map((f) => f.class)).toEqual(['presale_label_missing']);
    expect(checkProduct(bad, null, 'promo')).toEqual([]);
  });

  test.each([
    [null, '面霜', false],
    ['订金', '面霜', true],
    [null, '淘宝预售 面霜', true],
    ['预售', '面霜', false],
  ])('label %j, title %j → %s', (presaleLabel, title, ok) => {
    expect(hasPresaleLabel({ presaleLabel, title })).toBe(ok);
  });
});

describe('promotion tags', () => {
  test('only official tags are kept; unofficial ones are dropped and counted, not a failure', () => {
    expect(
      officialPromoTags([
        { tag: '百亿补贴', official: true },
        { tag: '全网最低', official: false },
        { tag: '百亿补贴', official: true },
        { tag: '限时', official: false },
      ]),
    ).toEqual({ kept: ['百亿补贴'], dropped: 2 });
  });
});

test('failures counted by class', () => {
  expect(countByClass([{ class: 'first_image_text' }, { class: 'category_unmapped' }, { class: 'first_image_text' }])).toEqual({ category_unmapped: 1, first_image_text: 2 });
});
