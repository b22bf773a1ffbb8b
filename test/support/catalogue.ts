import type { Knex } from 'knex';
import type { PartnerProduct } from '../../platform/partners/types';
import type { ListingsUpsert, PlatformClient } from '../../platform/types';

/** A product that passes every check under `mapCategory(db, platform, 'cat-1')`. */
export const product = (productId: string, overrides: Partial<PartnerProduct> = {}): PartnerProduct => ({
  productId,
  title: `商品 ${productId}`,
  description: '描述',
  category: 'cat-1',
  priceFen: 9_900,
  channelPriceFen: 9_500,
  inventory: 10,
  presale: false,
  presaleLabel: null,
  promoTags: [],
  attributes: { brand: 'Acme' },
  images: [{ url: `https://img.example.com/${productId}.jpg`, width: 800, height: 800, watermark: false, text: false }],
  qualityReport: null,
  filingNumber: null,
  detailUrl: `https://shop.example.com/${productId}`,
  updatedAt: '2026-12-01T00:00:00.000Z',
  ...overrides,
});

export async function mapCategory(db: Knex, platform: string, partnerCategory: string, ksCategory: string | null = 'ks-1', version = 1): Promise<void> {
  await db('category_mappings').insert({ partner_platform: platform, partner_category: partnerCategory, version, ks_category: ksCategory, required_attributes: JSON.stringify(['brand']), special_class: 'none', changed_by: 'olga' });
}

/** The listing calls the platform received, recorded in place of the platform's listings routes. */
export interface ListingCalls {
  upserts: Array<{ shopId: string; change: ListingsUpsert; key: string }>;
}

export function recordListings(calls: ListingCalls): (platform: PlatformClient) => PlatformClient {
  return (platform) => ({
    ...platform,
    async upsertListings(shopId, change, key) {
      calls.upserts.push({ shopId, change: structuredClone(change), key });
      return { changed: change.listings.length };
    },
  });
}
