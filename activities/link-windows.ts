import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { keepHeartbeating } from './heartbeat';
import type { Db } from '../db/connection';
import { createLinkWindowRepository } from '../db/repositories/link-windows';
import { createPartnerLinkRepository, takenDownByBinding, takenDownByWindow, type ClaimedGroup, type ClaimSpec } from '../db/repositories/partner-links';
import { ErrorType } from '../domain/errors';
import type { LinkKind, LinkPartner } from '../domain/link-windows';
import type { PlatformClient, PlatformRejectionDetails } from '../platform/types';
import type { LinkWindowStatus, WindowTotals } from '../workflows/link-window.defs';

export interface LinkWindowActivityDeps {
  db: Db;
  platform: PlatformClient;
}

/** The platform takes at most 200 links per call (platform/types.ts PartnerLinksChange). */
export const LINKS_PER_CALL = 200;
/**
 * Platform calls per activity run: the process reads its progress between runs, so a window
 * of 100,000 links shows how far it got every 2,000 links, in about 300 history events in all.
 */
export const CALLS_PER_PASS = 10;

export interface PassInput {
  windowId: string;
  partner: LinkPartner;
  linkKind: LinkKind;
  /** The version of the dates the links go live under (part of each publish key). */
  version?: number;
  callsPerPass?: number;
}

export interface PassOutcome {
  /** Platform calls this run made (≤ 200 links each). */
  calls: number;
  /** Links still to do after this run: the process runs another pass while any remain. */
  remaining: number;
  totals: WindowTotals;
}

export interface BindingTakeDownInput {
  bindingId: string;
  /** Why, as the platform records it (e.g. `store-binding:<id> unbound`). */
  reason: string;
}

export interface BindingTakeDownOutcome {
  calls: number;
  takenDown: number;
}

/**
 * The key of one platform call: who calls, the action, the store and kind, and the links
 * themselves. It is made when the links are claimed and stored on them, so a retried call
 * re-sends the same links under the same key and the platform replays its first answer.
 */
export function pageKey(parts: string[], linkIds: string[]): string {
  const digest = createHash('sha256').update(linkIds.join('\n')).digest('base64url').slice(0, 22);
  return `${parts.join(':')}:${digest}`;
}

const isRefusal = (err: unknown): err is ApplicationFailure => err instanceof ApplicationFailure && err.type === ErrorType.PlatformRejected;
/** 401/403: our access, not these links; a whole pass would be refused the same way. */
const isAccessRefusal = (err: ApplicationFailure) => [401, 403].includes((err.details?.[0] as PlatformRejectionDetails | undefined)?.status ?? 0);
const needsOps = (message: string) => ApplicationFailure.nonRetryable(message, ErrorType.PlatformRefusalNeedsOps);

// The platform's words, kept on each link for ops: without the NUL PostgreSQL refuses (a refusal
// that could never be stored would fail the pass on every retry), and short.
const MAX_REFUSAL_LENGTH = 500;
const storableRefusal = (message: string) => message.replace(/\u0000/g, '').slice(0, MAX_REFUSAL_LENGTH);

export function createLinkWindowActivities({ db, platform }: LinkWindowActivityDeps) {
  const windows = createLinkWindowRepository(db);
  const links = createPartnerLinkRepository(db);

  /**
   * Sends claimed groups (one platform call per store and kind, ≤ 200 links): first the
   * groups this actor claimed and never settled (a call that may have been made, re-sent as
   * it was), then new claims, up to the budget. A 5xx or timeout fails the attempt (retried by
   * the process's policy) with the claim kept; a publish refused (4xx) is recorded on its
   * links; a refused take-down or a 401/403 waits for ops (needs_attention).
   */
  async function pass(actor: string, claimNext: () => Promise<ClaimedGroup | undefined>, send: (g: ClaimedGroup) => Promise<void>, budget: number): Promise<number> {
    const heartbeat = keepHeartbeating<{ calls: number }>();
    let calls = 0;
    const sendOne = async (group: ClaimedGroup) => {
      try {
        await send(group);
      } catch (err) {
        if (!isRefusal(err)) throw err;
        if (isAccessRefusal(err)) throw needsOps(`the platform refused our access for ${actor}: ${storableRefusal(err.message)}`);
        const refusal = storableRefusal(err.message);
        if (group.action === 'publish') await links.settlePublishRefused(group.key, actor.slice('link-window:'.length), refusal);
        else {
          await links.settleTakeDownRefused(group.key, refusal);
          throw needsOps(`the platform refused to take down ${group.linkIds.length} live links (${group.key}): ${refusal}`);
        }
      }
      calls += 1;
      heartbeat.progress({ calls });
    };
    try {
      for (const group of await links.claimedBy(actor)) await sendOne(group);
      while (calls < budget) {
        const group = await claimNext();
        if (!group) break;
        await sendOne(group);
      }
      return calls;
    } finally {
      heartbeat.stop();
    }
  }

  const call = (group: ClaimedGroup, reason: string) =>
    platform.setPartnerLinks(group.shopId, { action: group.action, partner: group.platform, storeId: group.storeId, linkKind: group.linkKind, linkIds: group.linkIds, reason }, group.key);

  async function totalsOf(input: PassInput, stillPublishing: boolean): Promise<WindowTotals> {
    const { toPublish, live, published, takenDown, publishFailed, takeDownFailed } = await links.progress(input.windowId, input.partner, input.linkKind, stillPublishing);
    return { toPublish, live, published, takenDown, publishFailed, takeDownFailed };
  }

  return {
    /** Where the window stands, for the list and the Web UI's reader alike. */
    async recordWindowStatus({ windowId, status }: { windowId: string; status: LinkWindowStatus }): Promise<void> {
      await windows.setStatus(windowId, status);
    },

    /** The process took a version of the dates: it is the one in force (idempotent per version). */
    async recordVersionApplied({ windowId, version }: { windowId: string; version: number }): Promise<void> {
      await windows.recordApplied(windowId, version);
    },

    /** Puts the window's links live: those listed while it is open and those an earlier window took down. */
    async publishWindowLinks(input: PassInput): Promise<PassOutcome> {
      const { windowId, partner, linkKind } = input;
      const version = input.version ?? 1;
      const actor = takenDownByWindow(windowId);
      const spec: ClaimSpec = {
        action: 'publish',
        actor,
        candidates: (q) => q.whereIn('l.id', links.toPublish(partner, linkKind).select('l.id')),
        keyOf: (first, ids) => pageKey(['lw', windowId, `v${version}`, 'publish', first.bindingId], ids),
        limit: LINKS_PER_CALL,
      };
      const calls = await pass(
        actor,
        () => links.claim(spec),
        async (group) => {
          await call(group, `link-window:${windowId} open`);
          // A link the rows no longer hold as ours must not stay live unknown: taken down again
          // (before the rest settle, so a retry still finds the group and redoes this).
          const unknown = await links.unclaimed(group.key, group.linkIds);
          if (unknown.length > 0) await call({ ...group, action: 'take_down', key: `${group.key}:undo`, linkIds: unknown }, `link-window:${windowId} not recorded`);
          await links.settlePublished(group.key, windowId);
        },
        input.callsPerPass ?? CALLS_PER_PASS,
      );
      const totals = await totalsOf(input, true);
      return { calls, remaining: totals.toPublish, totals };
    },

    /** Takes every live link of the window down (stores unbound since included), each once. */
    async takeDownWindowLinks(input: PassInput): Promise<PassOutcome> {
      const { windowId } = input;
      const actor = takenDownByWindow(windowId);
      const spec: ClaimSpec = {
        action: 'take_down',
        actor,
        candidates: (q) => q.where({ 'l.window_id': windowId, 'l.status': 'live' }),
        keyOf: (first, ids) => pageKey(['lw', windowId, 'take-down', first.bindingId, `r${first.refusals}`], ids),
        limit: LINKS_PER_CALL,
      };
      const calls = await pass(
        actor,
        () => links.claim(spec),
        async (group) => {
          await call(group, `link-window:${windowId} closed`);
          await links.settleTakenDown(group.key, actor);
        },
        input.callsPerPass ?? CALLS_PER_PASS,
      );
      const totals = await totalsOf(input, false);
      return { calls, remaining: totals.live, totals };
    },

    /**
     * Takes every live link of an unbound store down, whichever window put it live: set-based
     * (≤ 200 links a call), each link once (claimed with its key before the call, re-sent as it
     * was on a retry). A refused take-down waits for ops (PlatformRefusalNeedsOps).
     */
    async takeDownBindingLinks({ bindingId, reason }: BindingTakeDownInput): Promise<BindingTakeDownOutcome> {
      const actor = takenDownByBinding(bindingId);
      const spec: ClaimSpec = {
        action: 'take_down',
        actor,
        candidates: (q) => q.where({ 'l.binding_id': bindingId, 'l.status': 'live' }),
        keyOf: (first, ids) => pageKey(['sb', bindingId, 'take-down', first.linkKind, `r${first.refusals}`], ids),
        limit: LINKS_PER_CALL,
      };
      let takenDown = 0;
      const calls = await pass(
        actor,
        () => links.claim(spec),
        async (group) => {
          await call(group, reason);
          takenDown += await links.settleTakenDown(group.key, actor);
        },
        Number.POSITIVE_INFINITY,
      );
      // A window's call putting some of them live is under way: they come down once it has
      // settled them, by this activity's retry (else they would stay live to the window's end).
      const inFlight = await links.publishingOf(bindingId);
      if (inFlight > 0) throw ApplicationFailure.retryable(`${inFlight} links of store binding ${bindingId} are being published; taking them down once they are`, ErrorType.PlatformUnavailable);
      return { calls, takenDown };
    },
  };
}

export type LinkWindowActivities = ReturnType<typeof createLinkWindowActivities>;
