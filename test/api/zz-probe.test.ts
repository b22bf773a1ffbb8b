import request from 'supertest';
import { individualRequest, enterpriseRequest } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => { stack = await startStack(); });
afterAll(async () => { await stack?.teardown(); });

test('probe', async () => {
  const admin = await stack.token({ sub: 'a', role: 'admin' });
  const list = async (q: string) => { const out = []; for await (const w of stack.env.client.workflow.list({ query: q })) out.push(w.workflowId); return out; };
  console.log('list', await list("MerchantId='m-x'").catch((e) => `ERR ${e}`));
  const r = await request(stack.app).post('/v1/verifications').set('Authorization', `Bearer ${admin}`).send(individualRequest('m-x'));
  console.log(r.status, r.body);
  console.log('list', await list("MerchantId='m-x'").catch((e) => `ERR ${e}`));
  const bad = await request(stack.app).post('/v1/verifications').set('Authorization', `Bearer ${admin}`).send({ ...enterpriseRequest('m-y'), uscc: '91350100M000100Y44', extra: 1, boundStores: [{ platform: 'taobao', storeId: 's', realNameEntity: { name: 'x', uscc: '91350100M000100Y43' } }] });
  console.log(bad.status, JSON.stringify(bad.body));
  const bad2 = await request(stack.app).post('/v1/verifications').set('Authorization', `Bearer ${admin}`).send({ ...enterpriseRequest('m-y'), documents: 'x', legalName: 5 });
  console.log(bad2.status, JSON.stringify(bad2.body));
  const j = await request(stack.app).post('/v1/verifications').set('Authorization', `Bearer ${admin}`).set('Content-Type', 'application/json').send('{"a":');
  console.log(j.status, j.body, j.headers);
  await new Promise((r) => setTimeout(r, 500));
  console.log(await stack.db('audit_log').select());
  const doc = await request(stack.app).get('/openapi.json');
  console.log(JSON.stringify(doc.body, null, 1).slice(0, 6000));
  const d = await request(stack.app).get('/docs/');
  console.log(d.status, d.headers['content-type'], d.text.slice(0, 300));
  const d2 = await request(stack.app).get('/docs');
  console.log(d2.status, d2.headers['content-type'], d2.headers.location);
});
