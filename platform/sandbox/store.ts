import fs from 'node:fs';
import path from 'node:path';
import type { RequestHandler, Response } from 'express';
import { givePendingPartsBack, partsDirectory, readParts, takePendingParts, writeParts } from './bulk-parts';
import type { StoredResponse } from './idempotency';
import type { SandboxPartners, SandboxShop, SandboxState } from './state';

/**
 * What the sandbox remembers across restarts, as a real platform does: idempotency keys and
 * their answers, payments, payouts, refunds, restrictions, partner links, notifications, the
 * order feed and the call log, and the partners' world (stores, union authorisations, Youzan
 * codes, grants and token digests). Settings (latency, error rate) are not kept: they come from
 * config each start. Partner catalogues and Kuaishou listings are kept beside it (bulk-parts.ts).
 */
interface SandboxSnapshot {
  version: 1;
  calls: SandboxState['calls'];
  nextCallSeq: number;
  idempotency: Array<[string, { fingerprint: string; response: StoredResponse }]>;
  notifications: SandboxState['notifications'];
  shops: Array<[string, StoredShop]>;
  payouts: SandboxState['payouts'];
  payoutsByKey: Array<[string, NonNullable<ReturnType<SandboxState['payoutsByKey']['get']>>]>;
  /** Absent in files written before the sandbox refunded orders. */
  orderRefunds?: Array<[string, NonNullable<ReturnType<SandboxState['orderRefunds']['get']>>]>;
  orderFeed: SandboxState['orderFeed'];
  /** Absent in files written before the sandbox paid compensations. */
  compensations?: SandboxState['compensations'];
  payments: Array<[string, NonNullable<ReturnType<SandboxState['payments']['get']>>]>;
  /** Absent in files written before the sandbox served the partners. */
  partners?: StoredPartners;
}

type Entries<M> = M extends Map<infer K, infer V> ? Array<[K, V]> : never;
type YouzanState = SandboxPartners['youzan'];

interface StoredPartners {
  stores: Entries<SandboxPartners['stores']>;
  unionAuthorisations: SandboxPartners['unionAuthorisations'];
  jdAuthorisations: Entries<SandboxPartners['jdAuthorisations']>;
  pinduoduoAuthorisations: Entries<SandboxPartners['pinduoduoAuthorisations']>;
  youzan: {
    lifetimes: YouzanState['lifetimes'];
    codes: Entries<YouzanState['codes']>;
    usedCodes?: Entries<YouzanState['usedCodes']>;
    grants: Entries<YouzanState['grants']>;
    accessTokens: Entries<YouzanState['accessTokens']>;
    refreshTokens: Entries<YouzanState['refreshTokens']>;
  };
}

function partnersSnapshot(partners: SandboxPartners): StoredPartners {
  const { youzan } = partners;
  return {
    stores: [...partners.stores],
    unionAuthorisations: partners.unionAuthorisations,
    jdAuthorisations: [...partners.jdAuthorisations],
    pinduoduoAuthorisations: [...partners.pinduoduoAuthorisations],
    youzan: {
      lifetimes: youzan.lifetimes,
      codes: [...youzan.codes],
      usedCodes: [...youzan.usedCodes],
      grants: [...youzan.grants],
      accessTokens: [...youzan.accessTokens],
      refreshTokens: [...youzan.refreshTokens],
    },
  };
}

function restorePartners(partners: SandboxPartners, stored: StoredPartners): void {
  const { youzan } = partners;
  stored.stores.forEach(([key, store]) => partners.stores.set(key, store));
  partners.unionAuthorisations.push(...stored.unionAuthorisations);
  stored.jdAuthorisations.forEach(([key, ids]) => partners.jdAuthorisations.set(key, ids));
  stored.pinduoduoAuthorisations.forEach(([key, pids]) => partners.pinduoduoAuthorisations.set(key, pids));
  Object.assign(youzan.lifetimes, stored.youzan.lifetimes);
  stored.youzan.codes.forEach(([key, code]) => youzan.codes.set(key, code));
  stored.youzan.usedCodes?.forEach(([key, used]) => youzan.usedCodes.set(key, used));
  stored.youzan.grants.forEach(([key, grant]) => youzan.grants.set(key, grant));
  stored.youzan.accessTokens.forEach(([key, token]) => youzan.accessTokens.set(key, token));
  stored.youzan.refreshTokens.forEach(([key, token]) => youzan.refreshTokens.set(key, token));
}

// A state file saved before partner links has none: they read as empty.
type StoredShop = Omit<SandboxShop, 'restrictions' | 'delistedProducts' | 'partnerLinks' | 'partnerLinkChanges'> & {
  restrictions: string[];
  delistedProducts: string[];
  partnerLinks?: string[];
  partnerLinkChanges?: SandboxShop['partnerLinkChanges'];
};

export function snapshotOf(state: SandboxState): SandboxSnapshot {
  return {
    version: 1,
    calls: state.calls,
    nextCallSeq: state.nextCallSeq,
    // A key whose first request is still running has no answer yet: its request saves again
    // when it answers. Until then a restart forgets it, and nothing was paid for it either.
    idempotency: [...state.idempotency].flatMap(([key, e]) => (e.settled ? [[key, { fingerprint: e.fingerprint, response: e.settled }]] : [])) as SandboxSnapshot['idempotency'],
    notifications: state.notifications,
    shops: [...state.shops].map(([id, shop]) => [id, { ...shop, restrictions: [...shop.restrictions], delistedProducts: [...shop.delistedProducts], partnerLinks: [...shop.partnerLinks] }]),
    payouts: state.payouts,
    payoutsByKey: [...state.payoutsByKey],
    orderRefunds: [...state.orderRefunds],
    orderFeed: state.orderFeed,
    compensations: state.compensations,
    payments: [...state.payments],
    partners: partnersSnapshot(state.partners),
  };
}

/** Loads a snapshot into a fresh state (built from this start's settings). */
export function restoreInto(state: SandboxState, snapshot: SandboxSnapshot): void {
  if (snapshot.version !== 1) throw new Error(`sandbox state file has version ${String(snapshot.version)}; this sandbox reads version 1`);
  state.calls.push(...snapshot.calls);
  state.nextCallSeq = snapshot.nextCallSeq;
  for (const [key, { fingerprint, response }] of snapshot.idempotency) {
    state.idempotency.set(key, { fingerprint, response: Promise.resolve(response), settled: response });
  }
  state.notifications.push(...snapshot.notifications);
  for (const [id, shop] of snapshot.shops) {
    state.shops.set(id, {
      ...shop,
      restrictions: new Set(shop.restrictions) as SandboxShop['restrictions'],
      delistedProducts: new Set(shop.delistedProducts),
      partnerLinks: new Set(shop.partnerLinks ?? []),
      partnerLinkChanges: shop.partnerLinkChanges ?? [],
    });
  }
  state.payouts.push(...snapshot.payouts);
  for (const [key, issued] of snapshot.payoutsByKey) state.payoutsByKey.set(key, issued);
  for (const [key, refund] of snapshot.orderRefunds ?? []) state.orderRefunds.set(key, refund);
  state.orderFeed.push(...snapshot.orderFeed);
  state.compensations.push(...(snapshot.compensations ?? []));
  for (const [id, payment] of snapshot.payments) state.payments.set(id, payment);
  if (snapshot.partners) restorePartners(state.partners, snapshot.partners);
}

export interface SandboxStore {
  /** Reads the saved state into `state`; a missing file is a first start. */
  load(state: SandboxState): void;
  /** Writes the state as it is now; saves run one after another, the last one wins. */
  save(state: SandboxState): Promise<void>;
}

/**
 * One JSON file, replaced atomically (written beside, flushed to disk, renamed over), so a
 * crash mid-write leaves the previous state, never half a file.
 */
export function fileStore(file: string): SandboxStore {
  let queue: Promise<void> = Promise.resolve();
  return {
    load(state) {
      readParts(state, partsDirectory(file));
      if (!fs.existsSync(file)) return;
      restoreInto(state, JSON.parse(fs.readFileSync(file, 'utf8')) as SandboxSnapshot);
    },
    save(state) {
      const write = async () => {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        // Parts first: the main file's idempotency answers must never claim a listing not yet on disk.
        const parts = takePendingParts(state);
        try {
          await writeParts(state, partsDirectory(file), parts);
        } catch (err) {
          givePendingPartsBack(state, parts);
          throw err;
        }
        const temporary = `${file}.${process.pid}.tmp`;
        const handle = await fs.promises.open(temporary, 'w');
        try {
          await handle.writeFile(JSON.stringify(snapshotOf(state)));
          await handle.sync();
        } finally {
          await handle.close();
        }
        await fs.promises.rename(temporary, file);
      };
      queue = queue.then(write, write);
      return queue;
    },
  };
}

/**
 * Every request that can change state is saved before its answer is written: once a caller
 * has seen "paid", a restart cannot forget the payout or its key. Reads are not saved, except a
 * GET that says it changed something (an OAuth authorize, which issues a code: `markStateChanged`).
 */
export function saveBeforeAnswering(state: SandboxState, store: SandboxStore): RequestHandler {
  return (req, res, next) => {
    const end = res.end;
    res.end = function (this: Response, ...args: unknown[]) {
      if ((req.method === 'GET' || req.method === 'HEAD') && !changedState(res)) return end.apply(this, args as Parameters<typeof end>);
      store.save(state).then(
        () => end.apply(this, args as Parameters<typeof end>),
        (err: unknown) => {
          // Not saved means not done, as far as the caller can tell: answer 500 so it retries.
          const body = JSON.stringify({ error: 'sandbox_state_not_saved', message: String(err) });
          res.statusCode = 500;
          res.setHeader('Content-Type', 'application/json; charset=utf-8');
          res.setHeader('Content-Length', Buffer.byteLength(body));
          end.apply(this, [body] as unknown as Parameters<typeof end>);
        },
      );
      return this;
    } as typeof res.end;
    next();
  };
}

/** For a GET whose answer depends on state it just changed (an OAuth code handed out in a redirect). */
export function markStateChanged(res: Response): void {
  res.locals.sandboxStateChanged = true;
}

function changedState(res: Response): boolean {
  return res.locals.sandboxStateChanged === true;
}
