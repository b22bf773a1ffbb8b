import { createHash, randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { createPartnerSecrets } from '../../db/repositories/partner-secrets';
import { createStoreBindingRepository, BINDING_LIST_ORDER, LIVE_BINDING_STATUSES, type StoreBindingRow } from '../../db/repositories/store-bindings';
import { ProcessNotRecorded } from '../../domain/errors';
import { shopIdFor } from '../../db/repositories/merchants';
import { normalizeIdentityCode } from '../../domain/identity';
import { checkBindingIds, entityDifferences, OAUTH_STATE_LIFETIME_SECONDS, refusal, type BindingRefusal } from '../../domain/partner-binding';
import type { PartnerGateway } from '../../platform/partners/types';
import type { PiiVault } from '../../security/pii';
import {
  bindingStateQuery,
  bindingWorkflowIdOf,
  oauthCallbackUpdate,
  storeBindingProcess,
  unbindUpdate,
  unionAuthorisationUpdate,
  type StoreBindingInput,
} from '../../workflows/store-binding.defs';
import { mayActFor, type Principal } from '../auth';
import { conflict, HttpError, notFound, unavailable } from '../errors';
import { merchantScope } from '../list-route';
import { pageThrough } from '../pagination';
import { DEFAULT_UPDATE_WAIT_MS, runUpdate, startProcess } from '../process-seam';
import type { BindingListQuery, BindingView, StartBindingBody } from './schemas';
import { resolveAttentionUpdate, type AttentionOutcome } from '../../workflows/attention.defs';
import type { AttentionBody } from '../attention';

export interface BindingServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  partners: PartnerGateway;
  vault: PiiVault;
  secretsKey: string;
  youzanRedirectUri: string;
  updateWaitMs?: number;
}

/** The unique index that keeps one live binding per store (db/migrations/020_store_bindings.ts). */
const isOneLiveViolation = (err: unknown): boolean => {
  const pg = err as { code?: unknown; constraint?: unknown } | null;
  return pg?.code === '23505' && pg.constraint === 'store_bindings_one_live';
};
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const hashOf = (state: string) => createHash('sha256').update(state, 'utf8').digest('hex');

/** A named refusal as the API answers it: 422 `binding_refused`, with its code and the differing fields. */
export const refusedAsHttp = (r: BindingRefusal) => new HttpError(422, 'binding_refused', r.message, { refusal: r.code, ...(r.fields ? { fields: r.fields } : {}) });

export function viewOf(b: StoreBindingRow): BindingView {
  return {
    bindingId: b.id,
    workflowId: b.workflow_id,
    merchantId: b.merchant_id,
    shopId: b.shop_id,
    platform: b.platform,
    storeId: b.store_id,
    status: b.status,
    refusal: b.refusal,
    pid: b.pid,
    unionId: b.union_id,
    permissionLevel: b.permission_level,
    accessExpiresAt: iso(b.access_expires_at),
    refreshExpiresAt: iso(b.refresh_expires_at),
    syncEnabled: b.sync_enabled,
    closedForGood: b.closed_for_good,
    createdAt: new Date(b.created_at).toISOString(),
    boundAt: iso(b.bound_at),
    unboundAt: iso(b.unbound_at),
  };
}

/** Store bindings between HTTP and their storeBinding processes; reads come from the rows the process writes. */
export function createBindingService(deps: BindingServiceDeps) {
  const { db, temporal, taskQueue, partners, vault, updateWaitMs = DEFAULT_UPDATE_WAIT_MS } = deps;
  const bindings = createStoreBindingRepository(db);
  const secrets = createPartnerSecrets(db, deps.secretsKey);

  async function load(bindingId: string, principal: Principal): Promise<StoreBindingRow> {
    const found = await bindings.find(bindingId);
    // Another merchant's binding is answered as a missing one: ids cannot be probed.
    if (!found || !mayActFor(principal, found.merchant_id)) throw notFound(`binding ${bindingId} does not exist`);
    return found;
  }

  /** A fresh OAuth state for the binding: the clear nonce goes to Youzan, only its hash is kept. */
  async function issueState(bindingId: string, trx: Knex = db): Promise<string> {
    const state = randomBytes(32).toString('base64url');
    // The newest link is the only one that works: an older one left in a mail or a tab is spent.
    await trx('binding_oauth_states').where({ binding_id: bindingId }).whereNull('used_at').update({ used_at: new Date() });
    await trx('binding_oauth_states').insert({ state_hash: hashOf(state), binding_id: bindingId, expires_at: new Date(Date.now() + OAUTH_STATE_LIFETIME_SECONDS * 1000) });
    return state;
  }

  const authorizeUrl = (state: string, level: 'basic' | 'advanced' | 'custom') => partners.youzanAuthorizeUrl({ state, level, redirectUri: deps.youzanRedirectUri });

  /** The merchant may bind: verified, its shop open, and the store held by the same entity. */
  async function checkPreconditions(merchantId: string, body: StartBindingBody): Promise<{ shopId: string }> {
    const malformed = checkBindingIds(body.platform, body);
    if (malformed) throw refusedAsHttp(malformed);
    const merchant = await db('merchants').where({ id: merchantId }).first<{ entity_type: string; legal_name: string; verification_status: string } | undefined>();
    if (!merchant || merchant.verification_status !== 'verified') throw refusedAsHttp(refusal('merchant_not_verified'));
    const shopId = shopIdFor(merchantId);
    const store = await partners.storeInfo(body.platform, body.storeId).catch(() => {
      // The partner's words stay in its own logs: they may name the store's entity.
      throw unavailable(`${body.platform} cannot be reached to check the store; nothing was saved: retry shortly`, { dependency: 'partner' });
    });
    if (!store) throw refusedAsHttp(refusal('store_not_found'));
    const held = await db('identity_keys').where({ merchant_id: merchantId }).first<{ key: string } | undefined>('key');
    const number = store.entity.kind === 'enterprise' ? store.entity.uscc : store.entity.idNumber;
    // The store's number is hashed with the merchant's key function: neither number is compared, shown or kept in clear.
    const storeKey = number ? vault.identityKey({ kind: store.entity.kind === 'enterprise' ? 'uscc' : 'resident_id', number: normalizeIdentityCode(number) }) : null;
    const fields = entityDifferences(
      { kind: store.entity.kind, name: store.entity.name, numberKey: storeKey },
      { kind: merchant.entity_type === 'individual' ? 'individual' : 'enterprise', name: merchant.legal_name, numberKey: held?.key ?? null },
    );
    if (fields.length > 0) throw refusedAsHttp(refusal('entity_mismatch', fields));
    return { shopId };
  }

  const updateOptions = (b: StoreBindingRow, what: string) => ({
    stateQuery: bindingStateQuery,
    waitMs: updateWaitMs,
    what: `${what} of binding ${b.id}`,
    whenEnded: `this binding has ended: binding ${b.id} is ${b.status}`,
    refusalExtra: { bindingStatus: b.status },
  });
  /**
   * The run of the row, never whatever run holds the store's workflow id now: a store bound
   * again is a new run under the same id, and an old binding id must not reach it.
   */
  function handleOf(b: StoreBindingRow) {
    if (!LIVE_BINDING_STATUSES.includes(b.status) || !b.run_id) throw conflict(`this binding has ended: binding ${b.id} is ${b.status}`, { bindingStatus: b.status });
    return temporal.workflow.getHandle(b.workflow_id, b.run_id);
  }

  return {
    /** Checks everything it can before anything is saved, then records the binding and starts its process. */
    async start(body: StartBindingBody, principal: Principal) {
      const merchantId = principal.role === 'merchant' ? principal.merchantId! : body.merchantId;
      if (!merchantId) throw new HttpError(400, 'invalid_request', 'staff name the merchant', { issues: [{ path: 'merchantId', message: 'required for staff' }] });
      const { shopId } = await checkPreconditions(merchantId, body);
      const alreadyLive = async () => {
        const live = await bindings.liveOf(body.platform, body.storeId);
        return conflict(`store ${body.platform}:${body.storeId} is already bound or being bound`, { bindingId: live && mayActFor(principal, live.merchant_id) ? live.id : undefined });
      };
      if (await bindings.liveOf(body.platform, body.storeId)) throw await alreadyLive();

      const bindingId = `bnd_${randomBytes(12).toString('hex')}`;
      const workflowId = bindingWorkflowIdOf(body.platform, body.storeId);
      const level = body.platform === 'youzan' ? (body.level ?? 'basic') : undefined;
      let state: string | null = null;
      const input: StoreBindingInput = { bindingId, merchantId, shopId, platform: body.platform, storeId: body.storeId, requestedBy: principal.sub };
      try {
        await startProcess(temporal, {
          process: storeBindingProcess,
          workflowId,
          taskQueue,
          input,
          // One live binding per store: a run going under the id is another request's.
          conflictPolicy: 'FAIL',
          reusePolicy: 'ALLOW_DUPLICATE',
          searchAttributes: { merchantId, status: 'authorising' },
          about: { merchant: merchantId, shop: shopId, note: `${body.platform} store ${body.storeId}` },
          record: {
            db,
            what: 'the binding',
            async write(trx) {
              // Under the shop's lock, which enforcement takes too: see apiPermissionClosed.
              if (await bindings.apiPermissionClosed(shopId, trx)) throw refusedAsHttp(refusal('api_permission_closed'));
              await createStoreBindingRepository(trx).insert({ id: bindingId, merchantId, shopId, platform: body.platform, storeId: body.storeId, workflowId, pid: body.pid, unionId: body.unionId, permissionLevel: level, requestedBy: principal.sub }, trx);
              if (level) state = await issueState(bindingId, trx);
            },
            started: (startedDb, runId) => startedDb('store_bindings').where({ id: bindingId }).update({ run_id: runId }),
            async undo(undoDb) {
              await undoDb('binding_oauth_states').where({ binding_id: bindingId }).delete();
              await undoDb('store_bindings').where({ id: bindingId, status: 'authorising' }).delete();
            },
          },
        });
      } catch (err) {
        // The record's refusal is the answer; a start racing another for the same store meets the unique index.
        if (err instanceof ProcessNotRecorded && err.cause instanceof HttpError) throw err.cause;
        if (err instanceof ProcessNotRecorded && isOneLiveViolation(err.cause)) throw await alreadyLive();
        throw err;
      }
      const row = (await bindings.find(bindingId))!;
      return { ...viewOf(row), authorizeUrl: state && level ? authorizeUrl(state, level) : null };
    },

    /** Taobao / Tmall, JD, Pinduoduo: the merchant says it authorised the position; the process checks it. */
    async completeUnionAuthorisation(bindingId: string, principal: Principal) {
      const b = await load(bindingId, principal);
      await runUpdate(handleOf(b), { update: unionAuthorisationUpdate, args: [{ bindingId: b.id, actor: principal.sub }], ...updateOptions(b, 'the union authorisation') });
      return viewOf((await bindings.find(b.id))!);
    },

    /**
     * Youzan's redirect back: the state must be one this API issued, unused and unexpired; it
     * is spent at once (single use), the code sealed in the vault and handed to the process by id.
     */
    async oauthCallback(code: string, state: string, spentFor: (bindingId: string) => void = () => undefined) {
      const spent = await db('binding_oauth_states')
        .where({ state_hash: hashOf(state) })
        .whereNull('used_at')
        .where('expires_at', '>', new Date())
        .update({ used_at: new Date() })
        .returning<Array<{ binding_id: string }>>('binding_id');
      if (spent.length === 0) throw new HttpError(400, 'invalid_oauth_state', 'the authorisation link is unknown, used or expired: start the authorisation again');
      spentFor(spent[0]!.binding_id);
      const b = (await bindings.find(spent[0]!.binding_id))!;
      // Checked before the code is sealed: an ended or bound binding keeps no code.
      if (b.status !== 'authorising' && b.status !== 'needs_reauth') throw conflict(`this binding has ended or needs no authorisation: binding ${b.id} is ${b.status}`, { bindingStatus: b.status });
      const handle = handleOf(b);
      const codeSecretId = await secrets.store(b.id, 'authorisation_code', code);
      try {
        await runUpdate(handle, { update: oauthCallbackUpdate, args: [{ bindingId: b.id, codeSecretId, actor: 'youzan-callback' }], ...updateOptions(b, 'the OAuth callback') });
      } catch (err) {
        // Refused (the validator, or the process ended): nobody will exchange the code.
        if (err instanceof HttpError && err.status === 409) await secrets.retire([codeSecretId]);
        throw err;
      }
      return viewOf((await bindings.find(b.id))!);
    },

    /** Youzan: a new consent link for a binding that needs (or will need) authorising again. */
    async reauthorise(bindingId: string, principal: Principal) {
      const b = await load(bindingId, principal);
      if (b.platform !== 'youzan') throw conflict(`a ${b.platform} binding is authorised again through POST /v1/bindings/${b.id}/union-authorisation`);
      if (!['needs_reauth', 'authorising'].includes(b.status)) throw conflict(`binding ${b.id} is ${b.status}: nothing to authorise`, { bindingStatus: b.status });
      const state = await issueState(b.id);
      return { ...viewOf(b), authorizeUrl: authorizeUrl(state, b.permission_level ?? 'basic') };
    },

    async unbind(bindingId: string, reason: string, principal: Principal) {
      const b = await load(bindingId, principal);
      await runUpdate(handleOf(b), { update: unbindUpdate, args: [{ bindingId: b.id, by: 'merchant', actor: principal.sub, reason }], ...updateOptions(b, 'the unbinding') });
      return viewOf((await bindings.find(b.id))!);
    },

    /**
     * Ops answer a binding waiting in needs_attention (its links could not be taken down at the
     * unbinding): run the step again. Addressed to the row's own run, which may already show
     * `unbound` while it still takes its links down.
     */
    async resolveAttention(bindingId: string, body: AttentionBody, principal: Principal) {
      const b = await load(bindingId, principal);
      if (!b.run_id) throw conflict(`binding ${b.id} has no process`, { bindingStatus: b.status });
      const outcome: AttentionOutcome = await runUpdate(temporal.workflow.getHandle(b.workflow_id, b.run_id), {
        update: resolveAttentionUpdate,
        args: [{ action: body.action, note: body.note, actor: principal.sub }],
        ...updateOptions(b, "ops' answer"),
        whenEnded: `binding ${b.id} has ended: nothing waits for ops`,
      });
      const state = await temporal.workflow.getHandle(b.workflow_id, b.run_id).query(bindingStateQuery).catch(() => undefined);
      return { ...outcome, status: state?.status ?? null };
    },

    view: async (bindingId: string, principal: Principal) => viewOf(await load(bindingId, principal)),

    async list({ limit, cursor, ...requested }: BindingListQuery, principal: Principal) {
      const filters = { ...requested, merchantId: merchantScope(principal, requested.merchantId) };
      return pageThrough({ list: 'bindings', filters }, BINDING_LIST_ORDER, { cursor, limit }, (after, n) => bindings.page(filters, after, n), viewOf);
    },
  };
}

export type BindingService = ReturnType<typeof createBindingService>;
