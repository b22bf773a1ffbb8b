import {
  afterTransientFailure,
  callFailureOf,
  campaignSummary,
  MAX_CALLS_PER_PAGE,
  MAX_ITEM_ATTEMPTS,
  MAX_RATE_PER_MINUTE,
  mostCallsInWindow,
  pacingFor,
} from '../../domain/campaigns';

const MINUTE = 60_000;

/**
 * Calls as a campaign makes them: pages of `callsPerPage`, each call `callMs` after the one
 * before, the next page `gapMs` after the page before ended (the workflow's sleep), plus a
 * random delay of scheduling. Answers when each call was made.
 */
function simulate(rate: number, calls: number, callMs: (i: number) => number, lateMs: (page: number) => number): number[] {
  const { callsPerPage, gapMs } = pacingFor(rate);
  const times: number[] = [];
  let t = 0;
  for (let page = 0; times.length < calls; page += 1) {
    for (let i = 0; i < callsPerPage && times.length < calls; i += 1) {
      if (i > 0) t += callMs(times.length);
      times.push(t);
    }
    t += gapMs + lateMs(page);
  }
  return times;
}

describe('pacingFor: never more than the rate in any minute', () => {
  test.each([
    // rate, calls per page, gap: a page per gap, pages per minute = rate / page
    [1, 1, 60_001],
    [2, 2, 60_001],
    [49, 49, 60_001],
    [50, 50, 60_001],
    [51, 50, 60_001],
    [99, 50, 60_001],
    [100, 50, 30_001],
    [120, 50, 30_001],
    [150, 50, 20_001],
    [6_000, 50, 501],
  ])('rate %i/min: %i calls a page, %i ms between pages', (rate, callsPerPage, gapMs) => {
    expect(pacingFor(rate)).toEqual({ callsPerPage, gapMs });
  });

  test('a rate that is no whole positive number is refused', () => {
    for (const rate of [0, -1, 1.5, Number.NaN]) expect(() => pacingFor(rate)).toThrow(RangeError);
  });

  test.each([1, 7, 50, 51, 100, 120, 149, 150, 1_000, MAX_RATE_PER_MINUTE])('rate %i/min: instant pages, slow pages and late pages alike keep to it in every sliding minute', (rate) => {
    const calls = Math.max(3 * rate, 200);
    const instant = simulate(rate, calls, () => 0, () => 0);
    const slow = simulate(rate, calls, () => 997, () => 0);
    const jittered = simulate(rate, calls, (i) => (i * 7919) % 400, (p) => (p * 104_729) % 3_000);
    for (const times of [instant, slow, jittered]) expect(mostCallsInWindow(times, MINUTE)).toBeLessThanOrEqual(rate);
    // …and no slower than it must be: instant pages reach the rate's floor to a page.
    expect(mostCallsInWindow(instant, MINUTE)).toBeGreaterThanOrEqual(Math.floor(rate / pacingFor(rate).callsPerPage) * pacingFor(rate).callsPerPage);
  });

  test('a gap of half a minute less a ms would let a minute hold one page too many (the bound is tight)', () => {
    const rate = 100;
    const { callsPerPage, gapMs } = pacingFor(rate);
    const pageStarts = [0, 29_999, 59_998];
    const tooFast = pageStarts.flatMap((s) => Array.from({ length: callsPerPage }, () => s));
    expect(mostCallsInWindow(tooFast, MINUTE)).toBe(150);
    const paced = [0, gapMs, 2 * gapMs].flatMap((s) => Array.from({ length: callsPerPage }, () => s));
    expect(mostCallsInWindow(paced, MINUTE)).toBe(rate);
  });

  test('no page holds more than MAX_CALLS_PER_PAGE calls', () => {
    expect(pacingFor(MAX_RATE_PER_MINUTE).callsPerPage).toBe(MAX_CALLS_PER_PAGE);
  });
});

describe('mostCallsInWindow', () => {
  test.each([
    [[], 0],
    [[0], 1],
    [[0, 59_999], 2],
    [[0, 60_000], 1],
    [[0, 1, 60_000, 60_001], 2],
    [[5, 0, 30_000, 59_999, 60_000], 4],
  ])('%j → %i', (times, most) => {
    expect(mostCallsInWindow(times, MINUTE)).toBe(most);
  });
});

describe('campaignSummary', () => {
  test.each([
    [{ total: 10, done: 7, refused: 2, failed: 1 }, false, { notTried: 0, outcome: 'completed' }],
    [{ total: 10, done: 3, refused: 1, failed: 0 }, true, { notTried: 6, outcome: 'cancelled' }],
    // A cancel that came after the last item changes nothing: every item has its result.
    [{ total: 4, done: 4, refused: 0, failed: 0 }, true, { notTried: 0, outcome: 'completed' }],
  ] as const)('%j cancelled=%s', (counts, cancelled, expected) => {
    expect(campaignSummary('close_shops', counts, cancelled)).toEqual({ kind: 'close_shops', ...counts, ...expected });
  });

  test('more results than items is refused, not summarised', () => {
    expect(() => campaignSummary('warn_streamers', { total: 2, done: 2, refused: 1, failed: 0 }, false)).toThrow(RangeError);
  });
});

describe('what a failed call means for its item', () => {
  test.each([
    [400, 'refused'],
    [404, 'refused'],
    [409, 'refused'],
    [422, 'refused'],
    [499, 'refused'],
    [401, 'access_refused'],
    [403, 'access_refused'],
    [428, 'refused'],
    [429, 'throttled'],
    [430, 'refused'],
    [407, 'refused'],
    [408, 'transient'],
    [500, 'transient'],
    [503, 'transient'],
    [399, 'transient'],
    [undefined, 'transient'],
  ] as const)('status %s → %s', (status, meaning) => {
    expect(callFailureOf(status)).toBe(meaning);
  });

  test(`a transient failure is tried again until its ${MAX_ITEM_ATTEMPTS}th try, then the item has failed`, () => {
    expect(afterTransientFailure(1)).toBe('retry');
    expect(afterTransientFailure(MAX_ITEM_ATTEMPTS - 1)).toBe('retry');
    expect(afterTransientFailure(MAX_ITEM_ATTEMPTS)).toBe('failed');
  });
});
