import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { auditMutations } from '../../api/audit';
import { listen, type ListeningServer } from '../../api/listen';
import { createAuditLog } from '../../db/repositories/audit-log';
import { eventually } from '../support/fixtures';
import { createTestDb, type TestDb } from '../support/db';

/**
 * The audit middleware alone, on a real HTTP server with handlers the test controls: one
 * that never answers (a hung request) and one that answers only after its client has gone.
 */
describe('audit rows of hung and abandoned requests', () => {
  let t: TestDb;
  let server: ListeningServer;
  let base: string;
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });

  beforeAll(async () => {
    t = await createTestDb();
    const app = express();
    app.use((req, _res, next) => {
      req.id = String(req.headers['x-request-id']);
      req.principal = { sub: 'olga', role: 'ops' };
      next();
    });
    app.use(auditMutations(createAuditLog(t.db), pino({ level: 'silent' })));
    app.post('/hangs', () => undefined);
    app.post('/slow', async (_req, res) => {
      await released;
      res.locals.audit = { action: 'thing.slow', target: 'thing-1' };
      res.status(201).json({ done: true });
    });
    server = await listen(app, '127.0.0.1', 0);
    base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.server.closeAllConnections();
    await server?.close();
    await t?.destroy();
  });

  const rowsOf = (requestId: string) => t.db('audit_log').where({ request_id: requestId }).orderBy('id');

  /** Sends a POST and hangs up once its attempt is on record, so the handler surely got it. */
  async function sendAndHangUp(path: string, requestId: string): Promise<void> {
    const abort = new AbortController();
    const sent = fetch(`${base}${path}`, { method: 'POST', headers: { 'x-request-id': requestId }, signal: abort.signal }).catch(() => 'hung up');
    await eventually(() => rowsOf(requestId), (rows) => rows.length > 0);
    abort.abort();
    expect(await sent).toBe('hung up');
  }

  test('a request that never answers leaves its attempt, and an aborted row when its client leaves', async () => {
    await sendAndHangUp('/hangs', 'hung-1');
    const rows = await eventually(() => rowsOf('hung-1'), (found) => found.length === 2);
    expect(rows.map((r) => [r.outcome, r.status_code, r.actor_sub])).toEqual([
      ['attempted', null, 'olga'],
      ['aborted', null, 'olga'],
    ]);
  });

  test('work that completes after the client left is recorded with its real status', async () => {
    await sendAndHangUp('/slow', 'slow-1');
    await eventually(() => rowsOf('slow-1'), (found) => found.some((r) => r.outcome === 'aborted'));
    release();
    const rows = await eventually(() => rowsOf('slow-1'), (found) => found.length === 3);
    expect(rows.map((r) => [r.outcome, r.status_code, r.action, r.target])).toEqual([
      ['attempted', null, 'POST /slow', null],
      ['aborted', null, 'POST /slow', null],
      ['succeeded', 201, 'thing.slow', 'thing-1'],
    ]);
    expect(rows[2]!.details).toEqual({ method: 'POST', path: '/slow', afterHangUp: true });
  });
});
