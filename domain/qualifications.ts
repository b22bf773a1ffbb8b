import { epochDayOf, isoDateOfEpochDay, parseIsoDate, requireIsoDate } from './civil-date';

/**
 * Merchant qualifications and the monthly self-check (docs/rules.md): a business licence, and
 * for special categories a food or medical-device licence, each valid until its expiry date
 * (a Shanghai calendar day, the last day it is valid).
 */
export const QUALIFICATION_KINDS = ['business_licence', 'food_licence', 'medical_device_licence'] as const;
export type QualificationKind = (typeof QUALIFICATION_KINDS)[number];

/**
 * [default] The merchant is told at least this many days ahead, so a renewal has a month to
 * come through. The check runs monthly, so "ahead" is counted from the next scheduled check.
 */
export const EXPIRY_NOTICE_DAYS = 30;

/** [default] A licence claimed valid for longer than this is refused: no licence runs so long. */
export const MAX_VALIDITY_YEARS = 30;

/** Years a qualification's dates may name: PostgreSQL has no year 0, and no licence is older than 1900. */
export const QUALIFICATION_YEARS = { first: 1900, last: 9999 } as const;

export type QualificationStatus = 'valid' | 'expiring' | 'expired';

/**
 * Who vouches for a recorded qualification: ops and admin record `verified` ones; a merchant's
 * record stays `pending` until ops verify (or reject) it, and the check trusts only verified ones.
 */
export const QUALIFICATION_VERIFICATIONS = ['pending', 'verified', 'rejected'] as const;
export type QualificationVerification = (typeof QUALIFICATION_VERIFICATIONS)[number];

/**
 * The day of the next scheduled check after `today`: the 1st of the next month (the schedule in
 * workflows/qualification-check.defs.ts runs on the 1st, Shanghai time).
 */
export function nextScheduledCheckOn(today: string): string {
  const { year, month } = requireIsoDate(today);
  return month === 12 ? `${String(year + 1).padStart(4, '0')}-01-01` : `${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}-01`;
}

/**
 * Where a qualification stands on a Shanghai day: `expired` from the day after its expiry date
 * (the expiry day itself is still valid); `expiring` once waiting for the next scheduled check
 * would leave fewer than `EXPIRY_NOTICE_DAYS` days, so the check that says so is the last one
 * that still gives the merchant at least that many; else `valid`.
 */
export function qualificationStatusOn(expiresOn: string, today: string, nextCheckOn: string = nextScheduledCheckOn(today)): QualificationStatus {
  if (daysUntil(expiresOn, today) < 0) return 'expired';
  return daysUntil(expiresOn, nextCheckOn) < EXPIRY_NOTICE_DAYS ? 'expiring' : 'valid';
}

/** The last expiry date the check on `today` calls expiring: it reads every current row up to it. */
export function noticeHorizon(today: string): string {
  const next = nextScheduledCheckOn(today);
  return isoDateOfEpochDay(epochDayOf(requireIsoDate(next)) + EXPIRY_NOTICE_DAYS - 1);
}

/** Whole days from `today` to `expiresOn` (negative once past). */
export function daysUntil(expiresOn: string, today: string): number {
  return epochDayOf(requireIsoDate(expiresOn)) - epochDayOf(requireIsoDate(today));
}

/** A real day in the years a qualification may name. */
export function isQualificationDate(value: string): boolean {
  const parts = parseIsoDate(value);
  return parts !== undefined && parts.year >= QUALIFICATION_YEARS.first && parts.year <= QUALIFICATION_YEARS.last;
}

/**
 * True when `expiresOn` is at most MAX_VALIDITY_YEARS after `validFrom` (from 29 February, the
 * same years on: 28 February when that year has no 29th).
 */
export function withinMaxValidity(validFrom: string, expiresOn: string): boolean {
  const from = parseIsoDate(validFrom);
  // Not a date: nothing to compare, and the date's own check says so (a schema's object-level
  // rule runs even when its fields failed).
  if (from === undefined || parseIsoDate(expiresOn) === undefined) return true;
  const year = from.year + MAX_VALIDITY_YEARS;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const day = from.month === 2 && from.day === 29 && !leap ? 28 : from.day;
  const latest = `${String(year).padStart(4, '0')}-${String(from.month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return expiresOn <= latest;
}

/** What a finding is about: a shop's licence of a kind, valid until a day (not the row it was recorded as). */
export interface QualificationFinding {
  shopId: string;
  kind: QualificationKind;
  expiresOn: string;
}

/**
 * What a run of the monthly check counted: the run's row keeps them as it goes, and the run
 * answers them when it ends.
 */
export interface QualificationCheckCounts {
  /** Current qualifications expiring within the notice window or expired. */
  checked: number;
  expiring: number;
  expired: number;
  /** Merchants told of a coming expiry by this run (a notice sent before is not sent again). */
  notified: number;
  /** Qualification-mismatch cases this run opened (a case opened before is answered, not opened). */
  casesOpened: number;
  /**
   * Findings not acted on, each logged with its reason: an expired licence of a closed shop
   * (nothing left to restrict), or a notice the platform refused (tried again next run).
   */
  skipped: number;
}

/**
 * The violation case an expired qualification opens: one per shop, kind and expiry date, so a
 * re-run, a retry or the same licence recorded again answers the case it opened.
 */
export function qualificationCaseReference({ shopId, kind, expiresOn }: QualificationFinding): string {
  return `qualification:${shopId}:${kind}:${expiresOn}`;
}

/** The platform call that tells the merchant of a coming expiry: once per shop, kind and expiry date. */
export function expiryNoticeKey({ shopId, kind, expiresOn }: QualificationFinding): string {
  return `qualification-expiring:${shopId}:${kind}:${expiresOn}`;
}

/**
 * Keeps only the last four characters of a licence number (a business licence's number is the
 * USCC, personal data: never stored in clear). Enough for a merchant to tell two licences apart.
 */
export function maskLicenceNumber(number: string): string {
  const compact = number.replace(/\s+/g, '');
  return `****${compact.slice(-4)}`;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isCheckMonth(value: string): boolean {
  return MONTH.test(value);
}

