import request from 'supertest';
import { createWorkingDayCalendar, workingDayDeadline } from '../../domain/calendar';
import { enterpriseRequest, eventually, individualRequest, residentIdOf, usccOf, VALID_RESIDENT_ID } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';
import { apiFor, merchant, staff, type Api } from './http';

// Right shape, wrong check characters: the last character is off by one.
const BAD_USCC = '91350100M000100Y44';
const BAD_RESIDENT_ID = '110105194912310021';
const CARD_NUMBER = '6222020200112233445';
// The identity numbers of the two merchants whose cases the view tests read.
const PERSON_ID = residentIdOf('m-show-person');
const COMPANY_USCC = usccOf('m-show-company');

interface Issue {
  path: string;
  message: string;
}

describe('verification routes', () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack();
    api = apiFor(stack);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  describe('POST /v1/verifications refuses bad input with field-level issues and starts nothing', () => {
    const withoutDocument = (merchantId: string) => {
      const body = individualRequest(merchantId);
      return { ...body, documents: body.documents.filter((d) => d.kind !== 'id_card_in_hand') };
    };
    const cases: Array<[string, (merchantId: string) => unknown, Issue]> = [
      ['a missing document', withoutDocument, { path: 'documents', message: 'missing required documents: id_card_in_hand' }],
      ['no documents at all', (m) => ({ ...individualRequest(m), documents: undefined }), { path: 'documents', message: expect.any(String) }],
      ['a USCC with a wrong check character', (m) => ({ ...enterpriseRequest(m), uscc: BAD_USCC, boundStores: [] }), { path: 'uscc', message: 'check character does not match' }],
      ['an ID number with a wrong check digit', (m) => ({ ...individualRequest(m), idNumber: BAD_RESIDENT_ID }), { path: 'idNumber', message: 'check character does not match' }],
      [
        "a legal representative's ID number with a wrong check digit",
        (m) => ({ ...enterpriseRequest(m), legalRepresentative: { name: '李四', idNumber: BAD_RESIDENT_ID } }),
        { path: 'legalRepresentative.idNumber', message: 'check character does not match' },
      ],
      [
        'a bound store registered to another company name',
        (m) => ({ ...enterpriseRequest(m), boundStores: [{ platform: 'taobao', storeId: 'tb-1', realNameEntity: { name: '别的公司', uscc: usccOf(m) } }] }),
        { path: 'boundStores.0.realNameEntity.name', message: 'must be exactly the legal name of the verified entity' },
      ],
      [
        'a bound store registered under another USCC',
        (m) => ({
          ...enterpriseRequest(m),
          boundStores: [{ platform: 'taobao', storeId: 'tb-1', realNameEntity: { name: '杭州示例电子商务有限公司', uscc: '91110000MA01ABCD0X' } }],
        }),
        { path: 'boundStores.0.realNameEntity.uscc', message: 'must be the USCC of the verified entity' },
      ],
      ['an unknown field', (m) => ({ ...individualRequest(m), cardNumber: CARD_NUMBER }), { path: '(root)', message: expect.stringContaining('cardNumber') }],
      ['an unknown field in a nested object', (m) => ({ ...individualRequest(m), bankCard: { bankName: '工行', accountNumber: CARD_NUMBER, cvv: '123' } }), { path: 'bankCard', message: expect.stringContaining('cvv') }],
      ['a number where text belongs', (m) => ({ ...individualRequest(m), legalName: 42 }), { path: 'legalName', message: expect.stringContaining('expected string') }],
      ['a string where a list belongs', (m) => ({ ...individualRequest(m), documents: 'all of them' }), { path: 'documents', message: expect.stringContaining('expected array') }],
      ['an unknown entity type', (m) => ({ ...individualRequest(m), entityType: 'partnership' }), { path: 'entityType', message: expect.any(String) }],
      ['a bank card number with letters', (m) => ({ ...individualRequest(m), bankCard: { bankName: '工行', accountNumber: `${CARD_NUMBER.slice(0, 10)}ABC` } }), { path: 'bankCard.accountNumber', message: 'must be 12 to 19 digits' }],
    ];

    test.each(cases)('%s', async (_what, build, issue) => {
      const merchantId = `m-bad-${Math.random().toString(36).slice(2, 10)}`;
      const res = await api.start(merchant(merchantId), build(merchantId));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_request', detail: expect.any(String), instance: res.headers['x-request-id'] });
      expect(res.body.issues).toEqual(expect.arrayContaining([issue]));
      for (const i of res.body.issues as Issue[]) expect(i).toEqual({ path: expect.any(String), message: expect.any(String) });
      await api.expectNothingStartedFor(merchantId);
    });

    test('error bodies never echo the ID number, USCC or card number that was sent', async () => {
      const merchantId = 'm-no-echo';
      const longCard = `${CARD_NUMBER}${CARD_NUMBER}${CARD_NUMBER}`;
      const bodies = [
        { ...individualRequest(merchantId), idNumber: BAD_RESIDENT_ID, bankCard: { bankName: '工行', accountNumber: `${CARD_NUMBER}0000` } },
        { ...individualRequest(merchantId), bankCard: { bankName: '工行', accountNumber: longCard } },
        { ...individualRequest(merchantId), idNumber: Number(BAD_RESIDENT_ID.slice(0, 15)), uscc: BAD_USCC },
        { ...enterpriseRequest(merchantId), uscc: BAD_USCC, legalRepresentative: { name: '李四', idNumber: BAD_RESIDENT_ID } },
        { ...individualRequest(merchantId), realNameId: BAD_RESIDENT_ID, entityType: 'sole' },
      ];
      const secrets = [BAD_RESIDENT_ID, BAD_RESIDENT_ID.slice(0, 15), BAD_USCC, CARD_NUMBER, longCard];
      for (const body of bodies) {
        const res = await api.start(staff.ops, body);
        expect(res.status).toBe(400);
        expect(res.body.issues.length).toBeGreaterThan(0);
        for (const secret of secrets) expect(res.text).not.toContain(secret);
      }
      await api.expectNothingStartedFor(merchantId);
    });

    test('invalid JSON is a 400 that does not quote the body', async () => {
      const res = await request(stack.app)
        .post('/v1/verifications')
        .set('Authorization', `Bearer ${await stack.token(staff.ops)}`)
        .set('Content-Type', 'application/json')
        .send(`{"merchantId":"m-json","idNumber":"${VALID_RESIDENT_ID}",`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_json', detail: 'request body is not valid JSON', instance: res.headers['x-request-id'] });
      expect(res.text).not.toContain(VALID_RESIDENT_ID);
      await api.expectNothingStartedFor('m-json');
    });

    test('a body over API_BODY_LIMIT (100kb by default) is a 413', async () => {
      expect(stack.config.API_BODY_LIMIT).toBe('100kb');
      const body = { ...individualRequest('m-huge'), legalName: '张'.repeat(60_000) };
      const res = await api.start(staff.ops, body);
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ code: 'payload_too_large', detail: 'request body is too large', instance: res.headers['x-request-id'] });
      await api.expectNothingStartedFor('m-huge');
    });

    test('a body in a charset JSON does not allow is a 415, not a server error', async () => {
      const res = await request(stack.app)
        .post('/v1/verifications')
        .set('Authorization', `Bearer ${await stack.token(staff.ops)}`)
        .set('Content-Type', 'application/json; charset=latin1')
        .send(JSON.stringify(individualRequest('m-latin1')));
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({ code: 'unsupported_media_type', instance: res.headers['x-request-id'] });
      await api.expectNothingStartedFor('m-latin1');
    });

    test('a case id that is not one is a 400 before anything is looked up', async () => {
      const res = await api.view('12345', staff.admin);
      expect(res.status).toBe(400);
      expect(res.body.issues).toEqual([{ path: 'id', message: 'not a verification case id' }]);
      const undecodable = await api.get('/v1/verifications/%E0%A4%A', staff.admin);
      expect(undecodable.status).toBe(400);
      expect(undecodable.body).toMatchObject({ code: 'bad_request', instance: undecodable.headers['x-request-id'] });
    });

    test('an unknown case is a 404', async () => {
      const res = await api.view('vc_000000000000000000000000', staff.admin);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: 'not_found', detail: expect.stringContaining('vc_000000000000000000000000') });
    });
  });

  test('a second start while a case is open is a 409 naming the open case, and one workflow keeps running', async () => {
    const merchantId = 'm-twice';
    const first = await api.start(merchant(merchantId), individualRequest(merchantId));
    expect(first.status).toBe(202);
    const second = await api.start(merchant(merchantId), individualRequest(merchantId));
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'conflict', caseId: first.body.caseId, instance: second.headers['x-request-id'] });
    expect(second.body.detail).toContain('already has an open verification case');
    const byOps = await api.start(staff.ops, enterpriseRequest(merchantId));
    expect(byOps.status).toBe(409);
    expect(byOps.body.caseId).toBe(first.body.caseId);

    expect(await api.runningWorkflowsOf(merchantId)).toBe(1);
    const described = await stack.env.client.workflow.getHandle(`verification:${merchantId}`).describe();
    expect(described.runId).toBe((await stack.db('verification_cases').where({ id: first.body.caseId }).first()).run_id);
    expect(await stack.db('verification_cases').where({ merchant_id: merchantId })).toHaveLength(1);
  });

  describe('GET /v1/verifications/:id', () => {
    const calendar = createWorkingDayCalendar();
    let individualCase: string;
    let enterpriseCase: string;
    beforeAll(async () => {
      individualCase = await api.openCase('m-show-person', individualRequest('m-show-person'), merchant('m-show-person'));
      enterpriseCase = await api.openCase('m-show-company', enterpriseRequest('m-show-company'), merchant('m-show-company'));
    });

    test('shows status, deadline (3 working days for an individual), overdue, history and submissions', async () => {
      const res = await api.view(individualCase, merchant('m-show-person'));
      expect(res.status).toBe(200);
      const expectedDeadline = workingDayDeadline(new Date(res.body.submittedAt), 3, calendar).toISOString();
      expect(res.body).toMatchObject({
        caseId: individualCase,
        merchantId: 'm-show-person',
        workflowId: 'verification:m-show-person',
        entityType: 'individual',
        legalName: '张三',
        status: 'in_review',
        deadline: expectedDeadline,
        overdue: false,
        resubmitBy: null,
        closedAt: null,
      });
      expect(res.body.history.map((h: { type: string }) => h.type)).toEqual(['submitted', 'deadline_set']);
      expect(res.body.history[0]).toMatchObject({ seq: 1, actor: 'merchant:u-m-show-person', details: { submissionSeq: 1 } });
      expect(res.body.history[1]).toMatchObject({ seq: 2, actor: 'system', details: { deadline: expectedDeadline, workingDays: 3 } });
      expect(res.body.submissions).toHaveLength(1);
      expect(res.body.submissions[0]).toMatchObject({
        seq: 1,
        documents: individualRequest('x').documents,
        bankCard: { bankName: '中国工商银行' },
        boundStores: [],
      });
    });

    test.each([
      ['ops', staff.ops],
      ['the merchant itself', null],
    ])('masks personal data for %s', async (_who, claims) => {
      const person = await api.view(individualCase, claims ?? merchant('m-show-person'));
      const company = await api.view(enterpriseCase, claims ?? merchant('m-show-company'));
      expect(person.body.submissions[0]).toMatchObject({
        idNumber: '110***********002X',
        bankCard: { bankName: '中国工商银行', accountNumber: '**** **** **** 3445' },
      });
      expect(company.body.submissions[0]).toMatchObject({
        uscc: '91************0Y43',
        legalRepresentative: { name: '李四', idNumber: '110***********002X' },
        boundStores: [{ platform: 'taobao', storeId: 'tb-778899', realNameEntity: { name: '杭州示例电子商务有限公司' } }],
      });
      for (const res of [person, company]) {
        for (const secret of [PERSON_ID, COMPANY_USCC, VALID_RESIDENT_ID, CARD_NUMBER]) expect(res.text).not.toContain(secret);
      }
    });

    test.each([
      ['reviewer', staff.reviewer],
      ['admin', staff.admin],
    ])('shows personal data in clear to %s', async (_who, claims) => {
      const person = await api.view(individualCase, claims);
      const company = await api.view(enterpriseCase, claims);
      expect(person.body.submissions[0]).toMatchObject({
        idNumber: PERSON_ID,
        bankCard: { bankName: '中国工商银行', accountNumber: CARD_NUMBER },
      });
      expect(company.body.submissions[0]).toMatchObject({
        uscc: COMPANY_USCC,
        legalRepresentative: { name: '李四', idNumber: VALID_RESIDENT_ID },
      });
    });

    test('an enterprise case is due in 5 working days', async () => {
      const res = await api.view(enterpriseCase, staff.ops);
      expect(res.body.deadline).toBe(workingDayDeadline(new Date(res.body.submittedAt), 5, calendar).toISOString());
    });

    test('personal data is stored encrypted, never in clear', async () => {
      const rows = await stack.db('verification_submissions').whereIn('case_id', [individualCase, enterpriseCase]);
      const stored = JSON.stringify(rows);
      for (const secret of [PERSON_ID, COMPANY_USCC, VALID_RESIDENT_ID, CARD_NUMBER]) expect(stored).not.toContain(secret);
    });
  });

  describe('POST /v1/verifications/:id/decision', () => {
    test('a reviewer approves: 200 with the approved state, and a second decision on the closed case is a 409', async () => {
      const caseId = await api.openCase('m-approve');
      const res = await api.decide(caseId, staff.reviewer, { decision: 'approve' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ caseId, merchantId: 'm-approve', status: 'approved' });
      expect(res.body.history.map((h: { type: string }) => h.type)).toEqual(['submitted', 'deadline_set', 'approved']);
      expect((await api.view(caseId, staff.ops)).body).toMatchObject({ status: 'approved', closedAt: expect.any(String) });

      for (const decision of ['approve', 'reject', 'request_info']) {
        const again = await api.decide(caseId, staff.reviewer, { decision, reasons: ['second thoughts'] });
        expect(again.status).toBe(409);
        expect(again.body).toMatchObject({ code: 'conflict', caseStatus: 'approved', detail: expect.stringMatching(/approved/) });
      }
      expect(await stack.db('verification_events').where({ case_id: caseId, type: 'approved' })).toHaveLength(1);
    });

    test('a rejection without reasons is refused with a field-level 400 and the case stays in review', async () => {
      const caseId = await api.openCase('m-reject-bare');
      for (const body of [{ decision: 'reject' }, { decision: 'reject', reasons: [] }, { decision: 'request_info' }]) {
        const res = await api.decide(caseId, staff.reviewer, body);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({
          code: 'invalid_request',
          issues: [{ path: 'reasons', message: 'a rejection or a request for information needs at least one reason' }],
        });
      }
      expect((await api.view(caseId, staff.ops)).body.status).toBe('in_review');

      const rejected = await api.decide(caseId, staff.reviewer, { decision: 'reject', reasons: ['licence is expired'] });
      expect(rejected.status).toBe(200);
      expect(rejected.body.status).toBe('rejected');
      expect(rejected.body.history.at(-1)).toMatchObject({ type: 'rejected', details: { reasons: ['licence is expired'] } });
      expect(await stack.db('merchants').where({ id: 'm-reject-bare' }).first()).toMatchObject({ verification_status: 'rejected' });
    });

    test('a malformed decision is a 400 with issues', async () => {
      const caseId = await api.openCase('m-bad-decision');
      const res = await api.decide(caseId, staff.reviewer, { decision: 'maybe', reasons: 'because', extra: true });
      expect(res.status).toBe(400);
      expect(res.body.issues.map((i: Issue) => i.path)).toEqual(expect.arrayContaining(['decision', 'reasons']));
      expect((await api.view(caseId, staff.ops)).body.status).toBe('in_review');
    });
  });

  describe('POST /v1/verifications/:id/resubmission', () => {
    test('request_info, the merchant resubmits, the case is back in review with a fresh SLA', async () => {
      const merchantId = 'm-round-trip';
      const caseId = await api.openCase(merchantId, individualRequest(merchantId), merchant(merchantId));
      const { idNumber, bankCard, documents } = individualRequest(merchantId);
      const notWaiting = await api.resubmit(caseId, merchant(merchantId), { idNumber, bankCard, documents });
      expect(notWaiting.status).toBe(409);
      expect(notWaiting.body.detail).toContain('not waiting for a resubmission');

      const asked = await api.decide(caseId, staff.reviewer, { decision: 'request_info', reasons: ['ID photo is blurred'] });
      expect(asked.status).toBe(200);
      expect(asked.body).toMatchObject({ status: 'awaiting_resubmission', resubmitBy: expect.any(String) });
      expect((await api.view(caseId, merchant(merchantId))).body).toMatchObject({ status: 'awaiting_resubmission', resubmitBy: asked.body.resubmitBy });

      const invalid = await api.resubmit(caseId, merchant(merchantId), {
        idNumber: BAD_RESIDENT_ID,
        bankCard: { bankName: '工行', accountNumber: CARD_NUMBER },
        documents: individualRequest(merchantId).documents,
      });
      expect(invalid.status).toBe(400);
      expect(invalid.body.issues).toEqual([{ path: 'idNumber', message: 'check character does not match' }]);
      expect(invalid.text).not.toContain(BAD_RESIDENT_ID);
      expect((await api.view(caseId, staff.ops)).body.status).toBe('awaiting_resubmission');

      const newCard = '6217000010001234567';
      const back = await api.resubmit(caseId, merchant(merchantId), { idNumber, bankCard: { bankName: '中国建设银行', accountNumber: newCard }, documents });
      expect(back.status).toBe(200);
      expect(back.body).toMatchObject({ caseId, status: 'in_review', resubmitBy: null });

      const view = await eventually(() => api.view(caseId, staff.reviewer), (r) => r.body.history.length === 5);
      expect(view.body.history.map((h: { type: string }) => h.type)).toEqual([
        'submitted', 'deadline_set', 'info_requested', 'resubmitted', 'deadline_set',
      ]);
      expect(view.body.history[3]).toMatchObject({ actor: `merchant:u-${merchantId}`, details: { submissionSeq: 2 } });
      expect(view.body).toMatchObject({ status: 'in_review', overdue: false, deadline: view.body.history[4].details.deadline });
      expect(view.body.submissions.map((s: { seq: number }) => s.seq)).toEqual([1, 2]);
      expect(view.body.submissions[1].bankCard).toEqual({ bankName: '中国建设银行', accountNumber: newCard });

      const again = await api.resubmit(caseId, merchant(merchantId), { idNumber, bankCard: { bankName: '中国建设银行', accountNumber: newCard }, documents });
      expect(again.status).toBe(409);
      expect(again.body.detail).toContain('not waiting for a resubmission');
    });
  });
});
