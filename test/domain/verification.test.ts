import {
  DEFAULT_REVIEW_POLICY,
  DOCUMENT_KINDS,
  ENTITY_TYPES,
  REQUIRED_DOCUMENTS,
  VERIFICATION_STATUSES,
  checkSubmission,
  entityIdentity,
  isOpenStatus,
  type FieldIssue,
  type VerificationSubmission,
} from '../../domain/verification';

// Valid codes (check characters verified in identity.test.ts).
const PERSON_ID = '11010519491231002X';
const OTHER_PERSON_ID = '110101199003077773'; // well-formed, wrong check character
const REP_ID = '440305198511301232';
const COMPANY_USCC = '91350100M000100Y43';
const OTHER_USCC = '91330100716105852F';
const CARD = '6222021234567891234';

const individual: VerificationSubmission = {
  entityType: 'individual',
  legalName: '张三',
  idNumber: PERSON_ID,
  bankCard: { bankName: '中国工商银行', accountNumber: CARD },
  documents: [
    { kind: 'id_card_front', fileId: 'f1' },
    { kind: 'id_card_back', fileId: 'f2' },
    { kind: 'id_card_in_hand', fileId: 'f3' },
  ],
  boundStores: [
    { platform: 'youzan', storeId: 'yz-1', realNameEntity: { name: '张三', idNumber: PERSON_ID } },
  ],
};

const enterprise: VerificationSubmission = {
  entityType: 'enterprise',
  legalName: '福州示例贸易有限公司',
  uscc: COMPANY_USCC,
  legalRepresentative: { name: '李四', idNumber: REP_ID },
  documents: [
    { kind: 'business_license', fileId: 'b1' },
    { kind: 'legal_rep_id_front', fileId: 'b2' },
    { kind: 'legal_rep_id_back', fileId: 'b3' },
    { kind: 'account_opening_permit', fileId: 'b4' },
  ],
  boundStores: [
    { platform: 'taobao', storeId: 'tb-1', realNameEntity: { name: '福州示例贸易有限公司', uscc: COMPANY_USCC } },
    { platform: 'jd', storeId: 'jd-1', realNameEntity: { name: ' 福州示例贸易有限公司 ', uscc: COMPANY_USCC } },
  ],
};

type Case = [string, VerificationSubmission, FieldIssue[]];

const cases: Case[] = [
  ['a complete individual', individual, []],
  ['a complete enterprise (store name with surrounding spaces)', enterprise, []],
  ['an individual without bound stores', { ...individual, boundStores: undefined }, []],
  ['a 12-digit card', { ...individual, bankCard: { bankName: '招商银行', accountNumber: '622588123456' } }, []],
  [
    'individual without ID number and card',
    { ...individual, idNumber: undefined, bankCard: undefined, boundStores: [] },
    [
      { path: ['idNumber'], message: 'is required for an individual' },
      { path: ['bankCard'], message: 'is required for an individual' },
    ],
  ],
  [
    'individual with a wrong check digit',
    { ...individual, idNumber: OTHER_PERSON_ID, boundStores: [] },
    [{ path: ['idNumber'], message: 'check character does not match' }],
  ],
  [
    'individual with a blank bank name and an 11-digit card',
    { ...individual, bankCard: { bankName: ' ', accountNumber: '62220212345' } },
    [
      { path: ['bankCard', 'bankName'], message: 'is required' },
      { path: ['bankCard', 'accountNumber'], message: 'must be 12 to 19 digits' },
    ],
  ],
  [
    '20-digit card',
    { ...individual, bankCard: { bankName: 'x', accountNumber: '62220212345678912345' } },
    [{ path: ['bankCard', 'accountNumber'], message: 'must be 12 to 19 digits' }],
  ],
  [
    'card with spaces',
    { ...individual, bankCard: { bankName: 'x', accountNumber: '6222 0212 3456 7891' } },
    [{ path: ['bankCard', 'accountNumber'], message: 'must be 12 to 19 digits' }],
  ],
  [
    'individual carrying enterprise fields',
    { ...individual, uscc: COMPANY_USCC, legalRepresentative: { name: '李四', idNumber: REP_ID } },
    [
      { path: ['uscc'], message: 'does not apply to an individual' },
      { path: ['legalRepresentative'], message: 'does not apply to an individual' },
    ],
  ],
  [
    'enterprise without USCC and legal representative',
    { ...enterprise, uscc: undefined, legalRepresentative: undefined, boundStores: [] },
    [
      { path: ['uscc'], message: 'is required for an enterprise' },
      { path: ['legalRepresentative'], message: 'is required for an enterprise' },
    ],
  ],
  [
    'enterprise with a bad USCC and a bad representative ID',
    {
      ...enterprise,
      uscc: '91350100M000100Y44',
      legalRepresentative: { name: '', idNumber: '440305199902301232' },
      boundStores: [],
    },
    [
      { path: ['uscc'], message: 'check character does not match' },
      { path: ['legalRepresentative', 'name'], message: 'is required' },
      { path: ['legalRepresentative', 'idNumber'], message: 'birth date is not a real date' },
    ],
  ],
  [
    'enterprise with forbidden USCC letters',
    { ...enterprise, uscc: '91350100O000100Y43', boundStores: [] },
    [{ path: ['uscc'], message: 'contains a character not allowed in a USCC' }],
  ],
  [
    'enterprise carrying personal fields',
    { ...enterprise, idNumber: PERSON_ID, bankCard: { bankName: 'x', accountNumber: CARD } },
    [
      { path: ['idNumber'], message: 'does not apply to an enterprise' },
      { path: ['bankCard'], message: 'does not apply to an enterprise' },
    ],
  ],
  [
    'blank legal name',
    { ...individual, legalName: '  ', boundStores: [] },
    [{ path: ['legalName'], message: 'is required' }],
  ],
  [
    'individual missing two documents',
    { ...individual, documents: [{ kind: 'id_card_front', fileId: 'f1' }] },
    [{ path: ['documents'], message: 'missing required documents: id_card_back, id_card_in_hand' }],
  ],
  [
    'enterprise with no documents',
    { ...enterprise, documents: [] },
    [
      {
        path: ['documents'],
        message:
          'missing required documents: business_license, legal_rep_id_front, legal_rep_id_back, account_opening_permit',
      },
    ],
  ],
  [
    'individual sending an enterprise document, a duplicate and an empty file id',
    {
      ...individual,
      documents: [
        ...individual.documents,
        { kind: 'business_license', fileId: 'x' },
        { kind: 'id_card_front', fileId: '' },
      ],
    },
    [
      { path: ['documents', 3, 'kind'], message: 'business_license is not a document for an individual' },
      { path: ['documents', 4, 'kind'], message: 'id_card_front is given more than once' },
      { path: ['documents', 4, 'fileId'], message: 'is required' },
    ],
  ],
  [
    'enterprise using the individual ID photos instead of the representative ID',
    {
      ...enterprise,
      documents: [
        { kind: 'business_license', fileId: 'b1' },
        { kind: 'id_card_front', fileId: 'b2' },
        { kind: 'id_card_back', fileId: 'b3' },
        { kind: 'account_opening_permit', fileId: 'b4' },
      ],
    },
    [
      { path: ['documents', 1, 'kind'], message: 'id_card_front is not a document for an enterprise' },
      { path: ['documents', 2, 'kind'], message: 'id_card_back is not a document for an enterprise' },
      { path: ['documents'], message: 'missing required documents: legal_rep_id_front, legal_rep_id_back' },
    ],
  ],
  [
    'Taobao store registered to another company',
    {
      ...enterprise,
      boundStores: [
        enterprise.boundStores![0],
        { platform: 'taobao', storeId: 'tb-2', realNameEntity: { name: '杭州别家有限公司', uscc: OTHER_USCC } },
      ],
    },
    [
      { path: ['boundStores', 1, 'realNameEntity', 'name'], message: 'must be exactly the legal name of the verified entity' },
      { path: ['boundStores', 1, 'realNameEntity', 'uscc'], message: 'must be the USCC of the verified entity' },
    ],
  ],
  [
    'store name differing inside (not only surrounding whitespace) and USCC missing',
    {
      ...enterprise,
      boundStores: [{ platform: 'taobao', storeId: 'tb-3', realNameEntity: { name: '福州示例贸易 有限公司' } }],
    },
    [
      { path: ['boundStores', 0, 'realNameEntity', 'name'], message: 'must be exactly the legal name of the verified entity' },
      { path: ['boundStores', 0, 'realNameEntity', 'uscc'], message: 'is required for an enterprise' },
    ],
  ],
  [
    'store USCC in lower case is not the same code',
    {
      ...enterprise,
      boundStores: [
        { platform: 'taobao', storeId: 'tb-4', realNameEntity: { name: enterprise.legalName, uscc: COMPANY_USCC.toLowerCase() } },
      ],
    },
    [{ path: ['boundStores', 0, 'realNameEntity', 'uscc'], message: 'must be the USCC of the verified entity' }],
  ],
  [
    'individual store under another person, and an empty store id',
    {
      ...individual,
      boundStores: [
        { platform: 'jd', storeId: '', realNameEntity: { name: '张三', idNumber: REP_ID } },
        { platform: 'taobao', storeId: 'tb-5', realNameEntity: { name: '张三' } },
      ],
    },
    [
      { path: ['boundStores', 0, 'storeId'], message: 'is required' },
      { path: ['boundStores', 0, 'realNameEntity', 'idNumber'], message: 'must be the ID number of the verified person' },
      { path: ['boundStores', 1, 'realNameEntity', 'idNumber'], message: 'is required for an individual' },
    ],
  ],
];

describe('checkSubmission', () => {
  test.each(cases)('%s', (_name, submission, expected) => {
    expect(checkSubmission(submission)).toEqual(expected);
  });

  test('no issue message quotes an ID number, USCC or card number', () => {
    const secrets = [PERSON_ID, OTHER_PERSON_ID, REP_ID, COMPANY_USCC, OTHER_USCC, CARD, '91350100M000100Y44', '440305199902301232', '62220212345'];
    const messages = cases.flatMap(([, s]) => checkSubmission(s)).map((i) => i.message);
    expect(messages.length).toBeGreaterThan(20);
    for (const message of messages) {
      for (const secret of secrets) expect(message).not.toContain(secret);
      expect(message).not.toMatch(/\d{6,}/);
    }
  });
});

describe('reference tables', () => {
  test('required documents follow docs/rules.md §1', () => {
    expect(REQUIRED_DOCUMENTS).toEqual({
      individual: ['id_card_front', 'id_card_back', 'id_card_in_hand'],
      enterprise: ['business_license', 'legal_rep_id_front', 'legal_rep_id_back', 'account_opening_permit'],
    });
  });

  test('every document kind is required by exactly one entity type', () => {
    const required = ENTITY_TYPES.flatMap((t) => REQUIRED_DOCUMENTS[t]);
    expect([...required].sort()).toEqual([...DOCUMENT_KINDS].sort());
  });

  test('default review policy: 3 / 5 working days, 7 calendar days to resubmit', () => {
    expect(DEFAULT_REVIEW_POLICY).toEqual({
      slaWorkingDays: { individual: 3, enterprise: 5 },
      resubmitWindowDays: 7,
    });
  });

  test.each([
    ['in_review', true],
    ['awaiting_resubmission', true],
    ['approved', false],
    ['rejected', false],
    ['abandoned', false],
  ] as const)('%s is open: %s', (status, open) => {
    expect(isOpenStatus(status)).toBe(open);
  });

  test('every status is classified', () => {
    expect(VERIFICATION_STATUSES.filter(isOpenStatus)).toEqual(['in_review', 'awaiting_resubmission']);
  });
});

describe('entityIdentity: the number that belongs to one merchant', () => {
  test.each([
    [{ entityType: 'individual' as const, idNumber: '110105 19491231 002x' }, { kind: 'resident_id', number: '11010519491231002X' }],
    [{ entityType: 'individual' as const, idNumber: '11010519491231002X', uscc: '91350100M000100Y43' }, { kind: 'resident_id', number: '11010519491231002X' }],
    [{ entityType: 'enterprise' as const, uscc: '91350100-m000100y43' }, { kind: 'uscc', number: '91350100M000100Y43' }],
    // The legal representative's ID is not the company's identity: one person may represent several.
    [{ entityType: 'enterprise' as const, uscc: '91350100M000100Y43', idNumber: '11010519491231002X' }, { kind: 'uscc', number: '91350100M000100Y43' }],
    [{ entityType: 'enterprise' as const, idNumber: '11010519491231002X' }, undefined],
    [{ entityType: 'individual' as const }, undefined],
  ])('%j → %j', (submission, identity) => {
    expect(entityIdentity(submission)).toEqual(identity);
  });
});
