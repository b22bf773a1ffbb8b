import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createFulfilmentActivities } from '../../activities/fulfilment';
import { DEFAULT_FULFILMENT_POLICY } from '../../domain/fulfilment';
import { createPlatformClient } from '../../platform/client';
import { startSandboxPlatform, type RunningSandbox } from '../../platform/sandbox';
import { createTestDb, type TestDb } from '../support/db';
import { fulfilmentOrder as order, HOUR, plus, publishAndImport, shanghai } from '../support/fulfilment';

/** The tables a scan pass reads its work from; fulfilment_cursors is one row per watermark. */
const WORK_TABLES = /\bon (orders|late_shipments|shipping_warnings|logistics_exceptions|shipping_days)\b/;

/**
 * The fulfilment scan runs every 10 minutes over 10M open orders, so each pass must read only
 * what is still to do: work done by an earlier run must have left the index the pass reads
 * (partial indexes over a state that changes once the work is done), not be read and skipped
 * again. Proved on the plans PostgreSQL runs: every statement of a second run reads its tables
 * through an index, and reads no row at all when the first run left nothing to do.
 */
describe('fulfilment scan: every pass reads only the work still to do', () => {
  let t: TestDb;
  let sandbox: RunningSandbox;
  const statements: Array<{ sql: string; bindings: unknown[] }> = [];
  let capturing = false;

  beforeAll(async () => {
    t = await createTestDb();
    sandbox = await startSandboxPlatform({ port: 0, token: 't' });
    t.db.on('query', (q: { sql: string; bindings?: unknown[] }) => {
      if (capturing) statements.push({ sql: q.sql, bindings: q.bindings ?? [] });
    });
  });
  afterAll(async () => {
    await sandbox?.close();
    await t?.destroy();
  });

  const quiet = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const activities = () =>
    createFulfilmentActivities({
      db: t.db,
      platform: createPlatformClient({ baseUrl: sandbox.url, token: 't', timeoutMs: 5_000 }),
      policy: DEFAULT_FULFILMENT_POLICY,
    });

  async function runScan(asOf: string): Promise<void> {
    const a = activities();
    const env = quiet();
    for (const step of [a.warnMerchants, a.recordDueOrders, a.detectLogisticsExceptions, a.payCompensations]) await env.run(step, { asOf, pageSize: 7 });
  }

  /** Runs a statement as it ran, under EXPLAIN ANALYZE with scans that ignore indexes priced out, and rolls it back. */
  async function analyzed(sql: string, bindings: unknown[]): Promise<string> {
    const client = t.db.client as { acquireConnection(): Promise<{ query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, string>> }> }>; releaseConnection(c: unknown): Promise<void> };
    const conn = await client.acquireConnection();
    try {
      await conn.query('BEGIN');
      for (const setting of ['enable_seqscan', 'enable_bitmapscan']) await conn.query(`SET LOCAL ${setting} = off`);
      const { rows } = await conn.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ${sql}`, bindings);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await conn.query('ROLLBACK');
      await client.releaseConnection(conn);
    }
  }

  const A = shanghai('2026-12-10T12:00:00');

  test('a second run reads no order, late record, warning or exception the first one finished', async () => {
    const batch = (prefix: string, n: number, make: (id: string, i: number) => ReturnType<typeof order>) => Array.from({ length: n }, (_, i) => make(`${prefix}-${String(i).padStart(2, '0')}`, i));
    await publishAndImport(sandbox.state, t.db, [
      // Reported lost by the carrier: recorded and compensated once, then never read again.
      ...batch('o-lost', 15, (id) => order(id, 'm-w', { paidAt: plus(A, -100 * HOUR), shippedAt: plus(A, -99 * HOUR), trackingNumber: 'SF', trackingUpdatedAt: plus(A, -HOUR), logisticsException: 'lost' })),
      // Silent for 80 h, never received: one no_tracking exception each.
      ...batch('o-silent', 15, (id) => order(id, 'm-w', { paidAt: plus(A, -90 * HOUR), shippedAt: plus(A, -80 * HOUR), trackingNumber: 'YT' })),
      // Due within the warning lead: warned once.
      ...batch('o-soon', 15, (id, i) => order(id, 'm-w', { paidAt: plus(A, -40 * HOUR + i * 60_000) })),
      // Late, then refunded without ever shipping: the late record has nothing left to wait for.
      ...batch('o-gone', 15, (id) => order(id, 'm-w', { paidAt: plus(A, -60 * HOUR), status: 'refunded', refundedAt: plus(A, -5 * HOUR) })),
    ]);
    await runScan(A);
    expect(await t.db('logistics_exceptions').count({ n: '*' }).first()).toEqual({ n: 30 });
    expect(await t.db('shipping_warnings').whereNotNull('notified_at').count({ n: '*' }).first()).toEqual({ n: 15 });
    expect(await t.db('late_shipments').count({ n: '*' }).first()).toEqual({ n: 15 });

    statements.length = 0;
    capturing = true;
    await runScan(plus(A, 10 * 60_000));
    capturing = false;
    const reads = statements.filter((s) => /\b(orders|late_shipments|shipping_warnings|logistics_exceptions)\b/.test(s.sql) && !/^insert into "fulfilment_cursors"/i.test(s.sql));
    // The eight reads of the four passes: warnings (page, drop, unsent), deadlines, late records, silent, reported, pending.
    expect(reads).toHaveLength(8);
    // Every offending scan, with its statement: the whole list fails at once.
    const problems: string[] = [];
    for (const { sql, bindings } of reads) {
      const plan = await analyzed(sql, bindings);
      const scans = plan.split('\n').filter((line) => WORK_TABLES.test(line) && /Scan/.test(line));
      const bad = [
        ...scans.filter((l) => /Seq Scan/.test(l) || (!/actual rows=0 /.test(l) && !/never executed/.test(l))),
        ...(plan.match(/Rows Removed by \w+: [1-9]\d*/g) ?? []),
      ];
      if (bad.length > 0) problems.push(`${sql.replace(/\s+/g, ' ').slice(0, 160)}\n${bad.map((l) => l.trim()).join('\n')}`);
    }
    expect(problems).toEqual([]);
  });

  test('what leaves an index comes back when there is new work: a parcel reported lost, then damaged, is recorded for each', async () => {
    const env = quiet();
    const detect = (asOf: string) => env.run(activities().detectLogisticsExceptions, { asOf, pageSize: 7 });
    const lost = order('o-lost-00', 'm-w', { paidAt: plus(A, -100 * HOUR), shippedAt: plus(A, -99 * HOUR), trackingNumber: 'SF', trackingUpdatedAt: plus(A, -HOUR) });
    await publishAndImport(sandbox.state, t.db, [{ ...lost, logisticsException: 'damaged' }]);
    expect(await detect(plus(A, 20 * 60_000))).toEqual({ noTracking: 0, reported: 1 });
    expect(await detect(plus(A, 30 * 60_000))).toEqual({ noTracking: 0, reported: 0 });
    expect((await t.db('logistics_exceptions').where({ order_id: 'o-lost-00' }).orderBy('kind')).map((x) => x.kind)).toEqual(['damaged', 'lost']);
  });
});
