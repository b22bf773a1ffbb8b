import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../db/connection';
import { createPartnerSecrets } from '../db/repositories/partner-secrets';
import { createStoreBindingRepository, LIVE_BINDING_STATUSES, type BindingStatus, type StoreBindingRow } from '../db/repositories/store-bindings';
import { ErrorType } from '../domain/errors';
import { checkUnionAuthorisation, refusal, type BindingRefusal } from '../domain/partner-binding';
import type { OAuthGrant, PartnerGateway } from '../platform/partners/types';
import type { PlatformClient } from '../platform/types';
import type { PartnerSettings } from '../worker/dependencies';
import { unbindSignal, type GrantReceived, type UnbindRequest } from '../workflows/store-binding.defs';

export interface StoreBindingActivityDeps {
  db: Db;
  partners: PartnerGateway;
  platform: PlatformClient;
  settings: PartnerSettings;
}

const LEVELS: readonly string[] = ['basic', 'advanced', 'custom'];
const positive = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n > 0;
const text = (t: unknown) => typeof t === 'string' && t.length > 0;
/** A grant with both tokens, positive lifetimes and a known level (never its values in a message). */
const wellFormed = (g: OAuthGrant | null | undefined): g is OAuthGrant =>
  !!g && text(g.storeId) && text(g.accessToken) && text(g.refreshToken) && positive(g.accessExpiresInSeconds) && positive(g.refreshExpiresInSeconds) && LEVELS.includes(g.level);

const refused = (message: string) => ApplicationFailure.create({ message, type: ErrorType.BindingRefused, nonRetryable: true });

/**
 * The binding process's side effects: the partners' checks, the secrets vault and the
 * store_bindings row. Secrets go in and out of the vault here only: what returns to the
 * workflow is ids, lifetimes and named refusals.
 */
export function createStoreBindingActivities({ db, partners, platform, settings }: StoreBindingActivityDeps) {
  const bindings = createStoreBindingRepository(db);
  const secrets = createPartnerSecrets(db, settings.secretsKey);

  async function load(bindingId: string): Promise<StoreBindingRow> {
    const row = await bindings.find(bindingId);
    if (!row) throw ApplicationFailure.create({ message: `binding ${bindingId} is not recorded`, type: ErrorType.RecordNotFound, nonRetryable: true });
    return row;
  }

  async function unionAnswer(row: StoreBindingRow): Promise<BindingRefusal | null> {
    switch (row.platform) {
      case 'taobao':
      case 'tmall': {
        const info = await partners.storeInfo(row.platform, row.store_id);
        if (!info) return refusal('store_not_found');
        return checkUnionAuthorisation(await partners.taobaoUnionAuthorisation(row.platform, row.store_id, row.pid!), info.taobaokeOpen === true);
      }
      case 'jd': {
        const answer = await partners.jdUnionAuthorisation(row.store_id, row.union_id!);
        if (!answer.selfOperated) return refusal('not_self_operated');
        return answer.status === 'authorised' ? null : refusal('pid_not_authorised');
      }
      case 'pinduoduo': {
        const answer = await partners.pinduoduoAuthorisation(row.store_id, row.pid!);
        if (!answer.commissionOnly) return refusal('not_commission_only');
        return answer.status === 'authorised' ? null : refusal('pid_not_authorised');
      }
      case 'youzan':
        throw refused('a Youzan store is authorised through OAuth, not the union');
    }
  }

  /**
   * Seals a grant's tokens, retiring what they replace (and the code they came from), in one
   * transaction under the row's lock and only while the row is in one of `while`: a grant
   * that arrives for a binding unbound (or expired) meanwhile is not kept, only what it
   * replaces is retired, and the step fails for good (a retry would find the same).
   */
  async function keep(row: StoreBindingRow, grant: OAuthGrant, replaced: string[], whileIn: readonly BindingStatus[]): Promise<GrantReceived> {
    if (!wellFormed(grant)) {
      // The same answer comes back on every retry: final, and nothing of it is kept.
      throw ApplicationFailure.create({ message: `the partner's grant for binding ${row.id} is malformed`, type: ErrorType.PlatformRejected, nonRetryable: true });
    }
    if (grant.storeId !== row.store_id) throw refused(`the authorisation was given for another store than ${row.store_id}: authorise ${row.store_id}`);
    const refreshSecretId = await db.transaction(async (trx) => {
      await secrets.retire(replaced, trx);
      const locked = await bindings.lock(row.id, trx);
      if (!locked || !whileIn.includes(locked.status)) return null;
      await secrets.retireAllOf(row.id, ['access_token', 'refresh_token'], trx);
      await secrets.store(row.id, 'access_token', grant.accessToken, trx);
      return secrets.store(row.id, 'refresh_token', grant.refreshToken, trx);
    });
    if (refreshSecretId === null) throw refused(`binding ${row.id} has ended: the late authorisation was not kept`);
    return {
      refreshSecretId,
      level: grant.level,
      accessExpiresInSeconds: grant.accessExpiresInSeconds,
      refreshExpiresInSeconds: grant.refreshExpiresInSeconds,
      refreshLeadSeconds: settings.refreshLeadSeconds,
    };
  }

  return {
    /** Taobao / Tmall, JD, Pinduoduo: the partner's record of the authorisation, checked; null when it holds. */
    async checkUnionAuthorisation(input: { bindingId: string }): Promise<{ refusal: BindingRefusal | null }> {
      const row = await load(input.bindingId);
      const found = await unionAnswer(row);
      await bindings.update(row.id, { refusal: found?.code ?? null });
      return { refusal: found };
    },

    /** Youzan: the callback's code for tokens, sealed in the vault; the code is retired whatever happens. */
    async exchangeYouzanCode(input: { bindingId: string; codeSecretId: string }): Promise<GrantReceived> {
      const row = await load(input.bindingId);
      const code = await secrets.open(input.codeSecretId);
      if (code === null) throw refused('the authorisation code was already used: authorise again');
      try {
        const grant = await partners.youzanExchangeCode(code, settings.youzanRedirectUri);
        if (wellFormed(grant) && row.permission_level !== null && grant.level !== row.permission_level) {
          // Not kept: a grant wider (or narrower) than asked is not what the merchant was shown.
          const named = refusal('level_mismatch');
          throw ApplicationFailure.create({ message: named.message, type: ErrorType.BindingRefused, nonRetryable: true, details: [named] });
        }
        return await keep(row, grant, [input.codeSecretId], ['authorising', 'needs_reauth']);
      } catch (err) {
        // A code is single-use: a refused exchange leaves nothing worth keeping.
        if (err instanceof ApplicationFailure && err.nonRetryable) await secrets.retire([input.codeSecretId]);
        throw err;
      }
    },

    /**
     * A new grant from the refresh token (Youzan rotates both tokens). PartnerAuthorisationRevoked
     * when the partner refuses it for good; a retired refresh token means it was revoked here.
     */
    async refreshYouzanToken(input: { bindingId: string; refreshSecretId: string }): Promise<GrantReceived> {
      const row = await load(input.bindingId);
      const refreshToken = await secrets.open(input.refreshSecretId);
      if (refreshToken === null) {
        throw ApplicationFailure.create({ message: `binding ${row.id} holds no live refresh token`, type: ErrorType.PartnerAuthorisationRevoked, nonRetryable: true });
      }
      return keep(row, await partners.youzanRefresh(refreshToken), [input.refreshSecretId], ['bound']);
    },

    /** Bound: sync on, the grant's expiries shown (never the tokens). Safe to run twice. */
    async recordBindingBound(input: { bindingId: string; runId: string; asOf: string; level?: string; accessExpiresAt?: string; refreshExpiresAt?: string }) {
      const changed = await db.transaction((trx) =>
        bindings.updateWhile(input.bindingId, LIVE_BINDING_STATUSES, {
        status: 'bound',
        run_id: input.runId,
        sync_enabled: true,
        refusal: null,
        bound_at: new Date(input.asOf),
        ...(input.level ? { permission_level: input.level as StoreBindingRow['permission_level'] } : {}),
        ...(input.accessExpiresAt ? { access_expires_at: new Date(input.accessExpiresAt) } : {}),
        ...(input.refreshExpiresAt ? { refresh_expires_at: new Date(input.refreshExpiresAt) } : {}),
      }, trx),
      );
      // Unbound meanwhile: the row stays unbound, and whatever the grant left is retired.
      if (!changed) await secrets.retireAllOf(input.bindingId);
    },

    /** Sync off, tokens retired, the merchant told what to do. */
    async markNeedsReauth(input: { bindingId: string; reason: string; asOf: string }) {
      const row = await load(input.bindingId);
      const changed = await db.transaction(async (trx) => {
        await secrets.retireAllOf(row.id, ['access_token', 'refresh_token'], trx);
        return bindings.updateWhile(row.id, ['bound', 'needs_reauth'], { status: 'needs_reauth', sync_enabled: false, refusal: input.reason }, trx);
      });
      if (!changed) return;
      await platform.notify(
        { recipient: 'merchant', merchantId: row.merchant_id, template: 'store_binding_needs_reauth', data: { bindingId: row.id, platform: row.platform, storeId: row.store_id, reason: input.reason } },
        `binding-reauth:${row.id}:${input.asOf}`,
      );
    },

    /** Unbound: sync off, every secret retired; by enforcement for good. Safe to run twice. */
    async endBinding(input: UnbindRequest & { bindingId: string; asOf: string }) {
      await db.transaction(async (trx) => {
        await bindings.updateWhile(
          input.bindingId,
          LIVE_BINDING_STATUSES,
          {
            status: 'unbound',
            sync_enabled: false,
            unbound_at: new Date(input.asOf),
            unbound_by: input.actor,
            unbound_reason: input.reason,
            ...(input.by === 'enforcement' ? { closed_for_good: true } : {}),
          },
          trx,
        );
        await secrets.retireAllOf(input.bindingId, undefined, trx);
      });
    },

    /** Never authorised within the wait: refused, so the store may be bound afresh. */
    async recordAuthorisationExpired(input: { bindingId: string }) {
      await db.transaction(async (trx) => {
        await bindings.updateWhile(input.bindingId, ['authorising'], { status: 'refused', sync_enabled: false, refusal: 'authorisation_expired' }, trx);
        await secrets.retireAllOf(input.bindingId, undefined, trx);
      });
    },
  };
}

export type StoreBindingActivities = ReturnType<typeof createStoreBindingActivities>;

/**
 * A qualification violation closed the shop's API permission (docs/rules.md §4): every live
 * binding of the shop is unbound for good. The rows say so first (sync off, secrets wiped),
 * then each process is told to end its timers; a signal that cannot be delivered fails the
 * activity, which is retried (a process already ended needs nothing). The binding ids closed.
 */
export async function closeStoreBindings(db: Db, temporal: Client, shopId: string, caseId: string, at: Date): Promise<string[]> {
  const reason = `violation ${caseId}: qualification mismatch closed API permission`;
  const closed = await createStoreBindingRepository(db).closeForGood(shopId, 'enforcement', reason, at);
  for (const b of closed) {
    try {
      // The run of the row: a later binding of the same store is another run, not this one's.
      await temporal.workflow.getHandle(b.workflow_id, b.run_id ?? undefined).signal(unbindSignal, { bindingId: b.id, by: 'enforcement', actor: 'enforcement', reason });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return closed.map((b) => b.id);
}
