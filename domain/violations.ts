import { shanghaiDate } from './shanghai-time';
import { planWorkingDayDeadline, workingDayDeadline, type WorkingDayCalendar } from './working-days';

/**
 * Violations and penalty escalation (docs/rules.md §4): levels, what each penalty does,
 * appeal windows on the working-day calendar, effect periods and escalation. Pure rules;
 * the violationCase workflow carries them out.
 */

export const VIOLATION_LEVELS = ['general', 'serious', 'especially_serious'] as const;
export type ViolationLevel = (typeof VIOLATION_LEVELS)[number];

export const VIOLATION_TYPES = ['qualification_mismatch', 'false_advertising', 'price_violation', 'other'] as const;
export type ViolationType = (typeof VIOLATION_TYPES)[number];

const CNY = 100;
const DAY_MS = 86_400_000;

export interface ViolationPolicy {
  /** [default] a general violation costs 2 points. */
  generalPoints: number;
  /** [default] each 12 points reached within a natural year count as one serious violation (12, 24, …). */
  pointsPerYearAsSerious: number;
  /** [default] a serious violation fines 2,000 CNY from the deposit. */
  seriousFineFen: number;
  /** [default] and suspends sales for 7 days. */
  seriousSalesSuspensionDays: number;
  /** [src] 7 working days (general), 3 (serious); especially serious: no appeal. */
  appealWorkingDays: { general: number; serious: number };
  /** [src] 30 days (general), 180 (serious); especially serious: permanent. */
  effectDays: { general: number; serious: number };
}

export const DEFAULT_VIOLATION_POLICY: ViolationPolicy = {
  generalPoints: 2,
  pointsPerYearAsSerious: 12,
  seriousFineFen: 2_000 * CNY,
  seriousSalesSuspensionDays: 7,
  appealWorkingDays: { general: 7, serious: 3 },
  effectDays: { general: 30, serious: 180 },
};

const rank = (level: ViolationLevel): number => VIOLATION_LEVELS.indexOf(level);

/** One level up; especially serious is the top. */
export function nextLevel(level: ViolationLevel): ViolationLevel {
  return VIOLATION_LEVELS[Math.min(rank(level) + 1, VIOLATION_LEVELS.length - 1)]!;
}

export interface LevelDecision {
  level: ViolationLevel;
  /** Why the case stands higher than reported, if it does. */
  escalatedBecause: 'repeat_in_effect' | 'year_points' | null;
  /** Points this case deducts (general cases only). */
  points: number;
}

/**
 * The level a new case takes. [default] A case in effect of the same or higher level
 * escalates the new one by one level; otherwise a general case whose points bring the
 * merchant's natural-year total to a multiple of 12 or past one (12, 24, 36, …) counts as
 * one serious violation. The two never stack: a case stands at most one level above the
 * level reported. A general case keeps its points whatever level it ends up at.
 */
export function decideLevel(
  reported: ViolationLevel,
  inEffect: readonly ViolationLevel[],
  pointsThisYear: number,
  policy: ViolationPolicy = DEFAULT_VIOLATION_POLICY,
): LevelDecision {
  if (!VIOLATION_LEVELS.includes(reported)) throw new Error(`unknown violation level ${JSON.stringify(reported)}`);
  if (!Number.isSafeInteger(pointsThisYear) || pointsThisYear < 0) throw new Error(`points must be a whole number ≥ 0, got ${pointsThisYear}`);
  const points = reported === 'general' ? policy.generalPoints : 0;
  if (inEffect.some((l) => rank(l) >= rank(reported))) return { level: nextLevel(reported), escalatedBecause: 'repeat_in_effect', points };
  if (reported === 'general') {
    const every = policy.pointsPerYearAsSerious;
    const crosses = Math.floor((pointsThisYear + points) / every) > Math.floor(pointsThisYear / every);
    return crosses ? { level: 'serious', escalatedBecause: 'year_points', points } : { level: 'general', escalatedBecause: null, points };
  }
  return { level: reported, escalatedBecause: null, points };
}

/** An earlier case of the shop, as far as its points go. */
export interface CaseOnRecord {
  openedAt: Date;
  points: number;
  /** An upheld appeal takes the case's points back. */
  reversed: boolean;
}

/**
 * The points a shop holds at `asOf` in its natural year: cases opened from 1 January
 * (Asia/Shanghai) up to `asOf`, reversed ones left out. [default]
 */
export function pointsInNaturalYear(cases: readonly CaseOnRecord[], asOf: Date): number {
  const year = shanghaiDate(asOf).slice(0, 4);
  return cases
    .filter((c) => !c.reversed && c.openedAt.getTime() <= asOf.getTime() && shanghaiDate(c.openedAt).slice(0, 4) === year)
    .reduce((sum, c) => sum + c.points, 0);
}

/** Restrictions on the platform a penalty may hold. */
export type PenaltyRestriction = 'stop_sales' | 'disable_api' | 'bar_big_promotions';

/** What a penalty does, in the order the case applies it; its reversal undoes each part. */
export interface PenaltyPlan {
  points: number;
  /** The products cited in the case are delisted (general). */
  delistProducts: boolean;
  fineFen: number;
  /** Restrictions lifted when the suspension ends (ISO instant), or null. */
  suspendSalesUntil: string | null;
  /** Held until the effect period ends (or for good, when it never ends). */
  restrictionsForEffect: PenaltyRestriction[];
  /** Held for good: never lifted by a timer, only by an upheld appeal. */
  permanentRestrictions: PenaltyRestriction[];
  /** A permanent ban starts the shop-closure flow. */
  startClosure: boolean;
  /** [src] false advertising forfeits all unsettled commission. */
  forfeitUnsettledCommission: boolean;
}

/**
 * [src] general: points / delisting; serious: fine / shop closed; especially serious:
 * permanent ban. [default] amounts from the policy. By type [src]: a qualification
 * mismatch closes API permission for good; false advertising forfeits unsettled
 * commission; a price violation bars big promotions while the case is in effect.
 */
export function penaltyFor(
  decision: LevelDecision,
  type: ViolationType,
  openedAt: Date,
  policy: ViolationPolicy = DEFAULT_VIOLATION_POLICY,
): PenaltyPlan {
  if (!VIOLATION_TYPES.includes(type)) throw new Error(`unknown violation type ${JSON.stringify(type)}`);
  const { level } = decision;
  const serious = level === 'serious';
  return {
    points: decision.points,
    delistProducts: level === 'general',
    fineFen: serious ? policy.seriousFineFen : 0,
    suspendSalesUntil: serious ? new Date(openedAt.getTime() + policy.seriousSalesSuspensionDays * DAY_MS).toISOString() : null,
    restrictionsForEffect: type === 'price_violation' ? ['bar_big_promotions'] : [],
    permanentRestrictions: type === 'qualification_mismatch' ? ['disable_api'] : [],
    startClosure: level === 'especially_serious',
    forfeitUnsettledCommission: type === 'false_advertising',
  };
}

/**
 * The last instant an appeal is accepted: the end (Shanghai time) of the N-th working day
 * after the day the case opened; null when the level allows no appeal. Throws
 * CalendarYearNotLoadedError when the window reaches a year the calendar lacks.
 */
export function appealDeadline(
  level: ViolationLevel,
  openedAt: Date,
  calendar: WorkingDayCalendar,
  policy: ViolationPolicy = DEFAULT_VIOLATION_POLICY,
): string | null {
  if (level === 'especially_serious') return null;
  return workingDayDeadline(openedAt, policy.appealWorkingDays[level], calendar).toISOString();
}

/** appealDeadline, saying whether it counted days of the provisional calendar. */
export function planAppealDeadline(
  level: ViolationLevel,
  openedAt: Date,
  calendar: WorkingDayCalendar,
  policy: ViolationPolicy = DEFAULT_VIOLATION_POLICY,
): { deadline: string | null; provisional: boolean } {
  if (level === 'especially_serious') return { deadline: null, provisional: false };
  const planned = planWorkingDayDeadline(openedAt, policy.appealWorkingDays[level], calendar);
  return { deadline: planned.deadline.toISOString(), provisional: planned.provisional };
}

/** When the case stops counting against the shop; null: never (a permanent ban). */
export function effectEndsAt(level: ViolationLevel, openedAt: Date, policy: ViolationPolicy = DEFAULT_VIOLATION_POLICY): string | null {
  if (level === 'especially_serious') return null;
  return new Date(openedAt.getTime() + policy.effectDays[level] * DAY_MS).toISOString();
}

export type AppealCheck = { accepted: true } | { accepted: false; reason: string };

/** Whether an appeal filed at `at` is in time; the refusal names the deadline it missed. */
export function checkAppealTime(deadline: string | null, at: Date): AppealCheck {
  if (deadline === null) return { accepted: false, reason: 'an especially serious violation cannot be appealed' };
  if (at.getTime() > Date.parse(deadline)) return { accepted: false, reason: `the appeal window closed at ${deadline}` };
  return { accepted: true };
}

/** [default] The reviewer who decides an appeal must not be the one who opened the case. */
export function checkAppealReviewer(openedBy: string, reviewer: string): AppealCheck {
  return openedBy === reviewer ? { accepted: false, reason: 'the reviewer who opened the case cannot decide its appeal' } : { accepted: true };
}
