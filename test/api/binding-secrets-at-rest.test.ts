import { randomBytes } from 'node:crypto';
import { createFakePartnerGateway } from '../support/partner-gateway-fake';
import { bindingApi, merchantClaims, seedPartnerStores } from '../support/bindings';
import { eventually } from '../support/fixtures';
import { openShop } from '../support/shops';
import { startStack, type Stack } from '../support/stack';
import { createPartnerSecrets } from '../../db/repositories/partner-secrets';

/**
 * A Youzan binding's secrets at rest: the OAuth code while it waits to be exchanged, then the
 * access and refresh tokens, are in PostgreSQL only sealed with PARTNER_SECRETS_KEY. Every
 * column of every partner_secrets row (and every other table) is scanned for the clear
 * strings and for their plain encodings; the sealed rows open back to the strings with the
 * key, through the repository, and not with another key.
 */
jest.setTimeout(180_000);

const fake = createFakePartnerGateway();
let stack: Stack;
let api: ReturnType<typeof bindingApi>;

beforeAll(async () => {
  stack = await startStack({}, { partners: fake });
  api = bindingApi(stack);
});
afterAll(async () => {
  fake.outage = false;
  await stack?.teardown();
});

/** A value as stored, and what it reads as when some part of it is merely encoded (base64, base64url, hex). */
function readings(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  const raw = Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
  const text = raw.toString('utf8');
  const out = [text, raw.toString('latin1')];
  for (const part of [text, ...text.split(/[^A-Za-z0-9+/=_-]+/)].filter((p) => p.length >= 8)) {
    out.push(Buffer.from(part, 'base64').toString('latin1'), Buffer.from(part, 'base64url').toString('latin1'));
    if (/^(?:[0-9a-f]{2})+$/i.test(part)) out.push(Buffer.from(part, 'hex').toString('latin1'));
  }
  return out;
}

/** Which of `secrets` some column of `rows` holds in clear or merely encoded: `table.column` each. */
function clearIn(table: string, rows: Array<Record<string, unknown>>, secrets: string[]): string[] {
  const found: string[] = [];
  for (const row of rows) {
    for (const [column, value] of Object.entries(row)) {
      const seen = readings(value);
      for (const secret of secrets) if (seen.some((r) => r.includes(secret))) found.push(`${table}.${column}`);
    }
  }
  return found;
}

/** Every text, character, bytea or JSON column of the table: the scan must cover each of them. */
const scannableColumns = async (table: string): Promise<string[]> =>
  (
    await stack.db('information_schema.columns')
      .where({ table_schema: 'public', table_name: table })
      .whereIn('data_type', ['text', 'character varying', 'character', 'bytea', 'json', 'jsonb'])
      .orderBy('column_name')
      .select<Array<{ column_name: string }>>('column_name')
  ).map((c) => c.column_name);

async function expectSealed(bindingId: string, secrets: string[]) {
  const rows = await stack.db('partner_secrets').where({ binding_id: bindingId });
  expect(rows.length).toBeGreaterThan(0);
  // Every column that could hold a string is in the rows scanned.
  for (const column of await scannableColumns('partner_secrets')) expect(Object.keys(rows[0])).toContain(column);
  expect(clearIn('partner_secrets', rows, secrets)).toEqual([]);
  // The row as PostgreSQL prints it (bytea as hex) holds neither the string nor its hex.
  const printed = (await stack.db.raw('SELECT t::text AS row FROM partner_secrets t WHERE binding_id = ?', [bindingId])).rows.map((r: { row: string }) => r.row).join('\n');
  for (const secret of secrets) {
    expect(printed).not.toContain(secret);
    expect(printed).not.toContain(Buffer.from(secret, 'utf8').toString('hex'));
  }
}

test("a Youzan binding's code and tokens are stored sealed: nowhere in clear, opened back only with the key", async () => {
  const merchantId = 'm-bind-sealed';
  await openShop(stack, merchantId);
  const { youzan } = seedPartnerStores(fake, merchantId);
  const started = await api.post('/v1/bindings', merchantClaims(merchantId), { platform: 'youzan', storeId: youzan, level: 'advanced' });
  expect(started.status).toBe(201);
  const bindingId = started.body.bindingId as string;
  const vault = createPartnerSecrets(stack.db, stack.config.PARTNER_SECRETS_KEY);
  const otherKey = createPartnerSecrets(stack.db, randomBytes(32).toString('base64'));

  // Youzan is down when the merchant comes back: the code waits in the vault for the exchange.
  fake.outage = true;
  const code = fake.consent(youzan, 'advanced');
  const waiting = await api.callback({ code, state: api.stateOf(started.body.authorizeUrl) });
  expect(waiting.status).toBe(202);
  // Accepted, not refused: the code waits for the exchange, and the audit row says so.
  expect(await stack.db('audit_log').where({ action: 'binding.oauth_callback', request_id: waiting.headers['x-request-id'] }).first()).toMatchObject({ status_code: 202, outcome: 'succeeded' });
  const codeRow = await stack.db('partner_secrets').where({ binding_id: bindingId, kind: 'authorisation_code' }).whereNull('retired_at').first();
  expect(codeRow).toBeDefined();
  await expectSealed(bindingId, [code]);
  await expect(vault.open(codeRow.id)).resolves.toBe(code);
  await expect(otherKey.open(codeRow.id)).rejects.toThrow();

  const issuedBefore = fake.issued.length;
  fake.outage = false;
  const bound = await eventually(() => stack.db('store_bindings').where({ id: bindingId }).first(), (r) => r.status === 'bound', 60_000);
  expect(bound).toMatchObject({ status: 'bound', permission_level: 'advanced' });
  const [accessToken, refreshToken] = fake.issued.slice(issuedBefore);
  expect(accessToken).toMatch(/^access-/);
  expect(refreshToken).toMatch(/^refresh-/);

  const rows = await stack.db('partner_secrets').where({ binding_id: bindingId }).orderBy('created_at');
  expect(rows.map((r) => `${r.kind}:${r.retired_at === null ? 'live' : 'retired'}`).sort()).toEqual(['access_token:live', 'authorisation_code:retired', 'refresh_token:live']);
  await expectSealed(bindingId, [code, accessToken!, refreshToken!]);

  const live = (kind: string) => rows.find((r) => r.kind === kind && r.retired_at === null)!.id as string;
  await expect(vault.open(live('access_token'))).resolves.toBe(accessToken);
  await expect(vault.open(live('refresh_token'))).resolves.toBe(refreshToken);
  await expect(otherKey.open(live('refresh_token'))).rejects.toThrow();
  // The exchanged code is spent: nothing of it is left to open.
  await expect(vault.open(codeRow.id)).resolves.toBeNull();
});

test('no other table holds the code or the tokens in clear either', async () => {
  const secrets = fake.issued;
  expect(secrets.length).toBeGreaterThanOrEqual(3);
  const tables = (await stack.db('information_schema.tables').where({ table_schema: 'public', table_type: 'BASE TABLE' }).select<Array<{ table_name: string }>>('table_name')).map((t) => t.table_name);
  expect(tables).toEqual(expect.arrayContaining(['partner_secrets', 'store_bindings', 'audit_log', 'binding_oauth_states']));
  const found: string[] = [];
  for (const table of tables) found.push(...clearIn(table, await stack.db(table).select('*'), secrets));
  expect(found).toEqual([]);
});
