/**
 * Check characters of Chinese identity numbers, validated before a human reviewer looks
 * (docs/rules.md §1, [default]), and masks for showing them to roles that do not need
 * the full value.
 *
 * Upper case only: both standards print letters in upper case. Callers that accept user
 * input normalise first (normalizeIdentityCode), so a stored value has one spelling and
 * equality checks (e.g. a bound store's real-name USCC, the keyed hash that makes one
 * number belong to one merchant) stay exact.
 */
import { isRealDate } from './civil-date';

/**
 * One spelling per number: upper case, without the spaces and hyphens people type to
 * group the digits ('110105 19491231 002x', '91350100-M000100Y43'). Neither standard
 * uses a space or a hyphen, so nothing of the number is lost. Full-width spaces too.
 */
export function normalizeIdentityCode(value: string): string {
  return value.replace(/[\s\u3000-]+/g, '').toUpperCase();
}

// GB 32100-2015 unified social credit code (统一社会信用代码).
// Code alphabet: digits and upper-case letters without I, O, Z, S, V (easily misread).
const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
// Weight of position i is 3^i mod 31.
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** The GB 32100-2015 check character for the first 17 characters of a USCC. */
export function usccCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) {
    const value = USCC_ALPHABET.indexOf(first17[i] ?? '');
    if (value < 0) throw new Error('not a USCC prefix');
    sum += value * USCC_WEIGHTS[i];
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

/**
 * Why code is not a valid USCC, or undefined if it is. Layout: 1 registration authority,
 * 2 entity type, 3–8 administrative division code (digits), 9–17 organisation code,
 * 18 check character. The authority and type codes are not checked against their
 * tables: authorities add codes over time, and a false refusal costs more than a human
 * reviewer catching the rare wrong one.
 */
export function usccProblem(code: string): string | undefined {
  if (code.length !== 18) return 'must be 18 characters';
  for (const char of code) {
    if (!USCC_ALPHABET.includes(char)) return 'contains a character not allowed in a USCC';
  }
  if (!/^\d{6}$/.test(code.slice(2, 8))) {
    return 'characters 3 to 8 (administrative division code) must be digits';
  }
  if (usccCheckCharacter(code.slice(0, 17)) !== code[17]) return 'check character does not match';
  return undefined;
}

export function isValidUscc(code: string): boolean {
  return usccProblem(code) === undefined;
}

// GB 11643-1999 citizen identification number (公民身份号码), check by ISO 7064 MOD 11-2.
const RESIDENT_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const RESIDENT_ID_CHECK = '10X98765432';
// The standard's birth-date field starts no earlier than 1900; a later bound would need
// a clock, which pure code does not read.
const EARLIEST_BIRTH_YEAR = 1900;

/** The ISO 7064 MOD 11-2 check character for the first 17 digits of a resident ID. */
export function residentIdCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new Error('not a resident ID prefix');
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * RESIDENT_ID_WEIGHTS[i];
  return RESIDENT_ID_CHECK[sum % 11];
}

/**
 * Why id is not a valid 18-digit resident ID, or undefined if it is. Layout: 1–6 address
 * code, 7–14 birth date YYYYMMDD, 15–17 sequence number, 18 check character (0–9 or X).
 */
export function residentIdProblem(id: string): string | undefined {
  if (id.length !== 18) return 'must be 18 characters';
  if (!/^\d{17}[\dX]$/.test(id)) return 'must be 17 digits followed by a digit or X';
  const birth = {
    year: Number(id.slice(6, 10)),
    month: Number(id.slice(10, 12)),
    day: Number(id.slice(12, 14)),
  };
  if (birth.year < EARLIEST_BIRTH_YEAR || !isRealDate(birth)) {
    return 'birth date is not a real date';
  }
  if (residentIdCheckCharacter(id.slice(0, 17)) !== id[17]) return 'check character does not match';
  return undefined;
}

export function isValidResidentId(id: string): boolean {
  return residentIdProblem(id) === undefined;
}

/*
 * Masks keep enough to tell two records apart when talking to the merchant, and hide
 * the rest. Values too short to show the kept parts safely are masked entirely.
 */

function keepEnds(value: string, head: number, tail: number): string {
  if (value.length <= head + tail) return '*'.repeat(value.length);
  return value.slice(0, head) + '*'.repeat(value.length - head - tail) + value.slice(-tail);
}

/**
 * Resident ID: first 3 and last 4 visible, length kept ('110***********7777'). The first
 * 3 only name a province and city; birth date and sequence number stay hidden.
 */
export function maskIdNumber(id: string): string {
  return keepEnds(id, 3, 4);
}

/**
 * USCC: first 2 (registration authority and entity type, useful to a reviewer) and last 4
 * visible, length kept ('91************0Y43'). A company's USCC is printed on its licence,
 * but an individual business's (个体工商户) code identifies a person, so mask them all.
 */
export function maskUscc(code: string): string {
  return keepEnds(code, 2, 4);
}

/**
 * Bank card: last 4 digits only, in the fixed form '**** **** **** 1234' whatever the
 * card's length (12–19 digits), so the mask does not reveal the length either. Spaces
 * in the input are ignored.
 */
export function maskBankCard(accountNumber: string): string {
  const compact = accountNumber.replace(/\s+/g, '');
  if (compact.length <= 4) return '**** **** **** ****';
  return `**** **** **** ${compact.slice(-4)}`;
}
