import {
  isValidResidentId,
  isValidUscc,
  maskBankCard,
  maskIdNumber,
  maskUscc,
  normalizeIdentityCode,
  residentIdCheckCharacter,
  residentIdProblem,
  usccCheckCharacter,
  usccProblem,
} from '../../domain/identity';

/*
 * Check characters computed here from the standards' definitions, independently of the
 * implementation's tables: GB 32100-2015 weights are 3^i mod 31; ISO 7064 MOD 11-2
 * weights are 2^(17-i) mod 11 and the check value is (12 - sum mod 11) mod 11, 10 = X.
 */
const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';

function usccCheck(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += USCC_CHARS.indexOf(first17[i]) * (3 ** i % 31);
  return USCC_CHARS[(31 - (sum % 31)) % 31];
}

function residentIdCheck(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * (2 ** (17 - i) % 11);
  const value = (12 - (sum % 11)) % 11;
  return value === 10 ? 'X' : String(value);
}

const withUsccCheck = (first17: string) => first17 + usccCheck(first17);
const withResidentIdCheck = (first17: string) => first17 + residentIdCheck(first17);

/** A wrong but allowed check character: the next one in the alphabet. */
function wrongLast(code: string, alphabet: string): string {
  const last = code[code.length - 1];
  return code.slice(0, -1) + alphabet[(alphabet.indexOf(last) + 1) % alphabet.length];
}

describe('USCC (GB 32100-2015)', () => {
  const constructed = [
    '91350100M000100Y4',
    '91110000600037341',
    '12100000400000012',
    '5311000050000000A',
    'Y1440300MA5EXAMPL', // letters in the organisation code are allowed
    'N2320102000000000',
  ].map(withUsccCheck);

  test.each([
    '91350100M000100Y43', // the common published example
    '91330100716105852F', // Alibaba (China) Co., Ltd., public licence data
    '91440300708461136T', // Shenzhen Tencent Computer Systems Co., Ltd.
    '91110000802100433B', // Beijing Baidu Netcom Science and Technology Co., Ltd.
    '91110108551385082Q', // Xiaomi Inc.
    ...constructed,
  ])('%s is valid', (code) => {
    expect(usccProblem(code)).toBeUndefined();
    expect(isValidUscc(code)).toBe(true);
    expect(usccCheckCharacter(code.slice(0, 17))).toBe(code[17]);
  });

  test('a check character of 0 (sum divisible by 31) is handled', () => {
    const zeroCheck = Array.from({ length: 31 }, (_, i) => `9135010000000000${USCC_CHARS[i]}`)
      .map(withUsccCheck)
      .find((code) => code.endsWith('0'));
    expect(zeroCheck).toBeDefined();
    expect(isValidUscc(zeroCheck!)).toBe(true);
  });

  test.each([
    [wrongLast('91350100M000100Y43', USCC_CHARS), 'check character does not match'],
    ['91350100M000100Y34', 'check character does not match'], // transposed
    ['91350100M000100Y4', 'must be 18 characters'],
    ['91350100M000100Y433', 'must be 18 characters'],
    ['', 'must be 18 characters'],
    ['91350100I000100Y43', 'contains a character not allowed in a USCC'], // I
    ['91350100O000100Y43', 'contains a character not allowed in a USCC'], // O
    ['91350100Z000100Y43', 'contains a character not allowed in a USCC'], // Z
    ['91350100S000100Y43', 'contains a character not allowed in a USCC'], // S
    ['91350100V000100Y43', 'contains a character not allowed in a USCC'], // V
    ['91350100m000100y43', 'contains a character not allowed in a USCC'], // lower case
    ['91350100 000100Y43', 'contains a character not allowed in a USCC'],
    [withUsccCheck('9135A100M000100Y4'), 'characters 3 to 8 (administrative division code) must be digits'],
  ])('%j is invalid: %s', (code, reason) => {
    expect(usccProblem(code)).toBe(reason);
    expect(isValidUscc(code)).toBe(false);
  });

  test('lower-case input is valid once normalised', () => {
    expect(isValidUscc(normalizeIdentityCode(' 91350100m000100y43 '))).toBe(true);
  });
});

describe('resident ID (GB 11643-1999, ISO 7064 MOD 11-2)', () => {
  const constructed = [
    '11010119900307777',
    '44030519851130123',
    '31010420000229456', // leap day
    '65010219000101001', // earliest allowed year
    '51010720231231998',
  ].map(withResidentIdCheck);
  const endingInX = Array.from({ length: 30 }, (_, i) => `11010519491231${String(i).padStart(3, '0')}`)
    .map(withResidentIdCheck)
    .filter((id) => id.endsWith('X'));

  test.each([...new Set(['11010519491231002X', ...constructed, ...endingInX])])('%s is valid', (id) => {
    expect(residentIdProblem(id)).toBeUndefined();
    expect(isValidResidentId(id)).toBe(true);
    expect(residentIdCheckCharacter(id.slice(0, 17))).toBe(id[17]);
  });

  test('the standard example is among the X-terminated ones', () => {
    expect(endingInX).toContain('11010519491231002X');
  });

  test.each([
    ['110105194912310021', 'check character does not match'],
    [wrongLast(withResidentIdCheck('11010119900307777'), '0123456789X'), 'check character does not match'],
    ['11010519491231002x', 'must be 17 digits followed by a digit or X'],
    ['1101051949123100X2', 'must be 17 digits followed by a digit or X'],
    ['11010519491231002', 'must be 18 characters'],
    ['110105491231002', 'must be 18 characters'], // old 15-digit form
    ['11010519491231002X1', 'must be 18 characters'],
    [withResidentIdCheck('11010119990230123'), 'birth date is not a real date'], // Feb 30
    [withResidentIdCheck('11010119000229123'), 'birth date is not a real date'], // 1900 not leap
    [withResidentIdCheck('11010118991231123'), 'birth date is not a real date'], // before 1900
    [withResidentIdCheck('11010119901301123'), 'birth date is not a real date'], // month 13
    [withResidentIdCheck('11010119900100123'), 'birth date is not a real date'], // day 0
  ])('%j is invalid: %s', (id, reason) => {
    expect(residentIdProblem(id)).toBe(reason);
    expect(isValidResidentId(id)).toBe(false);
  });
});

describe('masks', () => {
  test.each([
    ['110101199003077777', '110***********7777'],
    ['11010519491231002X', '110***********002X'],
    ['1234567', '*******'],
    ['', ''],
  ])('maskIdNumber(%j) = %j', (value, masked) => {
    expect(maskIdNumber(value)).toBe(masked);
  });

  test.each([
    ['91350100M000100Y43', '91************0Y43'],
    ['123456', '******'],
  ])('maskUscc(%j) = %j', (value, masked) => {
    expect(maskUscc(value)).toBe(masked);
  });

  test.each([
    ['6222021234567891234', '**** **** **** 1234'],
    ['622202123456', '**** **** **** 3456'],
    ['6222 0212 3456 7890', '**** **** **** 7890'],
    ['123', '**** **** **** ****'],
  ])('maskBankCard(%j) = %j', (value, masked) => {
    expect(maskBankCard(value)).toBe(masked);
  });

  test('masks never keep the birth date or the middle of a code', () => {
    expect(maskIdNumber('11010519491231002X')).not.toContain('19491231');
    expect(maskUscc('91350100M000100Y43')).not.toContain('350100M');
    expect(maskBankCard('6222021234567891234')).not.toContain('62220212');
  });
});

describe('normalizeIdentityCode: one spelling per number', () => {
  test.each([
    ['11010519491231002X', '11010519491231002X'],
    ['11010519491231002x', '11010519491231002X'],
    ['  11010519491231002x ', '11010519491231002X'],
    ['110105 19491231 002x', '11010519491231002X'],
    ['110105-19491231-002X', '11010519491231002X'],
    ['1101 0519 4912 3100 2X', '11010519491231002X'],
    ['110105\t19491231\n002X', '11010519491231002X'],
    ['110105\u300019491231\u3000002x', '11010519491231002X'], // full-width space of a Chinese keyboard
    ['91350100m000100y43', '91350100M000100Y43'],
    ['91350100-M000100Y43', '91350100M000100Y43'],
    ['9135 0100 M000 100Y 43', '91350100M000100Y43'],
  ])('%j → %s', (typed, normalised) => {
    expect(normalizeIdentityCode(typed)).toBe(normalised);
  });

  test('every spelling of a valid number is valid once normalised, and the same string', () => {
    expect(isValidResidentId(normalizeIdentityCode('110105 19491231-002x'))).toBe(true);
    expect(isValidUscc(normalizeIdentityCode(' 9135-0100 m000100y43'))).toBe(true);
  });

  test('characters that are not separators stay, so a wrong number stays wrong', () => {
    expect(normalizeIdentityCode('11010519491231002X.')).toBe('11010519491231002X.');
    expect(normalizeIdentityCode('11010519491231_002X')).toBe('11010519491231_002X');
  });
});
