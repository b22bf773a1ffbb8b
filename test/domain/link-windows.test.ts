import {
  checkChange,
  checkDates,
  checkNewWindow,
  closingInstant,
  dayBefore,
  nearestWindowAllowing,
  openingInstant,
  phaseAt,
  timingAt,
  windowAllowing,
  type LinkWindow,
} from '../../domain/link-windows';
import { WINDOWS_2022 } from '../../domain/link-windows-2022';

const at = (iso: string) => new Date(iso);
const windows: LinkWindow[] = WINDOWS_2022.map((w, i) => ({ ...w, windowId: `lw-${i}`, version: 1 }));
const jd = windows[2];

describe('link windows: Shanghai civil dates, inclusive', () => {
  it.each([
    // 28 Oct 00:00 Shanghai is 27 Oct 16:00Z: the last millisecond before is still closed.
    ['2022-10-27T15:59:59.999Z', 'before'],
    ['2022-10-27T16:00:00.000Z', 'open'],
    ['2022-11-30T15:59:59.999Z', 'open'],
    ['2022-11-30T16:00:00.000Z', 'after'],
  ] as const)('JD self-operated at %s is %s', (instant, timing) => {
    expect(timingAt(jd, at(instant))).toBe(timing);
  });

  it('opens at 00:00 Shanghai on opensOn and closes at 00:00 the day after closesOn', () => {
    expect(openingInstant(jd).toISOString()).toBe('2022-10-27T16:00:00.000Z');
    expect(closingInstant(jd)?.toISOString()).toBe('2022-11-30T16:00:00.000Z');
    expect(closingInstant(windows[0])).toBeNull();
  });

  it.each([
    ['2022-10-27T16:00:00.000Z', 'preview'],
    ['2022-10-28T15:59:59.999Z', 'preview'],
    ['2022-10-28T16:00:00.000Z', 'full'],
  ] as const)('JD phase at %s is %s', (instant, phase) => {
    expect(phaseAt(jd, at(instant))).toBe(phase);
  });

  it('an open-ended window stays open', () => {
    expect(timingAt(windows[0], at('2030-01-01T00:00:00Z'))).toBe('open');
  });

  it('"stopped from 1 Mar" is a window ending the day before', () => {
    expect(dayBefore('2022-03-01')).toBe('2022-02-28');
    expect(dayBefore('2024-03-01')).toBe('2024-02-29');
  });
});

describe('which window allows a link', () => {
  it.each([
    ['jd', 'self_operated', '2022-11-01T04:00:00Z', 'lw-2'],
    ['jd', 'union_product', '2022-11-01T04:00:00Z', null],
    ['tmall', 'short_video_live', '2022-12-31T15:59:59Z', 'lw-1'],
    ['tmall', 'short_video_live', '2022-12-31T16:00:00Z', null],
    ['taobao', 'union_product', '2022-03-01T04:00:00Z', null],
  ] as const)('%s %s at %s: %s', (partner, kind, instant, id) => {
    expect(windowAllowing(windows, partner, kind, at(instant))?.windowId ?? null).toBe(id);
  });

  it('the refusal names the nearest window to come, or none', () => {
    expect(nearestWindowAllowing(windows, 'taobao', 'union_product', at('2022-03-01T04:00:00Z'))?.windowId).toBe('lw-0');
    expect(nearestWindowAllowing(windows, 'jd', 'self_operated', at('2022-12-01T04:00:00Z'))).toBeNull();
    const later = { ...jd, windowId: 'lw-9', opensOn: '2023-06-01', closesOn: '2023-06-30' };
    const sooner = { ...jd, windowId: 'lw-8', opensOn: '2023-03-01', closesOn: '2023-03-31' };
    expect(nearestWindowAllowing([...windows, later, sooner], 'jd', 'self_operated', at('2022-12-01T04:00:00Z'))?.windowId).toBe('lw-8');
  });

  it('a cancelled window allows nothing', () => {
    expect(windowAllowing([{ ...jd, cancelled: true }], 'jd', 'self_operated', at('2022-11-01T04:00:00Z'))).toBeNull();
  });
});

describe('validation', () => {
  const now = at('2022-10-01T04:00:00Z');
  it.each([
    [{ opensOn: '2022-11-02', closesOn: '2022-11-01', phases: [] }, 'closes_before_opens'],
    [{ opensOn: '2022-11-01', closesOn: '2022-11-01', phases: [] }, null],
    [{ opensOn: '2022-11-01', closesOn: null, phases: [] }, null],
    [{ opensOn: '2022-11-01', closesOn: '2022-11-30', phases: [{ name: 'full', from: '2022-12-01' }] }, 'invalid_phase'],
    [{ opensOn: '2022-11-01', closesOn: '2022-11-30', phases: [{ name: 'full', from: '2022-10-31' }] }, 'invalid_phase'],
    [
      {
        opensOn: '2022-11-01',
        closesOn: '2022-11-30',
        phases: [
          { name: 'preview', from: '2022-11-03' },
          { name: 'full', from: '2022-11-02' },
        ],
      },
      'invalid_phase',
    ],
  ] as const)('dates %j: %s', (dates, code) => {
    expect(checkDates({ ...dates, phases: [...dates.phases] })?.code ?? null).toBe(code);
  });

  it('refuses an overlap with another window of the same partner and kind, not of another kind', () => {
    const candidate: LinkWindow = { ...jd, windowId: 'new', opensOn: '2022-11-30', closesOn: '2022-12-05', phases: [] };
    expect(checkNewWindow(candidate, windows, now)).toMatchObject({ code: 'overlaps', windowId: 'lw-2' });
    expect(checkNewWindow({ ...candidate, opensOn: '2022-12-01' }, windows, now)).toBeNull();
    expect(checkNewWindow({ ...candidate, linkKind: 'union_product' }, windows, now)).toBeNull();
    expect(checkNewWindow({ ...candidate, opensOn: '2022-11-30' }, windows.map((w) => ({ ...w, cancelled: true })), now)).toBeNull();
    // An open-ended window overlaps everything after it.
    expect(checkNewWindow({ ...candidate, partner: 'taobao', linkKind: 'union_product', opensOn: '2030-01-01', closesOn: '2030-01-02' }, windows, now)?.code).toBe('overlaps');
  });

  it('refuses a new window opening before today (Shanghai)', () => {
    const candidate: LinkWindow = { ...jd, windowId: 'new', opensOn: '2022-09-30', closesOn: '2022-10-05', phases: [] };
    expect(checkNewWindow(candidate, [], now)?.code).toBe('opening_in_past');
    expect(checkNewWindow({ ...candidate, opensOn: '2022-10-01' }, [], now)).toBeNull();
  });

  it('an open window keeps its opening and may end today at the earliest; a closed one never changes', () => {
    const during = at('2022-11-10T04:00:00Z');
    expect(checkChange(jd, { ...jd, closesOn: '2022-12-15' }, windows, during)).toBeNull();
    expect(checkChange(jd, { ...jd, closesOn: '2022-11-10' }, windows, during)).toBeNull();
    expect(checkChange(jd, { ...jd, closesOn: '2022-11-09' }, windows, during)?.code).toBe('closing_in_past');
    expect(checkChange(jd, { ...jd, opensOn: '2022-10-29', phases: [] }, windows, during)?.code).toBe('opening_in_past');
    expect(checkChange(jd, { ...jd, closesOn: '2023-01-15' }, windows, at('2022-12-01T04:00:00Z'))?.code).toBe('already_closed');
    expect(checkChange(jd, { ...jd, opensOn: '2022-10-30', phases: [] }, windows, now)).toBeNull();
    expect(checkChange(jd, { ...jd, opensOn: '2022-09-30', phases: [] }, windows, now)?.code).toBe('opening_in_past');
  });
});
