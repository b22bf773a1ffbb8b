import {
  checkBindingIds,
  checkUnionAuthorisation,
  entityDifferences,
  isJdUnionId,
  isPinduoduoPid,
  isTaobaoPid,
  refreshDelaySeconds,
  refusal,
  type ComparableEntity,
} from '../../domain/partner-binding';

describe('Taobao Union PID: mm_<member>_<site>_<adzone>, digits only', () => {
  test.each([
    ['mm_123456_7890_112233', true],
    ['mm_1_2_3', true],
    [`mm_${'9'.repeat(20)}_1_1`, true],
    [`mm_${'9'.repeat(21)}_1_1`, false],
    ['MM_1_2_3', false],
    ['mm_1_2', false],
    ['mm_1_2_3_4', false],
    ['mm__2_3', false],
    ['mm_1a_2_3', false],
    [' mm_1_2_3', false],
    ['mm_1_2_3\n', false],
    ['mm_１_2_3', false],
    ['', false],
  ])('%j → %s', (pid, ok) => {
    expect(isTaobaoPid(pid)).toBe(ok);
  });
});

describe('Pinduoduo PID and JD Union id', () => {
  test.each([
    ['1234_5678', true],
    ['1_2', true],
    ['1234', false],
    ['mm_1_2_3', false],
    ['1_2_3', false],
  ])('Pinduoduo %j → %s', (pid, ok) => expect(isPinduoduoPid(pid)).toBe(ok));
  test.each([
    ['1000123', true],
    ['1', true],
    ['1'.repeat(21), false],
    ['jd-1', false],
    ['', false],
  ])('JD %j → %s', (id, ok) => expect(isJdUnionId(id)).toBe(ok));
});

describe('the id a binding starts with, by platform', () => {
  test.each([
    ['taobao', { pid: 'mm_1_2_3' }, null],
    ['tmall', { pid: 'mm_1_2' }, 'pid_malformed'],
    ['taobao', {}, 'pid_malformed'],
    ['pinduoduo', { pid: '1_2' }, null],
    ['pinduoduo', { pid: 'mm_1_2_3' }, 'pid_malformed'],
    ['jd', { unionId: '123' }, null],
    ['jd', {}, 'union_id_malformed'],
    ['jd', { pid: 'mm_1_2_3' }, 'id_not_of_platform'],
    ['jd', { unionId: '123', pid: '1_2' }, 'id_not_of_platform'],
    ['taobao', { pid: 'mm_1_2_3', unionId: '1' }, 'id_not_of_platform'],
    ['pinduoduo', { pid: '1_2', unionId: '1' }, 'id_not_of_platform'],
    ['youzan', {}, null],
    ['youzan', { pid: 'mm_1_2_3' }, 'id_not_of_platform'],
    ['youzan', { unionId: '1' }, 'id_not_of_platform'],
  ] as const)('%s %j → %s', (platform, ids, code) => {
    expect(checkBindingIds(platform, ids)?.code ?? null).toBe(code);
  });
});

describe('the store entity against the merchant verified entity', () => {
  const merchant: ComparableEntity = { kind: 'enterprise', name: '杭州某某科技有限公司', numberKey: 'k1' };
  test.each<[string, ComparableEntity, string[]]>([
    ['the same', { ...merchant }, []],
    ['the same name with full-width brackets and blanks', { ...merchant, name: ' 杭州某某科技有限公司 ' }, []],
    ['another name', { ...merchant, name: '杭州别的公司' }, ['name']],
    ['another number', { ...merchant, numberKey: 'k2' }, ['uscc']],
    ['no number', { ...merchant, numberKey: null }, ['uscc']],
    ['both', { ...merchant, name: 'x', numberKey: 'k2' }, ['name', 'uscc']],
    ['another kind', { kind: 'individual', name: merchant.name, numberKey: 'k1' }, ['kind']],
  ])('%s', (_label, store, fields) => {
    expect(entityDifferences(store, merchant)).toEqual(fields);
  });
  test('an individual differs by its ID number', () => {
    expect(entityDifferences({ kind: 'individual', name: '张三', numberKey: 'a' }, { kind: 'individual', name: '张三', numberKey: 'b' })).toEqual(['idNumber']);
  });
  test('the refusal names the fields, never a value', () => {
    expect(refusal('entity_mismatch', ['name', 'uscc'])).toMatchObject({ code: 'entity_mismatch', fields: ['name', 'uscc'], message: expect.stringContaining('differs: name, uscc') });
  });
});

describe("the union's answer, in the order the merchant fixes it", () => {
  const ok = { status: 'authorised', account: 'main', positionType: 'content_scene' } as const;
  test.each([
    ['all good', ok, true, null],
    ['Taobao-ke closed', ok, false, 'taobaoke_not_open'],
    ['a sub-account', { ...ok, account: 'sub' }, true, 'sub_account_authorisation'],
    ['not authorised', { status: 'not_authorised', account: null, positionType: null }, true, 'pid_not_authorised'],
    ['another position type', { ...ok, positionType: 'other' }, true, 'position_not_content_scene'],
  ] as const)('%s', (_label, answer, open, code) => {
    expect(checkUnionAuthorisation(answer, open)?.code ?? null).toBe(code);
  });
});

describe('the refresh plan', () => {
  const day = 86_400;
  test.each([
    ['7-day access, 1-day lead: after 6 days', 7 * day, 28 * day, day, 6 * day],
    ['exactly twice the lead: lead before', 2 * day, 28 * day, day, day],
    ['one second under twice the lead: at half its life', 2 * day - 1, 28 * day, day, Math.floor((2 * day - 1) / 2)],
    ['refresh token shorter than access: lead before it', 7 * day, 3 * day, day, 2 * day],
    ['a 1-second token: 1 second', 1, 1, day, 1],
  ])('%s', (_label, access, refresh, lead, delay) => {
    expect(refreshDelaySeconds({ accessExpiresInSeconds: access, refreshExpiresInSeconds: refresh }, lead)).toBe(delay);
  });
});
