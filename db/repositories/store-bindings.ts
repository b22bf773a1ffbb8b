import type { Knex } from 'knex';
import type { BindingPlatform } from '../../domain/partner-binding';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../keyset';

export const BINDING_LIST_ORDER: readonly SortKey[] = [{ sql: 'id', type: 'text', direction: 'asc' }];

export type BindingStatus = 'authorising' | 'bound' | 'needs_reauth' | 'unbound' | 'refused';
export const LIVE_BINDING_STATUSES: readonly BindingStatus[] = ['authorising', 'bound', 'needs_reauth'];

export interface StoreBindingRow {
  id: string;
  merchant_id: string;
  shop_id: string;
  platform: BindingPlatform;
  store_id: string;
  status: BindingStatus;
  workflow_id: string;
  run_id: string | null;
  refusal: string | null;
  pid: string | null;
  union_id: string | null;
  permission_level: 'basic' | 'advanced' | 'custom' | null;
  access_expires_at: Date | null;
  refresh_expires_at: Date | null;
  sync_enabled: boolean;
  closed_for_good: boolean;
  requested_by: string;
  created_at: Date;
  updated_at: Date;
  bound_at: Date | null;
  unbound_at: Date | null;
  unbound_by: string | null;
  unbound_reason: string | null;
}

export interface NewBinding {
  id: string;
  merchantId: string;
  shopId: string;
  platform: BindingPlatform;
  storeId: string;
  workflowId: string;
  pid?: string;
  unionId?: string;
  permissionLevel?: 'basic' | 'advanced' | 'custom';
  requestedBy: string;
}

/** The store_bindings rows the binding processes keep (db/migrations/020_store_bindings.ts). */
export function createStoreBindingRepository(db: Knex) {
  const rows = (trx: Knex = db) => trx<StoreBindingRow>('store_bindings');
  return {
    async insert(b: NewBinding, trx: Knex = db): Promise<void> {
      await rows(trx).insert({
        id: b.id,
        merchant_id: b.merchantId,
        shop_id: b.shopId,
        platform: b.platform,
        store_id: b.storeId,
        status: 'authorising',
        workflow_id: b.workflowId,
        pid: b.pid ?? null,
        union_id: b.unionId ?? null,
        permission_level: b.permissionLevel ?? null,
        requested_by: b.requestedBy,
      });
    },

    find: (id: string, trx: Knex = db): Promise<StoreBindingRow | undefined> => rows(trx).where({ id }).first(),

    /** The live binding of a store, if any (one at a time: the unique index). */
    liveOf: (platform: BindingPlatform, storeId: string): Promise<StoreBindingRow | undefined> =>
      rows().where({ platform, store_id: storeId }).whereIn('status', LIVE_BINDING_STATUSES).first(),

    /** Every live binding of a shop (enforcement unbinds them all). */
    liveOfShop: (shopId: string, trx: Knex = db): Promise<StoreBindingRow[]> => rows(trx).where({ shop_id: shopId }).whereIn('status', LIVE_BINDING_STATUSES).orderBy('id'),

    /**
     * Enforcement: every live binding of the shop unbound for good, its sync off and its
     * secrets wiped, in one transaction. Answers the bindings closed under this reason, those
     * an earlier attempt closed included, so a retry still signals every process.
     */
    async closeForGood(shopId: string, actor: string, reason: string, at: Date): Promise<StoreBindingRow[]> {
      return db.transaction(async (trx) => {
        // The lock a start takes before it records a binding (apiPermissionClosed).
        await trx('shops').where({ id: shopId }).forUpdate().first('id');
        const live = await rows(trx).where({ shop_id: shopId }).whereIn('status', LIVE_BINDING_STATUSES).forUpdate();
        if (live.length > 0) {
          const ids = live.map((b) => b.id);
          await rows(trx)
            .whereIn('id', ids)
            .update({ status: 'unbound', sync_enabled: false, closed_for_good: true, unbound_at: at, unbound_by: actor, unbound_reason: reason, updated_at: at });
          await trx('partner_secrets').whereIn('binding_id', ids).whereNull('retired_at').update({ cipher: '', retired_at: at });
        }
        return rows(trx).where({ shop_id: shopId, closed_for_good: true, unbound_reason: reason }).orderBy('id');
      });
    },

    /**
     * Whether the shop's API permission is closed (`disable_api` held by any source), the
     * shop's row locked until the transaction ends: enforcement takes the same lock
     * (closeForGood), so a binding recorded under it is seen and closed by enforcement, and
     * one recorded after it sees the restriction.
     */
    async apiPermissionClosed(shopId: string, trx: Knex): Promise<boolean> {
      await trx('shops').where({ id: shopId }).forUpdate().first('id');
      return (await trx('shop_restrictions').where({ shop_id: shopId, restriction: 'disable_api' }).first('shop_id')) !== undefined;
    },

    /**
     * The row locked, changed only while its status is one of `while` (a late write for a
     * binding that moved on changes nothing): whether it changed.
     */
    async updateWhile(id: string, statuses: readonly BindingStatus[], change: Partial<StoreBindingRow>, trx: Knex): Promise<boolean> {
      const row = await rows(trx).where({ id }).forUpdate().first('status');
      if (!row || !statuses.includes(row.status)) return false;
      await rows(trx).where({ id }).update({ ...change, updated_at: trx.fn.now() as unknown as Date });
      return true;
    },

    /** The row locked for the transaction (secrets are stored under it only while it is live). */
    lock: (id: string, trx: Knex): Promise<StoreBindingRow | undefined> => rows(trx).where({ id }).forUpdate().first(),

    /** One page of bindings, by id; a merchant's, or with a status. */
    async page(filters: { merchantId?: string; status?: BindingStatus; platform?: BindingPlatform }, after: Position | undefined, limit: number): Promise<KeysetPage<StoreBindingRow>> {
      const q = db('store_bindings').select('*');
      if (filters.merchantId !== undefined) void q.where('merchant_id', filters.merchantId);
      if (filters.status !== undefined) void q.where('status', filters.status);
      if (filters.platform !== undefined) void q.where('platform', filters.platform);
      return keysetPage<StoreBindingRow>(db, q, BINDING_LIST_ORDER, after, limit);
    },

    async update(id: string, change: Partial<StoreBindingRow>, trx: Knex = db): Promise<void> {
      await rows(trx).where({ id }).update({ ...change, updated_at: trx.fn.now() as unknown as Date });
    },
  };
}

export type StoreBindingRepository = ReturnType<typeof createStoreBindingRepository>;
