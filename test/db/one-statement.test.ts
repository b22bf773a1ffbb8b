import { randomBytes } from 'node:crypto';
import { insertsAsOneStatement } from '../../db/one-statement';
import { createMerchantRepository } from '../../db/repositories/merchants';
import { createVerificationCaseRepository } from '../../db/repositories/verification-cases';
import { createVerificationSubmissionRepository } from '../../db/repositories/verification-submissions';
import { createPiiVault } from '../../security/pii';
import { individualRequest } from '../support/fixtures';
import { createTestDb, type TestDb } from '../support/db';

// The verification start's rows (api/verifications/service.ts): a merchant, its case, the case's first submission.
describe('inserts as one statement', () => {
  let t: TestDb;
  const vault = createPiiVault(randomBytes(32).toString('base64'), randomBytes(32).toString('base64'));
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const startRows = (merchantId: string, caseId: string, submission = individualRequest(merchantId)) => {
    const at = new Date('2026-12-07T10:00:00Z');
    return [
      createMerchantRepository(t.db).ensureMerchantInsert({ id: merchantId, entityType: 'individual', legalName: '张三' }),
      createVerificationCaseRepository(t.db).caseInsert({ id: caseId, merchantId, workflowId: `verification:${merchantId}`, entityType: 'individual', legalName: '张三', submittedAt: at }),
      createVerificationSubmissionRepository(t.db, vault).submissionInsert(caseId, 1, submission, at),
    ];
  };
  const countOf = async (table: string, column: string, value: string) => Number(((await t.db(table).where(column, value).count({ n: '*' })) as Array<{ n: string | number }>)[0]!.n);

  test('writes every row, a later one referencing an earlier one (foreign keys checked at the end)', async () => {
    await insertsAsOneStatement(t.db, startRows('m-one-1', 'vc_one_1'));
    expect(await countOf('merchants', 'id', 'm-one-1')).toBe(1);
    expect(await countOf('verification_cases', 'id', 'vc_one_1')).toBe(1);
    expect(await countOf('verification_submissions', 'case_id', 'vc_one_1')).toBe(1);
    const stored = await createVerificationSubmissionRepository(t.db, vault).list('vc_one_1', true);
    expect(stored[0]).toMatchObject({ seq: 1, idNumber: individualRequest('m-one-1').idNumber });
  });

  test('a value with a question mark stays a value', async () => {
    const body = { ...individualRequest('m-one-2'), documents: [{ kind: 'id_card_front' as const, fileId: 'f?1 $1 ?? ' }] };
    await insertsAsOneStatement(t.db, startRows('m-one-2', 'vc_one_2', body));
    const [row] = await createVerificationSubmissionRepository(t.db, vault).list('vc_one_2', false);
    expect(row!.documents).toEqual(body.documents);
  });

  test('all or nothing: a failing last insert leaves no row of the earlier ones', async () => {
    await insertsAsOneStatement(t.db, startRows('m-one-3', 'vc_one_3'));
    // The same case id again, for a new merchant: the case's primary key refuses the statement.
    await expect(insertsAsOneStatement(t.db, startRows('m-one-4', 'vc_one_3'))).rejects.toThrow();
    expect(await countOf('merchants', 'id', 'm-one-4')).toBe(0);
  });
});
