import { startStack, type Stack } from '../support/stack';
import { apiFor, staff, type Api } from './http';

// PostgreSQL has no year 0: a day in year 0000 cannot be stored or compared with stored days,
// so every route that takes a day refuses it at the edge (400), never a 500 from the database.
describe('a day in year 0000', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack({ API_RATE_LIMIT_PER_MINUTE: '10000' });
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('a link window opening or closing in year 0000 is a 400', async () => {
    const base = { partner: 'jd', linkKind: 'self_operated', phases: [], source: 'a notice' };
    expect((await api.post('/v1/link-windows', staff.ops, { ...base, opensOn: '0000-01-01', closesOn: '2027-01-05' })).status).toBe(400);
    expect((await api.post('/v1/link-windows', staff.ops, { ...base, opensOn: '0000-01-01', closesOn: '0000-01-05' })).status).toBe(400);
  });

  test('lists filtered by a day in year 0000 are a 400', async () => {
    expect((await api.get('/v1/fee-rates?at=0000-01-01', staff.finance)).status).toBe(400);
    expect((await api.get('/v1/verifications?submittedFrom=0000-01-01', staff.reviewer)).status).toBe(400);
    expect((await api.get('/v1/verifications?submittedTo=0000-02-29', staff.reviewer)).status).toBe(400);
  });

  test('a calendar year naming a day in year 0000 is a 400', async () => {
    expect((await api.put('/v1/admin/calendar/2027', staff.admin, { holidays: { '0000-01-01': '元旦' }, workdays: {} })).status).toBe(400);
  });
});
