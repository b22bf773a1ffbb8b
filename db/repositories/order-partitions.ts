import type { Knex } from 'knex';
import { createAuditLog } from './audit-log';
import { addMonths, archiveAgeRefusal, DEFAULT_ARCHIVE_MIN_AGE_MONTHS, firstDayOf, isMonth, partitionOf } from '../../domain/order-partitions';

/**
 * The monthly partitions of `orders` (migration 030): made ahead by the `order-partitions`
 * schedule, and an old month detached into the `orders_archive` schema (and back) by
 * `npm run archive-orders`. Creating, archiving and restoring take one advisory lock, so
 * none of them runs beside another; each writes its audit row in its own transaction.
 */

export const ARCHIVE_SCHEMA = 'orders_archive';
const PARTITIONS_LOCK = "pg_advisory_xact_lock(hashtext('merchant-ops order partitions'))";
// DETACH and ATTACH wait for every transaction reading `orders`: a settlement's long read
// would hold the command (and every query queued behind its lock) for as long as it runs.
const LOCK_TIMEOUT = '10s';

/** A month that may not be archived (or restored) now; nothing was changed. */
export class OrderArchiveRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrderArchiveRefusedError';
  }
}

/** Who asked, as the audit log names them. */
export interface ArchiveActor {
  sub: string;
  role: string;
  requestId: string;
}

/** What still needs a month's orders in `orders`: archiving is refused while any is above 0. */
export interface ArchiveBlockers {
  /** Paid, neither confirmed nor refunded: the feed will change them again. */
  openOrders: number;
  /** Receipt confirmed, not on a statement yet. */
  toSettle: number;
  /** Refunded after their statement, the refund on no statement yet. */
  refundsToCarry: number;
  /** Logistics compensations still to pay (logistics_exceptions pending). */
  compensationsPending: number;
  /** Shipping warnings neither sent nor refused. */
  warningsUnsent: number;
  /** Late records still waiting for the shipment (or the refund) to close them. */
  lateUnclosed: number;
  /** After-sales tickets not resolved. */
  ticketsOpen: number;
  /** Enforcement actions not finished on a shop with orders this month: their refund pages walk its orders. */
  enforcementLive: number;
}

export interface ArchiveResult {
  month: string;
  partition: string;
  orders: number;
}

/** The guards as SQL over one month's table (`:t` is its qualified name). */
const BLOCKER_COUNTS = (t: string) => `
SELECT
  (SELECT count(*) FROM ${t} o WHERE o.status = 'paid')::int AS "openOrders",
  (SELECT count(*) FROM ${t} o WHERE o.status = 'receipt_confirmed' AND o.settled_period IS NULL)::int AS "toSettle",
  (SELECT count(*) FROM ${t} o WHERE o.settled_period IS NOT NULL AND o.refunded_at IS NOT NULL AND o.refund_settled_period IS NULL)::int AS "refundsToCarry",
  (SELECT count(*) FROM logistics_exceptions x WHERE x.status = 'pending' AND EXISTS (SELECT 1 FROM ${t} o WHERE o.id = x.order_id))::int AS "compensationsPending",
  (SELECT count(*) FROM shipping_warnings w WHERE w.notified_at IS NULL AND w.refused_reason IS NULL AND EXISTS (SELECT 1 FROM ${t} o WHERE o.id = w.order_id))::int AS "warningsUnsent",
  (SELECT count(*) FROM late_shipments l WHERE l.shipped_at IS NULL AND l.closed_at IS NULL AND EXISTS (SELECT 1 FROM ${t} o WHERE o.id = l.order_id))::int AS "lateUnclosed",
  (SELECT count(*) FROM after_sales_tickets k WHERE k.state <> 'resolved' AND EXISTS (SELECT 1 FROM ${t} o WHERE o.id = k.order_id))::int AS "ticketsOpen",
  (SELECT count(*) FROM enforcement_actions a WHERE a.state IN ('awaiting_approval', 'refunding', 'paused', 'needs_attention')
      AND EXISTS (SELECT 1 FROM ${t} o WHERE o.shop_id = a.shop_id))::int AS "enforcementLive"`;

const BLOCKER_WORDS: Record<keyof ArchiveBlockers, string> = {
  openOrders: 'open (paid) orders',
  toSettle: 'confirmed orders still to settle',
  refundsToCarry: 'refunds not yet on a statement',
  compensationsPending: 'logistics compensations pending',
  warningsUnsent: 'shipping warnings unsent',
  lateUnclosed: 'late shipments still open',
  ticketsOpen: 'after-sales tickets unresolved',
  enforcementLive: 'enforcement actions in progress on its shops',
};

export function describeBlockers(b: ArchiveBlockers): string[] {
  return (Object.keys(BLOCKER_WORDS) as Array<keyof ArchiveBlockers>).filter((k) => b[k] > 0).map((k) => `${b[k]} ${BLOCKER_WORDS[k]}`);
}

function requireMonth(month: string): void {
  if (!isMonth(month)) throw new OrderArchiveRefusedError(`not a month (YYYY-MM): ${JSON.stringify(month)}`);
}

/** Where a month's table is: attached to `orders`, parked in the archive schema, both (an error), or nowhere. */
async function locate(trx: Knex.Transaction, partition: string): Promise<{ attached: boolean; archived: boolean; inPublic: boolean }> {
  const { rows } = (await trx.raw(
    `SELECT to_regclass(format('public.%I', CAST(:p AS text))) IS NOT NULL AS "inPublic",
            to_regclass(format('%I.%I', CAST(:s AS text), CAST(:p AS text))) IS NOT NULL AS archived,
            EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = to_regclass('public.orders')
                       AND i.inhrelid = to_regclass(format('public.%I', CAST(:p AS text)))) AS attached`,
    { p: partition, s: ARCHIVE_SCHEMA },
  )) as { rows: Array<{ inPublic: boolean; archived: boolean; attached: boolean }> };
  return rows[0]!;
}

export function createOrderPartitionRepository(db: Knex) {
  const exclusively = <T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> =>
    db.transaction(async (trx) => {
      await trx.raw(`SELECT ${PARTITIONS_LOCK}`);
      await trx.raw(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      return work(trx);
    });

  return {
    /**
     * Makes sure every month from `from` through `through` has its partition, moving the
     * orders already paid in it out of `orders_default`; the months it had to create, in
     * order (none when run again).
     */
    async ensurePartitions(from: string, through: string, actor?: ArchiveActor): Promise<string[]> {
      return exclusively(async (trx) => {
        const { rows } = (await trx.raw('SELECT ensure_order_partitions(?::date, ?::date) AS created', [firstDayOf(from), firstDayOf(through)])) as {
          rows: Array<{ created: string[] }>;
        };
        const created = rows[0]!.created;
        // Audited when something changed: a run that finds every partition there writes nothing.
        if (actor && created.length > 0) await audit(trx, actor, 'orders.partitions_created', 'partitions', { from, through, created });
        return created;
      });
    },

    /** Months whose partition is attached to `orders`, oldest first. */
    async attachedMonths(): Promise<string[]> {
      const { rows } = (await db.raw(
        `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'public.orders'::regclass AND c.relname ~ '^orders_[0-9]{4}_[0-9]{2}$' ORDER BY c.relname`,
      )) as { rows: Array<{ relname: string }> };
      return rows.map((r) => r.relname.slice('orders_'.length).replace('_', '-'));
    },

    /** What still needs the month's orders in `orders` (its partition must be attached). */
    async archiveBlockers(month: string): Promise<ArchiveBlockers> {
      requireMonth(month);
      return blockersOf(db, month);
    },

    /**
     * Detaches the month's partition from `orders` and moves it to the archive schema, so it
     * can be dumped and dropped; refused, changing nothing, when the month is too recent or
     * anything still needs its orders (describeBlockers). The lock DETACH needs is taken
     * before the guards, so no order changes between the checks and the detach.
     */
    async archiveMonth(month: string, options: { now: Date; minAgeMonths?: number; actor: ArchiveActor }): Promise<ArchiveResult> {
      requireMonth(month);
      const tooRecent = archiveAgeRefusal(month, options.now, options.minAgeMonths ?? DEFAULT_ARCHIVE_MIN_AGE_MONTHS);
      if (tooRecent) throw new OrderArchiveRefusedError(tooRecent);
      const partition = partitionOf(month);
      return exclusively(async (trx) => {
        const where = await locate(trx, partition);
        if (where.archived) throw new OrderArchiveRefusedError(`${month} is already archived (${ARCHIVE_SCHEMA}.${partition})`);
        if (!where.attached) throw new OrderArchiveRefusedError(`${month} has no partition of orders (public.${partition})`);
        await trx.raw('LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE');
        const blockers = describeBlockers(await blockersOf(trx, month));
        if (blockers.length > 0) throw new OrderArchiveRefusedError(`${month} cannot be archived: ${blockers.join(', ')}`);
        const orders = await countOf(trx, `public.${partition}`);
        await trx.raw('ALTER TABLE public.orders DETACH PARTITION ??', [`public.${partition}`]);
        await trx.raw('CREATE SCHEMA IF NOT EXISTS ??', [ARCHIVE_SCHEMA]);
        await trx.raw('ALTER TABLE ?? SET SCHEMA ??', [`public.${partition}`, ARCHIVE_SCHEMA]);
        await audit(trx, options.actor, 'orders.archive', month, { partition: `${ARCHIVE_SCHEMA}.${partition}`, orders });
        return { month, partition: `${ARCHIVE_SCHEMA}.${partition}`, orders };
      });
    },

    /**
     * Moves an archived month back into `orders`: its table back to public, any order of that
     * month that reached `orders_default` meanwhile (a new id: a known one is refused by
     * order_ids) moved into it, then attached again. Refused when the month is not archived or
     * a table of that name is in public again.
     */
    async restoreMonth(month: string, options: { actor: ArchiveActor }): Promise<ArchiveResult> {
      requireMonth(month);
      const partition = partitionOf(month);
      return exclusively(async (trx) => {
        const where = await locate(trx, partition);
        if (!where.archived) throw new OrderArchiveRefusedError(`${month} is not archived (no ${ARCHIVE_SCHEMA}.${partition})`);
        if (where.inPublic) throw new OrderArchiveRefusedError(`public.${partition} exists again: move its orders into ${ARCHIVE_SCHEMA}.${partition} and drop it first`);
        await trx.raw('LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE');
        await trx.raw('ALTER TABLE ?? SET SCHEMA public', [`${ARCHIVE_SCHEMA}.${partition}`]);
        // The bounds ensure_order_partition gives a month: its first instant in Shanghai, and the next month's.
        const bounds = `CAST(CAST(:first AS date) AS timestamp) AT TIME ZONE 'Asia/Shanghai'`;
        const next = `CAST(CAST(:next AS date) AS timestamp) AT TIME ZONE 'Asia/Shanghai'`;
        const params = { first: firstDayOf(month), next: firstDayOf(addMonths(month, 1)), part: `public.${partition}` };
        await trx.raw(`WITH moved AS (DELETE FROM public.orders_default WHERE paid_at >= ${bounds} AND paid_at < ${next} RETURNING *) INSERT INTO :part: SELECT * FROM moved`, params);
        // DDL takes no parameters: the statement is built by format() with the bounds as literals.
        const { rows } = (await trx.raw(
          `SELECT format('ALTER TABLE public.orders ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)', CAST(:name AS text), ${bounds}, ${next}) AS sql`,
          { ...params, name: partition },
        )) as { rows: Array<{ sql: string }> };
        await trx.raw(rows[0]!.sql);
        const orders = await countOf(trx, `public.${partition}`);
        await audit(trx, options.actor, 'orders.restore', month, { partition: `public.${partition}`, orders });
        return { month, partition: `public.${partition}`, orders };
      });
    },
  };
}

async function blockersOf(db: Knex, month: string): Promise<ArchiveBlockers> {
  const { rows } = (await db.raw(BLOCKER_COUNTS(`public.${partitionOf(month)}`))) as { rows: ArchiveBlockers[] };
  return rows[0]!;
}

async function countOf(trx: Knex.Transaction, table: string): Promise<number> {
  const { rows } = (await trx.raw('SELECT count(*)::int AS n FROM ??', [table])) as { rows: Array<{ n: number }> };
  return rows[0]!.n;
}

/** Audit rows of the partitions have no HTTP status: they are written by a command or a scheduled process. */
function audit(trx: Knex.Transaction, actor: ArchiveActor, action: string, what: string, details: Record<string, unknown>): Promise<void> {
  return createAuditLog(trx).record({ requestId: actor.requestId, actorSub: actor.sub, actorRole: actor.role, action, target: `orders:${what}`, statusCode: null, outcome: 'succeeded', details });
}

export type OrderPartitionRepository = ReturnType<typeof createOrderPartitionRepository>;
