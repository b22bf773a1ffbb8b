import { epochDayOf, isoDateOfEpochDay, MS_PER_DAY, parseIsoDate } from './civil-date';
import { shanghaiDate, startOfShanghaiDay } from './shanghai-time';
import { ErrorType } from './errors';

/**
 * Link windows (docs/rules.md §5.2, source S4): an outside product link of a partner store may
 * be live on a Kuaishou shop only inside a dated window for that partner and link kind. Dates
 * are Asia/Shanghai civil dates; a window [opensOn, closesOn] is inclusive: it opens at 00:00
 * Shanghai time on opensOn and closes at 00:00 on the day after closesOn. A window with no
 * closesOn stays open until a later version gives it one ("follow later notices" [src]).
 *
 * A stop such as "no Taobao Union links from 1 Mar" is not a rule of its own: it is the
 * absence of a window, so the window before it ends on 28 Feb and none covers 1 Mar.
 *
 * Pure: no clock, no I/O; the workflow and the API both decide with these functions.
 */

export type LinkPartner = 'taobao' | 'tmall' | 'youzan' | 'jd' | 'pinduoduo';
export const LINK_PARTNERS: readonly LinkPartner[] = ['taobao', 'tmall', 'youzan', 'jd', 'pinduoduo'];

/**
 * The kinds of outside link source S4 names [src]:
 * - `union_product`: Taobao Union product links (淘宝联盟商品外链) in the live-room cart, the
 *   short-video cart and the merchant detail page;
 * - `short_video_live`: Tmall product links placed in short videos and live rooms;
 * - `self_operated`: JD self-operated product links (京东自营商品链接), which JD Union promotes.
 */
export type LinkKind = 'union_product' | 'short_video_live' | 'self_operated';
export const LINK_KINDS: readonly LinkKind[] = ['union_product', 'short_video_live', 'self_operated'];

/**
 * A window's phases [src: JD "preview from 28 Oct, full cooperation from 29 Oct"]: `preview`
 * (预告, the live room may announce the products) and `full`. Links go live at opensOn in
 * either phase; the phase in force is shown with the window and in a refusal.
 */
export type WindowPhaseName = 'preview' | 'full';
export interface WindowPhase {
  name: WindowPhaseName;
  from: string;
}

/** One version of a window's dates: a change is a new version, never an edit. */
export interface WindowDates {
  opensOn: string;
  /** Inclusive; null: open until a later version says when it closes. */
  closesOn: string | null;
  phases: WindowPhase[];
}

export interface LinkWindow extends WindowDates {
  windowId: string;
  partner: LinkPartner;
  linkKind: LinkKind;
  version: number;
  /** A cancelled window allows nothing, whatever its dates. */
  cancelled?: boolean;
}

export type WindowTiming = 'before' | 'open' | 'after';

const dayOf = (date: string): number => {
  const parts = parseIsoDate(date);
  if (!parts) throw new Error(`not a real date in YYYY-MM-DD form: ${JSON.stringify(date)}`);
  return epochDayOf(parts);
};

/** The instant a window opens: 00:00 Shanghai time on opensOn. */
export const openingInstant = (w: Pick<WindowDates, 'opensOn'>): Date => startOfShanghaiDay(w.opensOn);

/** The instant a window closes: 00:00 Shanghai time the day after closesOn; null when open-ended. */
export function closingInstant(w: Pick<WindowDates, 'closesOn'>): Date | null {
  if (w.closesOn === null) return null;
  return new Date(startOfShanghaiDay(w.closesOn).getTime() + MS_PER_DAY);
}

/** Where an instant stands against a window's dates. */
export function timingAt(w: Pick<WindowDates, 'opensOn' | 'closesOn'>, at: Date): WindowTiming {
  const today = dayOf(shanghaiDate(at));
  if (today < dayOf(w.opensOn)) return 'before';
  if (w.closesOn !== null && today > dayOf(w.closesOn)) return 'after';
  return 'open';
}

/** The phase in force on the Shanghai date of `at` (null before the first phase or when none is named). */
export function phaseAt(w: Pick<WindowDates, 'phases'>, at: Date): WindowPhaseName | null {
  const today = dayOf(shanghaiDate(at));
  const begun = w.phases.filter((p) => dayOf(p.from) <= today).sort((a, b) => dayOf(b.from) - dayOf(a.from));
  return begun[0]?.name ?? null;
}

const matches = (w: LinkWindow, partner: string, linkKind: string) => !w.cancelled && w.partner === partner && w.linkKind === linkKind;

/** The window that allows a link of this partner and kind at `at`, if any. */
export function windowAllowing(windows: readonly LinkWindow[], partner: string, linkKind: string, at: Date): LinkWindow | null {
  return windows.find((w) => matches(w, partner, linkKind) && timingAt(w, at) === 'open') ?? null;
}

/**
 * What a refusal names: the window open now (none, when refused), else the nearest one still
 * to open for this partner and kind, else null ("no window allows it").
 */
export function nearestWindowAllowing(windows: readonly LinkWindow[], partner: string, linkKind: string, at: Date): LinkWindow | null {
  const open = windowAllowing(windows, partner, linkKind, at);
  if (open) return open;
  const coming = windows.filter((w) => matches(w, partner, linkKind) && timingAt(w, at) === 'before').sort((a, b) => dayOf(a.opensOn) - dayOf(b.opensOn));
  return coming[0] ?? null;
}

/** Why a window's dates are refused; each names the rule it breaks. */
export type WindowRefusal =
  | { code: 'closes_before_opens'; message: string }
  | { code: 'invalid_phase'; message: string }
  | { code: 'overlaps'; message: string; windowId: string }
  | { code: 'already_closed'; message: string }
  | { code: 'opening_in_past'; message: string }
  | { code: 'closing_in_past'; message: string };

/** A refusal raised where the window is written, under the lock that decides overlaps. */
export class LinkWindowRefused extends Error {
  readonly type = ErrorType.LinkWindowRefused;
  override readonly name = 'LinkWindowRefused';
  constructor(readonly refusal: WindowRefusal) {
    super(refusal.message);
  }
}

/** The dates on their own: closesOn ≥ opensOn; phases inside the window, distinct, in order. */
export function checkDates(d: WindowDates): WindowRefusal | null {
  const opens = dayOf(d.opensOn);
  if (d.closesOn !== null && dayOf(d.closesOn) < opens) return { code: 'closes_before_opens', message: `closesOn ${d.closesOn} is before opensOn ${d.opensOn}` };
  const seen = new Set<string>();
  for (const p of d.phases) {
    const from = dayOf(p.from);
    if (seen.has(p.name)) return { code: 'invalid_phase', message: `phase ${p.name} is named twice` };
    seen.add(p.name);
    if (from < opens || (d.closesOn !== null && from > dayOf(d.closesOn))) return { code: 'invalid_phase', message: `phase ${p.name} from ${p.from} is outside the window` };
  }
  const preview = d.phases.find((p) => p.name === 'preview');
  const full = d.phases.find((p) => p.name === 'full');
  if (preview && full && dayOf(full.from) < dayOf(preview.from)) return { code: 'invalid_phase', message: 'the full phase starts before the preview' };
  return null;
}

/** Whether two windows' day ranges share a day (an open-ended one runs on for ever). */
function overlap(a: WindowDates, b: WindowDates): boolean {
  const aEnd = a.closesOn === null ? Infinity : dayOf(a.closesOn);
  const bEnd = b.closesOn === null ? Infinity : dayOf(b.closesOn);
  return dayOf(a.opensOn) <= bEnd && dayOf(b.opensOn) <= aEnd;
}

/** No two live windows of one partner and kind share a day: which one allowed a link must be one answer. */
export function checkNoOverlap(candidate: LinkWindow, others: readonly LinkWindow[]): WindowRefusal | null {
  const clash = others.find((o) => o.windowId !== candidate.windowId && matches(o, candidate.partner, candidate.linkKind) && overlap(candidate, o));
  return clash ? { code: 'overlaps', message: `overlaps window ${clash.windowId} (${clash.opensOn} to ${clash.closesOn ?? 'open-ended'})`, windowId: clash.windowId } : null;
}

/**
 * A new window: valid dates, no overlap, and not opening before today (Shanghai): links of a
 * day already begun would have been refused that day, so a window never opens in the past.
 */
export function checkNewWindow(candidate: LinkWindow, others: readonly LinkWindow[], now: Date): WindowRefusal | null {
  const dates = checkDates(candidate);
  if (dates) return dates;
  const today = dayOf(shanghaiDate(now));
  if (dayOf(candidate.opensOn) < today) return { code: 'opening_in_past', message: `opensOn ${candidate.opensOn} is before today (${shanghaiDate(now)}, Asia/Shanghai)` };
  return checkNoOverlap(candidate, others);
}

/**
 * A new version of a window's dates. The past is fixed once lived: a window not yet open may
 * move freely into the future; an open one keeps its opensOn and may end today at the earliest
 * (its end re-planned); a closed one is never changed.
 */
export function checkChange(current: LinkWindow, next: WindowDates, others: readonly LinkWindow[], now: Date): WindowRefusal | null {
  const dates = checkDates(next);
  if (dates) return dates;
  const timing = current.cancelled ? 'after' : timingAt(current, now);
  const today = dayOf(shanghaiDate(now));
  if (timing === 'after') return { code: 'already_closed', message: `window ${current.windowId} has closed; its dates are history` };
  if (timing === 'open' && next.opensOn !== current.opensOn) return { code: 'opening_in_past', message: `window ${current.windowId} opened on ${current.opensOn}; its opening cannot change` };
  if (timing === 'before' && dayOf(next.opensOn) < today) return { code: 'opening_in_past', message: `opensOn ${next.opensOn} is before today (${shanghaiDate(now)}, Asia/Shanghai)` };
  if (next.closesOn !== null && dayOf(next.closesOn) < today) return { code: 'closing_in_past', message: `closesOn ${next.closesOn} is before today (${shanghaiDate(now)}, Asia/Shanghai)` };
  return checkNoOverlap({ ...current, ...next }, others);
}

/** The day before a date: "stopped from 1 Mar" is a window ending on the day before. */
export const dayBefore = (date: string): string => isoDateOfEpochDay(dayOf(date) - 1);
