import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { testServerPath } from '../support/temporal';

/**
 * Production runs compiled JavaScript and a workflow bundle built ahead (`npm run build`), with
 * no TypeScript runner in its image. This builds once, as the Dockerfile does, and runs what
 * the image runs.
 */
const root = path.resolve(__dirname, '..', '..');
const dist = path.join(root, 'dist');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const node = (args: string[], env: Record<string, string | undefined> = {}) =>
  spawnSync(process.execPath, args, { cwd: root, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 60_000 });

describe('the production build', () => {
  beforeAll(() => {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe', timeout: 240_000 });
  }, 300_000);

  it('needs no TypeScript runner at run time: tsx is a dev dependency', () => {
    expect(pkg.dependencies).not.toHaveProperty('tsx');
    expect(pkg.devDependencies).toHaveProperty('tsx');
    for (const script of ['start:prod', 'start:prod:worker', 'start:prod:sandbox', 'migrate:prod']) {
      expect([script, pkg.scripts[script]]).toEqual([script, expect.stringMatching(/^node dist\/\S+\.js$/)]);
    }
  });

  it.each(['api/main.js', 'worker/main.js', 'worker/healthcheck.js', 'platform/sandbox/main.js', 'db/migrate.js', 'workflow-bundle.js'])('writes dist/%s', (file) => {
    expect(fs.statSync(path.join(dist, file)).size).toBeGreaterThan(0);
  });

  it('compiled code runs on its own: the migrations apply to an empty database', () => {
    const pglite = fs.mkdtempSync(path.join(os.tmpdir(), 'build-migrate-'));
    try {
      const run = node(['dist/db/migrate.js'], { PGLITE_DIR: pglite, LOG_LEVEL: 'error' });
      expect([run.status, run.stderr]).toEqual([0, '']);
      expect(run.stdout).toMatch(/^migrated /);
    } finally {
      fs.rmSync(pglite, { recursive: true, force: true });
    }
  }, 120_000);

  it('the worker healthcheck answers from the liveness mark: fresh is healthy, stale or missing is not', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-health-'));
    const file = path.join(dir, 'alive');
    try {
      expect(node(['dist/worker/healthcheck.js'], { WORKER_HEALTH_FILE: file }).status).toBe(1);
      fs.writeFileSync(file, 'now');
      expect(node(['dist/worker/healthcheck.js'], { WORKER_HEALTH_FILE: file }).status).toBe(0);
      const old = new Date(Date.now() - 5 * 60_000);
      fs.utimesSync(file, old, old);
      expect(node(['dist/worker/healthcheck.js'], { WORKER_HEALTH_FILE: file }).status).toBe(1);
      expect(node(['dist/worker/healthcheck.js']).status).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a worker runs workflows from the prebuilt bundle, without bundling at start', async () => {
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServerPath() } } });
    try {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: 'prebuilt',
        workflowBundle: { codePath: path.join(dist, 'workflow-bundle.js') },
        activities: { importOrders: async () => ({ pages: 1, events: 7 }) },
      });
      const result = await worker.runUntil(env.client.workflow.execute('orderImport', { taskQueue: 'prebuilt', workflowId: 'order-import:prebuilt', args: [{}] }));
      expect(result).toEqual({ pages: 1, events: 7 });
    } finally {
      await env.teardown();
    }
  });
});
