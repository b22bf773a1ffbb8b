import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { isReadOnly, startReadOnlyUi, type ReadOnlyUi } from '../../scripts/read-only-ui';
import { startTemporalDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import { temporalCliPath } from '../support/temporal';

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The listing's body once it answers 200 and names the run; what it last answered after 30 s. */
async function listingOnceReady(url: string): Promise<string> {
  let last = '';
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
    const answer = await fetch(url);
    last = `${answer.status} ${await answer.text()}`;
    if (answer.status === 200 && last.includes('ui-read-only')) return last;
  }
  return last;
}

describe('isReadOnly', () => {
  it.each([
    ['GET', '/api/v1/namespaces/default/workflows?query=x', true],
    ['HEAD', '/', true],
    ['OPTIONS', '/api/v1/namespaces/default/workflows/w/terminate', true],
    ['POST', '/api/v1/namespaces/default/workflows/verification%3Am-1/query/state', true],
    ['POST', '/api/v1/namespaces/default/workflows/w/query/state?x=1', true],
    ['POST', '/api/v1/namespaces/default/workflows/w/terminate', false],
    ['POST', '/api/v1/namespaces/default/workflows/w/signal/cancel', false],
    ['POST', '/api/v1/namespaces/default/workflows/w/reset', false],
    ['POST', '/api/v1/namespaces/default/workflows/w/cancel', false],
    ['POST', '/api/v1/namespaces/default/workflows/w/update/deduct', false],
    ['POST', '/api/v1/namespaces/default/batch-operations/job-1', false],
    ['POST', '/api/v1/namespaces/default/workflows/w', false],
    ['POST', '/api/v1/namespaces/default/workflows/w/query/state/extra', false],
    ['DELETE', '/api/v1/namespaces/default/schedules/s', false],
    ['PUT', '/api/v1/namespaces/default', false],
  ])('%s %s: %s', (method, url, readOnly) => {
    expect(isReadOnly(method, url)).toBe(readOnly);
  });
});

// The dev stack's wiring (scripts/dev.ts): the CLI's UI on a private port, the proxy in front.
describe('the dev stack\'s Web UI', () => {
  let dir: string;
  let server: DevServer;
  let ui: ReadOnlyUi;
  let connection: Connection;
  let client: Client;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'read-only-ui-'));
    const port = await freePort();
    server = await startTemporalDevServer({
      cliPath: temporalCliPath(),
      dbFile: path.join(dir, 'temporal.db'),
      address: `127.0.0.1:${port}`,
      uiPort: await freePort(),
      namespace: 'default',
      onOutput: () => undefined,
      warn: () => undefined,
    });
    ui = await startReadOnlyUi({ upstream: `http://127.0.0.1:${server.uiPort}`, host: '127.0.0.1', port: 0 });
    connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    client = new Client({ connection });
  }, 90_000);
  afterAll(async () => {
    await connection?.close();
    await ui?.close();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The UI's own settings, straight from the CLI and through the proxy. */
  const settingsAt = async (base: string) => (await (await fetch(`${base}/api/v1/settings`)).json()) as { DisableWriteActions: boolean; Version: string };

  it('tells the UI to offer no write action (the CLI\'s own UI would)', async () => {
    expect((await settingsAt(`http://127.0.0.1:${server.uiPort}`)).DisableWriteActions).toBe(false);
    const proxied = await settingsAt(ui.url);
    expect(proxied.DisableWriteActions).toBe(true);
    expect(proxied.Version).toEqual(expect.any(String));
  });

  it('serves the UI and its reads, and refuses a termination: the process goes on', async () => {
    // No worker: the run just waits, Running.
    const handle = await client.workflow.start('someProcess', { workflowId: 'ui-read-only', taskQueue: 'nobody' });
    expect((await fetch(`${ui.url}/`)).status).toBe(200);
    // The UI's own connection to the server and the visibility store come up a little after the
    // server answers (the CI saw one 503): the listing is read until it shows the run.
    expect(await listingOnceReady(`${ui.url}/api/v1/namespaces/default/workflows`)).toContain('ui-read-only');

    for (const action of ['terminate', 'cancel', 'reset', 'signal/anything']) {
      const refused = await fetch(`${ui.url}/api/v1/namespaces/default/workflows/ui-read-only/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'from the UI' }),
      });
      expect([action, refused.status]).toEqual([action, 403]);
    }
    expect((await fetch(`${ui.url}/api/v1/namespaces/default/batch-operations/b-1`, { method: 'POST', body: '{}' })).status).toBe(403);
    expect((await handle.describe()).status.name).toBe('RUNNING');
  }, 60_000);
});
