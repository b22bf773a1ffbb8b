import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Knex } from 'knex';
import { createEnforcementRepository, type OrderToRefund, type RefundRecord } from '../db/repositories/enforcement';
import { checkerRefusal, enforcementRestrictionKey, MAX_REFUND_PAGE_SIZE, orderRefundKey, type EnforcementState } from '../domain/enforcement';
import { ErrorType } from '../domain/errors';
import type { OrderRefundAnswer, PlatformClient } from '../platform/types';
import { keepHeartbeating } from './heartbeat';

export interface EnforcementActivityDeps {
  db: Knex;
  platform: PlatformClient;
  /** Tries of one platform call within an attempt before the attempt fails (a page's keys make each try safe). */
  callTries?: number;
  /** Pause between those tries; tests pass 0. */
  retryDelayMs?: number;
  /** Pages recorded side by side, each on its own pooled connection, while the next page is at the platform. */
  recordingsInFlight?: number;
  /** Pages of orders read by one query. */
  pagesPerRead?: number;
}

export interface RefundPagesInput {
  actionId: string;
  shopId: string;
  /** The last order id answered for; '' from the start. */
  afterOrderId: string;
  pageSize: number;
  /** Pages this call works through before it hands back, so the workflow can pause between calls. */
  pages: number;
}

export interface RefundPagesResult {
  refunded: number;
  refused: number;
  afterOrderId: string;
  /** No order of the shop is left to send. */
  done: boolean;
}

interface PagesCursor {
  afterOrderId: string;
  refunded: number;
  refused: number;
  pages: number;
  /** The walk went back to the start once to find orders that arrived behind it. */
  swept: boolean;
}

const REASON = 'enforcement refund';

/** Pages recorded side by side (measured with bench:refunds, README). */
export const RECORDINGS_IN_FLIGHT = 2;

/** Pages of orders one read brings (measured with bench:refunds, README): fewer round trips, sent a page at a time. */
export const PAGES_PER_READ = 5;

/**
 * What a refund call had recorded when the platform refused it for good: the details of the
 * `PlatformRefusalNeedsOps` failure, so the process counts those pages and ops' retry starts after them.
 */
export interface RecordedBeforeRefusal {
  refunded: number;
  refused: number;
  afterOrderId: string;
}

// The platform's words go on the action's row: PostgreSQL refuses a NUL (the write would fail on
// every try), and a whole error body is not what ops read.
const MAX_ATTENTION_ERROR = 500;
export const storableError = (message: string): string => message.replace(/\u0000/g, '').slice(0, MAX_ATTENTION_ERROR);

/**
 * A call the platform refused for good (a 4xx but 408/429) is not cured by a retry, and is not
 * the shop's business either: ops look at it, then retry the step (docs/rules.md §5.5).
 */
function needsOps(err: unknown, details: unknown[] = []): unknown {
  if (!(err instanceof ApplicationFailure) || (err.type !== ErrorType.PlatformRejected && err.type !== ErrorType.PlatformRefusalNeedsOps)) return err;
  return ApplicationFailure.create({ message: storableError(err.message), type: ErrorType.PlatformRefusalNeedsOps, nonRetryable: true, details });
}

/**
 * The platform's answers as records, each with the amount sent. An answer for an order the
 * page did not send is the platform's bug, not ours to record; a page not answered whole is
 * sent again (its keys make that safe).
 */
function recordsOf(orders: readonly OrderToRefund[], answers: readonly OrderRefundAnswer[]): RefundRecord[] {
  const amountOf = new Map(orders.map((o) => [o.orderId, o.amountFen]));
  const records = answers.flatMap((a): RefundRecord[] => {
    const amountFen = amountOf.get(a.orderId);
    if (amountFen === undefined) return [];
    return a.outcome === 'refunded'
      ? [{ orderId: a.orderId, amountFen, outcome: 'refunded', platformRefundId: a.refundId, refundedAt: a.refundedAt }]
      : [{ orderId: a.orderId, amountFen, outcome: 'refused', reasonCode: a.reason }];
  });
  if (records.length !== orders.length) {
    throw ApplicationFailure.retryable(`the platform answered ${records.length} of ${orders.length} orders of a refund page`, ErrorType.PlatformUnavailable);
  }
  return records;
}

/**
 * The shop's open orders by keyset, several pages to a query, handed out a page at a time; the
 * next read starts as a page goes out that leaves less than a page read, so it runs while that
 * page is at the platform. A read shorter than asked found the end of the shop's open orders.
 */
function pageReader(read: (afterOrderId: string, limit: number) => Promise<OrderToRefund[]>, pageSize: number, pagesPerRead: number) {
  let rows: OrderToRefund[] = [];
  let reading: Promise<{ got: OrderToRefund[]; asked: number }> | undefined;
  let atEnd = false;
  const readAfter = (afterOrderId: string, pagesWanted: number) => {
    const asked = pageSize * Math.max(1, Math.min(pagesPerRead, pagesWanted));
    const work = read(afterOrderId, asked).then((got) => ({ got, asked }));
    // Awaited later: a failure must wait for that await, not crash the worker as unhandled.
    work.catch(() => undefined);
    reading = work;
  };
  return {
    /** Starts the walk afresh after `afterOrderId`, for a call that will send up to `pagesWanted` pages. */
    restart(afterOrderId: string, pagesWanted: number): void {
      rows = [];
      atEnd = false;
      readAfter(afterOrderId, pagesWanted);
    },
    /** The next page ([] at the end); `pagesLeft` counts it and the pages the call may still send after it. */
    async next(pagesLeft: number): Promise<OrderToRefund[]> {
      if (rows.length < pageSize && reading) {
        const { got, asked } = await reading;
        reading = undefined;
        rows = rows.concat(got);
        atEnd = got.length < asked;
      }
      const page = rows.splice(0, pageSize);
      const last = rows.length > 0 ? rows[rows.length - 1] : page[page.length - 1];
      if (rows.length < pageSize && !atEnd && !reading && pagesLeft > 1 && last) readAfter(last.orderId, pagesLeft - 1 - Math.floor(rows.length / pageSize));
      return page;
    },
  };
}

/**
 * The enforcement action's side effects (docs/rules.md §5.5). Each is safe to run twice: a
 * decision is written only while undecided, the restriction and every refund carry keys from
 * the business request, and a page's answers are recorded once per order.
 */
export function createEnforcementActivities({ db, platform, callTries = 3, retryDelayMs = 250, recordingsInFlight = RECORDINGS_IN_FLIGHT, pagesPerRead = PAGES_PER_READ }: EnforcementActivityDeps) {
  const actions = createEnforcementRepository(db);

  async function withTries<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        const transient = err instanceof ApplicationFailure && err.type === ErrorType.PlatformUnavailable;
        if (!transient) throw needsOps(err);
        if (attempt >= callTries) throw err;
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs * attempt));
      }
    }
  }

  return {
    /** The checker's decision, as the database keeps it; its CHECK is the last word on maker ≠ checker. */
    async recordEnforcementDecision(input: { actionId: string; decision: 'approve' | 'reject'; by: string; at: string }): Promise<EnforcementState> {
      const action = await actions.find(input.actionId);
      if (!action) throw ApplicationFailure.nonRetryable(`enforcement action ${input.actionId} is not recorded`, ErrorType.RecordNotFound);
      const refused = checkerRefusal(action.opened_by, input.by);
      if (refused) throw ApplicationFailure.nonRetryable(refused, ErrorType.Forbidden);
      const decided = await actions.decide(input.actionId, input.decision, input.by, new Date(input.at));
      const expected = input.decision === 'approve' ? decided?.approved_by : decided?.rejected_by;
      if (expected !== input.by) {
        throw ApplicationFailure.nonRetryable(`enforcement action ${input.actionId} was already decided (${decided?.state ?? 'missing'})`, ErrorType.Forbidden);
      }
      return decided!.state;
    },

    async setEnforcementState(input: { actionId: string; state: 'refunding' | 'paused' | 'completed'; at: string }): Promise<void> {
      await actions.setState(input.actionId, input.state, new Date(input.at));
    },

    /** The step waiting for ops, on the action's row (state `needs_attention`) where the API reads it. */
    async setEnforcementAttention(input: { actionId: string; step: string; error: string; since: string }): Promise<void> {
      await actions.setAttention(input.actionId, { step: input.step, error: storableError(input.error), since: new Date(input.since) });
    },

    /** Withdrawals restricted once per action; applying a restriction in force changes nothing. */
    async restrictEnforcedShop(input: { actionId: string; shopId: string }): Promise<void> {
      await withTries(() =>
        platform.setRestrictions(input.shopId, { action: 'apply', restrictions: ['restrict_withdrawals'], reason: `enforcement action ${input.actionId}` }, enforcementRestrictionKey(input.actionId)),
      );
    },

    async countOrdersToRefund(input: { shopId: string }): Promise<number> {
      return actions.countOrdersToRefund(input.shopId);
    },

    /**
     * Refunds the shop's next pages of orders, set-based: pages are read by keyset (several to a
     * query, see pageReader), each sent in
     * one batch call with a key per order (`order-refund:<orderId>`), and its answers recorded
     * in one statement. The next page is sent while the last one is recorded (the keyset
     * needs only the last id read), so the platform and the database work side by side.
     *
     * The cursor heartbeaten is the last page recorded, never one only sent: a retried attempt
     * starts after it, and a page sent but not recorded (the worker died) is sent again, which
     * the platform answers from its keys, paying nothing twice. A refusal is recorded and
     * final; a platform outage fails the attempt for the retry policy; a call the platform
     * refused for good fails it for ops (PlatformRefusalNeedsOps) with what was recorded before.
     */
    async refundEnforcementPages(input: RefundPagesInput): Promise<RefundPagesResult> {
      const pageSize = Math.min(Math.max(1, input.pageSize), MAX_REFUND_PAGE_SIZE);
      const heartbeat = keepHeartbeating<PagesCursor>();
      const recorded: PagesCursor = heartbeat.resumed ?? { afterOrderId: input.afterOrderId, refunded: 0, refused: 0, pages: 0, swept: input.afterOrderId === '' };
      const attempt = Context.current().info.attempt;
      // Where the walk has sent up to, ahead of `recorded` by at most the page being recorded.
      let sentAfter = recorded.afterOrderId;
      let swept = recorded.swept;
      let recording: Promise<void> = Promise.resolve();
      // The recording statements still running, oldest first.
      const statements: Promise<void>[] = [];
      // Work started ahead is awaited later: a failure must wait for that await, not crash the worker as unhandled.
      const quietly = <T>(work: Promise<T>): Promise<T> => {
        work.catch(() => undefined);
        return work;
      };
      // Pages are read ahead of the one at the platform: the keyset needs only the last id read.
      const reader = pageReader((after, limit) => actions.ordersToRefund(input.shopId, after, limit), pageSize, pagesPerRead);
      reader.restart(sentAfter, input.pages - recorded.pages);
      const result = (done: boolean): RefundPagesResult => ({ refunded: recorded.refunded, refused: recorded.refused, afterOrderId: recorded.afterOrderId, done });
      try {
        for (let sent = recorded.pages; sent < input.pages; sent++) {
          const orders = await reader.next(input.pages - sent);
          if (orders.length === 0) {
            await recording;
            // Orders inserted behind the cursor (a late import) are found by one walk from the start,
            // read once every page before it is recorded.
            if (swept) return result(true);
            sentAfter = '';
            swept = true;
            reader.restart(sentAfter, input.pages - sent);
            sent -= 1;
            continue;
          }
          sentAfter = orders[orders.length - 1]!.orderId;
          const answer = await withTries(() =>
            platform.orderRefundBatch(orders.map((o) => ({ idempotencyKey: orderRefundKey(o.orderId), orderId: o.orderId, shopId: input.shopId, amountFen: o.amountFen, reason: REASON }))),
          );
          const records = recordsOf(orders, answer.refunds);
          // At most `recordingsInFlight` pages are recorded side by side, each on its own connection.
          if (statements.length >= recordingsInFlight) await statements.shift();
          const afterThis = sentAfter;
          const sweptThis = swept;
          const statement = quietly(
            actions.recordPage(input.actionId, attempt, records).then((page) => {
              // Counted as soon as written, in whatever order: a retry never sends these orders again.
              recorded.refunded += page.refunded;
              recorded.refused += page.refused;
              heartbeat.progress(recorded);
            }),
          );
          statements.push(statement);
          // The cursor moves in page order: past a page only once it and every page before it are written.
          recording = quietly(
            Promise.all([recording, statement]).then(() => {
              recorded.afterOrderId = afterThis;
              recorded.swept = sweptThis;
              recorded.pages += 1;
              heartbeat.progress(recorded);
            }),
          );
        }
        await recording;
        return result(false);
      } catch (err) {
        // The pages recorded before a refusal stay counted: the process adds them and ops' retry starts after them.
        await Promise.allSettled([recording, ...statements]);
        const before: RecordedBeforeRefusal = { refunded: recorded.refunded, refused: recorded.refused, afterOrderId: recorded.afterOrderId };
        throw needsOps(err, [before]);
      } finally {
        // A failed page must not leave its recording running past the attempt.
        await Promise.allSettled([recording, ...statements]);
        heartbeat.stop();
      }
    },
  };
}

export type EnforcementActivities = ReturnType<typeof createEnforcementActivities>;
