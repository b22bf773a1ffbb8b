import type { Knex } from 'knex';
import type { LinkKind, LinkPartner } from '../../domain/link-windows';

/** A merchant with a shop and a bound partner store, as the binding process leaves them (status 'bound'). */
export async function bindStore(db: Knex, merchantId: string, platform: LinkPartner, storeId: string): Promise<{ bindingId: string; shopId: string }> {
  const shopId = `shop-${merchantId}`;
  await db('merchants').insert({ id: merchantId, entity_type: 'enterprise', legal_name: `Merchant ${merchantId}`, verification_status: 'approved' }).onConflict('id').ignore();
  await db('shops').insert({ id: shopId, merchant_id: merchantId, shop_type: 'flagship', status: 'open', opened_by_case_id: `case-${merchantId}` }).onConflict('id').ignore();
  const bindingId = `bnd-${platform}-${storeId}`;
  await db('store_bindings').insert({ id: bindingId, merchant_id: merchantId, shop_id: shopId, platform, store_id: storeId, status: 'bound', workflow_id: `binding:${platform}:${storeId}`, requested_by: `u-${merchantId}`, sync_enabled: true });
  return { bindingId, shopId };
}

/** Links an earlier window's end took down: the next window of their partner and kind puts them back. */
export async function linksTakenDownEarlier(db: Knex, binding: { bindingId: string; shopId: string; merchantId: string; platform: LinkPartner; storeId: string }, linkKind: LinkKind, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `pl_${binding.bindingId}_${String(i).padStart(5, '0')}`);
  const rows = ids.map((id, i) => ({
    id,
    binding_id: binding.bindingId,
    merchant_id: binding.merchantId,
    shop_id: binding.shopId,
    platform: binding.platform,
    store_id: binding.storeId,
    link_kind: linkKind,
    product_id: `p-${i}`,
    url: `https://item.example.com/${i}.html`,
    status: 'down',
    listed_by: `u-${binding.merchantId}`,
    taken_down_by: 'link-window:lw_earlier',
    taken_down_at: new Date('2022-02-28T16:00:00Z'),
  }));
  for (let i = 0; i < rows.length; i += 500) await db('partner_links').insert(rows.slice(i, i + 500));
  return ids;
}
