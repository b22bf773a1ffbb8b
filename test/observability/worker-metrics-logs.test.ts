import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureSearchAttributes } from '../../worker/search-attributes';
import { createTestDb, type TestDb } from '../support/db';
import { eventually } from '../support/fixtures';
import { temporalCliPath } from '../support/temporal';

const ROOT = path.resolve(__dirname, '../..');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

// The real worker/main.ts in a process of its own (the Temporal runtime is installed once per
// process), against a dev server: schedules need a real one.
const describeWithServer = process.env.DATABASE_URL ? describe : describe.skip;

describeWithServer('the worker: metrics port and one JSON log stream', () => {
  let env: TestWorkflowEnvironment;
  let testDb: TestDb;
  let child: ChildProcess | undefined;
  let stdout = '';
  let stderr = '';
  let metricsPort: number;
  const taskQueue = `metrics-${randomBytes(4).toString('hex')}`;
  const jsonLines = () =>
    stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: temporalCliPath() }, ui: false, extraArgs: ['--log-level', 'error'] },
    });
    await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
    testDb = await createTestDb();
    await testDb.db('settlement_runs').insert({ period: '2026-10', status: 'running', merchants_total: 12, merchants_done: 5 });
    metricsPort = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        // The business clock; the worker refuses a host whose lunar holidays it would misplace.
        TZ: 'Asia/Shanghai',
        NODE_ENV: 'test',
        // Debug: the core's own lines then certainly come, and must come as JSON too.
        LOG_LEVEL: 'debug',
        DATABASE_URL: testDb.url,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        WORKER_METRICS_PORT: String(metricsPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await eventually(async () => stdout, (out) => out.includes('worker metrics listening') || child?.exitCode !== null, 100_000).catch(
      (err: unknown) => {
        throw new Error(`the worker did not start: ${String(err)}\nstdout: ${stdout}\nstderr: ${stderr}`);
      },
    );
    if (child.exitCode !== null) throw new Error(`the worker exited: ${stdout}\n${stderr}`);
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      // A worker that never reached Worker.run does not stop on SIGTERM (the SDK holds the signal).
      const stuck = setTimeout(() => child?.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(stuck);
    }
    await testDb?.destroy();
    await env?.teardown();
  });

  const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

  test('one scrape answers the Temporal SDK runtime metrics and every business gauge', async () => {
    // The SDK reports its pollers once the worker polls.
    const text = await eventually(scrape, (t) => /^temporal_num_pollers\{/m.test(t), 30_000);
    expect(text).toMatch(/^temporal_worker_task_slots_available\{/m);
    expect(text).toContain('merchant_ops_open_reviews{kind="verification",status="in_review"} 0');
    expect(text).toContain('merchant_ops_overdue_reviews{kind="entity_change"} 0');
    expect(text).toContain('merchant_ops_shops_in_shortfall{step="none"} 0');
    expect(text).toContain('merchant_ops_shops_in_shortfall{step="restrict_withdrawals"} 0');
    expect(text).toContain('merchant_ops_settlement_run_merchants{period="2026-10",state="total"} 12');
    expect(text).toContain('merchant_ops_settlement_run_merchants{period="2026-10",state="done"} 5');
    expect(text).toContain('merchant_ops_settlement_run_running{period="2026-10"} 1');
    expect(text).toMatch(/^merchant_ops_calendar_coverage_days_left -?\d+$/m);
    expect(text).toContain('merchant_ops_business_gauges_up 1');
  });

  test('every line the worker, the SDK and the core write is JSON', async () => {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child!.kill('SIGTERM');
    await exited;
    const parsed = jsonLines();
    expect(parsed.length).toBeGreaterThan(3);
    expect(parsed.every((l) => l.component === 'worker')).toBe(true);
    // The SDK's own lines (worker state changes) and the Rust core's come through the same logger.
    expect(parsed.some((l) => l.source === 'temporal' && l.sdkComponent === 'worker')).toBe(true);
    expect(parsed.some((l) => l.source === 'temporal' && l.sdkComponent === 'core')).toBe(true);
    expect(stderr).toBe('');
  });
});
