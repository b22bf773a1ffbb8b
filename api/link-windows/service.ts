import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { createLinkWindowRepository, LINK_WINDOW_LIST_ORDER, type StoredWindow } from '../../db/repositories/link-windows';
import { createPartnerLinkRepository, PARTNER_LINK_LIST_ORDER, type PartnerLink } from '../../db/repositories/partner-links';
import { checkChange, checkNewWindow, LinkWindowRefused, nearestWindowAllowing, phaseAt, windowAllowing, type LinkWindow, type WindowRefusal } from '../../domain/link-windows';
import {
  cancelWindowUpdate,
  changeWindowUpdate,
  linksListedSignal,
  linkWindowProcess,
  linkWindowStateQuery,
  linkWindowWorkflowId,
  type LinkWindowInput,
} from '../../workflows/link-window.defs';
import { resolveAttentionUpdate, type AttentionOutcome } from '../../workflows/attention.defs';
import type { AttentionBody } from '../attention';
import type { Principal } from '../auth';
import { conflict, HttpError, notFound } from '../errors';
import { merchantScope } from '../list-route';
import { pageThrough } from '../pagination';
import { DEFAULT_UPDATE_WAIT_MS, runUpdate, startProcess } from '../process-seam';
import type { ChangeWindowBody, CreateWindowBody, ListLinkBody, PartnerLinkListQuery, WindowListQuery } from './schemas';

export interface LinkWindowServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  updateWaitMs?: number;
}

const newWindowId = () => `lw_${randomBytes(12).toString('hex')}`;
const newLinkId = () => `pl_${randomBytes(12).toString('hex')}`;
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
const REFUSALS_SHOWN = 100;

const refused = (r: WindowRefusal) => new HttpError(422, 'link_window_refused', r.message, { reason: r.code, ...('windowId' in r ? { windowId: r.windowId } : {}) });

/** Windows that still decide something: a cancelled or ended one allows nothing any more. */
const allowingNow = (windows: StoredWindow[]): LinkWindow[] => windows.filter((w) => w.status === 'scheduled' || w.status === 'open');

function windowView(w: StoredWindow, now: Date) {
  return {
    windowId: w.windowId,
    partner: w.partner,
    linkKind: w.linkKind,
    status: w.status,
    version: w.version,
    opensOn: w.opensOn,
    closesOn: w.closesOn,
    phases: w.phases,
    phaseNow: w.status === 'open' ? phaseAt(w, now) : null,
    source: w.source,
    workflowId: w.workflowId,
    createdBy: w.createdBy,
    createdAt: new Date(w.createdAt).toISOString(),
  };
}

const linkView = (l: PartnerLink) => ({
  linkId: l.id,
  bindingId: l.bindingId,
  merchantId: l.merchantId,
  shopId: l.shopId,
  platform: l.platform,
  storeId: l.storeId,
  linkKind: l.linkKind,
  productId: l.productId,
  url: l.url,
  status: l.status,
  listedAt: new Date(l.listedAt).toISOString(),
  windowId: l.windowId,
  takenDownAt: iso(l.takenDownAt),
  takenDownBy: l.takenDownBy,
  refusal: l.refusal,
});

/** Link windows and outside links between HTTP and the windows' processes; reads come from the rows the processes keep. */
export function createLinkWindowService({ db, temporal, taskQueue, updateWaitMs = DEFAULT_UPDATE_WAIT_MS }: LinkWindowServiceDeps) {
  const windows = createLinkWindowRepository(db);
  const links = createPartnerLinkRepository(db);

  async function load(windowId: string): Promise<StoredWindow> {
    const found = await windows.find(windowId);
    if (!found) throw notFound(`link window ${windowId} does not exist`);
    return found;
  }

  async function detail(windowId: string, now = new Date()) {
    const w = await load(windowId);
    const [progress, refusals, versions, attention] = await Promise.all([
      links.progress(w.windowId, w.partner, w.linkKind, w.status === 'scheduled' || w.status === 'open'),
      links.refusals(w.windowId, REFUSALS_SHOWN),
      windows.versions(w.windowId),
      // Only a running process can wait for ops; an ended or unreachable one shows none.
      w.status === 'closed' || w.status === 'cancelled'
        ? null
        : temporal.workflow
            .getHandle(w.workflowId)
            .query(linkWindowStateQuery)
            .then((s) => s.attention && { step: s.attention.step, error: s.attention.error, since: s.attention.since })
            .catch(() => null),
    ]);
    return {
      ...windowView(w, now),
      attention,
      progress,
      refusals,
      versions: versions.map((v) => ({ ...v, changedAt: new Date(v.changedAt).toISOString() })),
    };
  }

  const whenEnded = (w: StoredWindow) => ({ whenEnded: `link window ${w.windowId} has ended (${w.status})`, refusalExtra: { windowStatus: w.status } });

  return {
    /** Records the window (version 1) and starts its process, which sleeps to the opening. */
    async create(body: CreateWindowBody, principal: Principal, now = new Date()) {
      const windowId = newWindowId();
      const workflowId = linkWindowWorkflowId(windowId);
      const dates = { opensOn: body.opensOn, closesOn: body.closesOn, phases: body.phases };
      const input: LinkWindowInput = { windowId, partner: body.partner, linkKind: body.linkKind, plan: { version: 1, ...dates } };
      await startProcess(temporal, {
        process: linkWindowProcess,
        workflowId,
        taskQueue,
        input,
        conflictPolicy: 'FAIL',
        reusePolicy: 'REJECT_DUPLICATE',
        searchAttributes: { status: 'scheduled' },
        about: { case: windowId, note: `${body.partner} ${body.linkKind} ${body.opensOn} to ${body.closesOn ?? 'open-ended'}` },
        record: {
          db,
          what: 'the link window',
          async write(trx) {
            const inTrx = createLinkWindowRepository(trx);
            await inTrx.lockPartnerKind(body.partner, body.linkKind);
            const others = [...(await inTrx.live(body.partner, body.linkKind)), ...(await inTrx.pendingOf(body.partner, body.linkKind))];
            const refusal = checkNewWindow({ windowId, partner: body.partner, linkKind: body.linkKind, version: 1, ...dates }, others, now);
            if (refusal) throw new LinkWindowRefused(refusal);
            await inTrx.insert({ id: windowId, partner: body.partner, linkKind: body.linkKind, workflowId, createdBy: principal.sub, dates, source: body.source });
          },
          started: (tied, runId) => createLinkWindowRepository(tied).setRunId(windowId, runId),
          undo: (undoDb) => createLinkWindowRepository(undoDb).remove(windowId),
        },
      }).catch((err: unknown) => {
        throw err instanceof LinkWindowRefused ? refused(err.refusal) : err;
      });
      return detail(windowId, now);
    },

    /**
     * A new version of the dates, written `pending` under the partner and kind's lock (its
     * overlap checked against the windows in force and the versions still pending), then
     * sent to the process, which records it applied when it takes it: the dates in force are
     * always the ones the process runs on. Refused by the process: marked so. No answer in
     * time (202) or an unknown failure: it stays pending, for the process may still take it.
     */
    async change(windowId: string, body: ChangeWindowBody, principal: Principal, now = new Date()) {
      const loaded = await load(windowId);
      if (loaded.status !== 'scheduled' && loaded.status !== 'open') throw conflict(`link window ${windowId} is ${loaded.status}: its dates are history`, { windowStatus: loaded.status });
      const next = { opensOn: body.opensOn, closesOn: body.closesOn, phases: body.phases };
      const version = await db.transaction(async (trx) => {
        const inTrx = createLinkWindowRepository(trx);
        await inTrx.lockPartnerKind(loaded.partner, loaded.linkKind);
        const current = (await inTrx.find(windowId))!;
        const others = [...(await inTrx.live(current.partner, current.linkKind)), ...(await inTrx.pendingOf(current.partner, current.linkKind))];
        const refusal = checkChange(current, next, others, now);
        if (refusal) throw refused(refusal);
        return inTrx.addPendingVersion(windowId, next, body.source, principal.sub);
      });
      try {
        await runUpdate(temporal.workflow.getHandle(loaded.workflowId), {
          update: changeWindowUpdate,
          args: [{ version, ...next }],
          stateQuery: linkWindowStateQuery,
          waitMs: updateWaitMs,
          what: `version ${version} of link window ${windowId}`,
          ...whenEnded(loaded),
        });
      } catch (err) {
        // Only the process's own no is certain: its validator refused, or it had ended.
        if (err instanceof HttpError && err.status >= 400 && err.status < 500) await windows.markRefused(windowId, version);
        throw err;
      }
      return detail(windowId, now);
    },

    /** Before opening the process ends without publishing; while open the window closes now (its links come down). */
    async cancel(windowId: string, principal: Principal) {
      const current = await load(windowId);
      await runUpdate(temporal.workflow.getHandle(current.workflowId), {
        update: cancelWindowUpdate,
        args: [{ actor: principal.sub }],
        stateQuery: linkWindowStateQuery,
        waitMs: updateWaitMs,
        what: `the cancellation of link window ${windowId}`,
        ...whenEnded(current),
      });
      return detail(windowId);
    },

    view: (windowId: string) => detail(windowId),

    /** Ops answer a window waiting in needs_attention: run the failed step again (the data fixed). */
    async resolveAttention(windowId: string, body: AttentionBody, principal: Principal) {
      const current = await load(windowId);
      const handle = temporal.workflow.getHandle(current.workflowId);
      const outcome: AttentionOutcome = await runUpdate(handle, {
        update: resolveAttentionUpdate,
        args: [{ action: body.action, note: body.note, actor: principal.sub }],
        stateQuery: linkWindowStateQuery,
        waitMs: updateWaitMs,
        what: `ops' answer on link window ${windowId}`,
        ...whenEnded(current),
      });
      const state = await handle.query(linkWindowStateQuery).catch(() => undefined);
      return { ...outcome, status: state?.status ?? null };
    },

    async list({ limit, cursor }: WindowListQuery) {
      const now = new Date();
      return pageThrough({ list: 'link-windows', filters: {} }, LINK_WINDOW_LIST_ORDER, { cursor, limit }, (after, n) => windows.page(after, n), (w) => windowView(w, now));
    },

    /**
     * A merchant lists an outside link for one of its bound stores. Refused (409
     * link_window_closed) unless a window of the store's partner and the kind is open now,
     * naming the window that would allow it; accepted links go live with the window's next pass.
     */
    async listLink(body: ListLinkBody, principal: Principal, now = new Date()) {
      const binding = (await db('store_bindings').where({ id: body.bindingId }).first()) as { id: string; merchant_id: string; shop_id: string; platform: LinkWindow['partner']; store_id: string; status: string } | undefined;
      // Another merchant's binding is answered as a missing one: ids cannot be probed.
      if (!binding || (principal.role === 'merchant' && binding.merchant_id !== principal.merchantId)) throw notFound(`store binding ${body.bindingId} does not exist`);
      if (binding.status !== 'bound') throw conflict(`store binding ${body.bindingId} is ${binding.status}, not bound`, { bindingStatus: binding.status });
      const candidates = allowingNow(await windows.live(binding.platform, body.linkKind));
      const open = windowAllowing(candidates, binding.platform, body.linkKind, now) as StoredWindow | null;
      if (!open) {
        const nearest = nearestWindowAllowing(candidates, binding.platform, body.linkKind, now);
        const allowingWindow = nearest && { windowId: nearest.windowId, opensOn: nearest.opensOn, closesOn: nearest.closesOn, phases: nearest.phases };
        const said = nearest ? `the nearest window that allows them is ${nearest.windowId}, from ${nearest.opensOn}` : 'no window allows them';
        throw new HttpError(409, 'link_window_closed', `no link window is open for ${binding.platform} ${body.linkKind} links now; ${said}`, { partner: binding.platform, linkKind: body.linkKind, allowingWindow });
      }
      const id = newLinkId();
      const inserted = await links.insert({
        id,
        bindingId: binding.id,
        merchantId: binding.merchant_id,
        shopId: binding.shop_id,
        platform: binding.platform,
        storeId: binding.store_id,
        linkKind: body.linkKind,
        productId: body.productId,
        url: body.url,
        listedBy: principal.sub,
      });
      if (!inserted) throw conflict(`product ${body.productId} already has a ${body.linkKind} link for store binding ${binding.id}`);
      try {
        await temporal.workflow.getHandle(open.workflowId).signal(linksListedSignal);
      } catch (err) {
        // The window ended between the check and the signal: the link waits for the next window.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      return { ...linkView((await links.find(id))!), windowId: open.windowId };
    },

    async listLinks({ limit, cursor, merchantId }: PartnerLinkListQuery, principal: Principal) {
      const scoped = merchantScope(principal, merchantId);
      return pageThrough({ list: 'partner-links', filters: { merchantId: scoped } }, PARTNER_LINK_LIST_ORDER, { cursor, limit }, (after, n) => links.page(scoped, after, n), linkView);
    },
  };
}

export type LinkWindowService = ReturnType<typeof createLinkWindowService>;
