import { BANNED_WORDS_V1 } from '../../db/migrations/023_catalogue_risks';
import {
  bannedWordProblem,
  changedSinceDay,
  dailyPricesInWindow,
  findBannedWords,
  foldForMatching,
  foldWords,
  findingKey,
  priceFluctuates,
  priceGap,
  referenceTwiceFen,
  referenceWindow,
} from '../../domain/catalogue-risks';

describe('price gap: more than 10% away from the partner price, relative to it', () => {
  test.each([
    // channel, partner, gap
    [10_000, 10_000, false],
    [11_000, 10_000, false], // exactly 10% above
    [11_001, 10_000, true], // 10.01% above
    [9_000, 10_000, false], // exactly 10% below
    [8_999, 10_000, true], // 10.01% below
    [110, 100, false],
    [111, 100, true],
    [0, 0, false],
    [1, 0, true], // a free partner price: any paid channel price is a gap
    [0, 1, true],
  ])('channel %i fen vs partner %i fen → gap %s', (channel, partner, gap) => {
    expect(priceGap(channel, partner)).toBe(gap);
  });
});

describe('price fluctuation: a move of more than ±15% against the reference', () => {
  test.each([
    // channel, daily prices of the window, fluctuates
    [11_500, [10_000], false], // exactly +15%
    [11_501, [10_000], true], // +15.01%
    [8_500, [10_000], false], // exactly −15%
    [8_499, [10_000], true], // −15.01%
    [11_501, [9_000, 10_000, 10_000, 50_000], true], // median of an even count: (10000+10000)/2
    [11_500, [9_000, 10_000, 11_000], false], // median 10000, the outliers do not move it
    [1_150, [999, 1_001], false], // median 1000 exactly from two prices
    [1_151, [999, 1_001], true],
    [1_150, [1_000, 1_001], false], // median 1000.5: 15% of it is 150.075, the move 149.5
    [1_151, [1_000, 1_001], true], // the move 150.5
  ])('channel %i fen against %j → %s', (channel, window, fluctuates) => {
    expect(priceFluctuates(channel, referenceTwiceFen(window)!)).toBe(fluctuates);
  });

  test('no observed day in the window: no reference, so no finding', () => {
    expect(referenceTwiceFen([])).toBeUndefined();
  });

  test('the window is the 7 Shanghai days before the scan day', () => {
    expect(referenceWindow('2026-03-01')).toEqual({ from: '2026-02-22', to: '2026-02-28' });
  });
});

describe('banned words in the title and description', () => {
  const words = ['最', '最佳', '第一', '100%', 'best'];
  test.each([
    [{ title: '夏季连衣裙', description: '舒适透气' }, []],
    [{ title: '全网最佳连衣裙', description: '舒适' }, [{ word: '最', fields: ['title'] }, { word: '最佳', fields: ['title'] }]],
    [{ title: '销量第一', description: '行业第一品牌' }, [{ word: '第一', fields: ['title', 'description'] }]],
    // full width and case are folded (NFKC, lower case)
    [{ title: '１００％纯棉', description: 'THE ＢＥＳＴ' }, [{ word: '100%', fields: ['title'] }, { word: 'best', fields: ['description'] }]],
  ])('%j → %j', (text, hits) => {
    expect(findBannedWords(text, words)).toEqual(hits);
  });
});

test('the finding key names binding, product, kind and Shanghai day', () => {
  expect(findingKey('bnd-1', 'p-9', 'banned_words', '2026-03-01')).toBe('risk:bnd-1:p-9:banned_words:2026-03-01');
});

describe('a banned word as ops add it', () => {
  test.each([
    ['最', undefined],
    ['x'.repeat(20), undefined],
    ['x'.repeat(21), 'is longer than 20 characters'],
    ['   ', 'is only whitespace or invisible characters'],
    ['a\nb', 'spans more than one line'],
  ])('%j → %s', (word, problem) => {
    expect(bannedWordProblem(word)).toBe(problem);
  });
});

describe('evasions of the banned words are folded away (both the text and the words)', () => {
  const words = foldWords(['第一', '国家级', '绝对', '100%', 'best']);
  test.each([
    ['zero-width space', '销量第\u200B一', '第一'],
    ['word joiner', '销量第\u2060一', '第一'],
    ['BOM', '销量第\uFEFF一', '第一'],
    ['soft hyphen', 'the be\u00ADst dress', 'best'],
    ['spaces inside the word', '国 家 级 面料', '国家级'],
    ['an ideographic space', '国\u3000家级', '国家级'],
    ['full-width digits with spaces', '１ ０ ０ ％ 纯棉', '100%'],
    ['traditional 絕對', '絕對好用', '绝对'],
    ['traditional 國家級', '國家級品質', '国家级'],
    ['upper case and full width', 'ＢＥＳＴ', 'best'],
  ])('%s is found', (_name, title, word) => {
    expect(findBannedWords({ title, description: '' }, words)).toEqual([{ word, fields: ['title'] }]);
  });

  test('the fold strips invisible characters and blanks, applies NFKC, lower case and the traditional forms', () => {
    expect(foldForMatching(' Ｆｉｒｓｔ\u200B 國家級 ')).toBe('first国家级');
  });

  test('words are folded and deduplicated on their folded form', () => {
    expect(foldWords(['ＢＥＳＴ', 'best', 'Best', '国 家 级', '國家級'])).toEqual(['best', '国家级']);
  });
});

describe('the v1 list holds no bare single characters that match everything', () => {
  test('the bare 最 is replaced by the absolute phrases', () => {
    expect(BANNED_WORDS_V1).not.toContain('最');
    expect(BANNED_WORDS_V1).toEqual(expect.arrayContaining(['最好', '最佳', '最高', '最低价', '最先进', '100%']));
    expect(BANNED_WORDS_V1.filter((w) => [...w].length < 2)).toEqual([]);
  });

  test('an ordinary title with 最 in another sense finds nothing', () => {
    expect(findBannedWords({ title: '最近上新 夏季连衣裙', description: '' }, foldWords(BANNED_WORDS_V1))).toEqual([]);
  });
});

test('a word that is only invisible characters or blanks is refused', () => {
  expect(bannedWordProblem('\u200B\u2060')).toBe('is only whitespace or invisible characters');
});

describe('daily prices: the latest observation at or before each day of the window, carried forward', () => {
  const window = { from: '2026-03-03', to: '2026-03-09' };
  const obs = (...rows: Array<[string, number]>) => rows.map(([day, channelPriceFen]) => ({ day, channelPriceFen }));
  test.each([
    ['no observation at all: no price on any day', obs(), [], []],
    ['one change long before the window: its price every day', obs(['2026-02-01', 10_000]), [], [10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000]],
    ['first observed inside the window: no price before it', obs(['2026-03-07', 9_000]), [], [9_000, 9_000, 9_000]],
    ['a change inside the window: the old price up to the day before', obs(['2026-02-20', 10_000], ['2026-03-06', 12_000]), [], [10_000, 10_000, 10_000, 12_000, 12_000, 12_000, 12_000]],
    ['observations in any order; two changes', obs(['2026-03-08', 11_000], ['2026-03-01', 10_000], ['2026-03-04', 10_500]), [], [10_000, 10_500, 10_500, 10_500, 10_500, 11_000, 11_000]],
    ['a change after the window is not seen', obs(['2026-03-01', 10_000], ['2026-03-10', 20_000]), [], [10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000]],
    ['days a fluctuation finding stood on are left out (fixed on the 7th: the 7th counts)', obs(['2026-03-01', 10_000], ['2026-03-04', 12_000], ['2026-03-07', 10_000]), [{ from: '2026-03-04', until: '2026-03-07' }], [10_000, 10_000, 10_000, 10_000]],
    ['an open finding leaves out every day from its own', obs(['2026-03-01', 10_000], ['2026-03-06', 12_000]), [{ from: '2026-03-06', until: null }], [10_000, 10_000, 10_000]],
  ])('%s', (_name, observations, stood, prices) => {
    expect(dailyPricesInWindow(observations, window, stood)).toEqual(prices);
  });

  test('a price unchanged for 10 days after a change is the reference on each day of the window', () => {
    const prices = dailyPricesInWindow(obs(['2026-02-01', 8_000], ['2026-02-28', 10_000]), { from: '2026-03-04', to: '2026-03-10' }, []);
    expect(prices).toEqual(Array(7).fill(10_000));
    expect(referenceTwiceFen(prices)).toBe(20_000);
  });

  test('a product is judged for its price while a change is at most 8 days old', () => {
    expect(changedSinceDay('2026-03-10')).toBe('2026-03-02');
    expect(referenceWindow('2026-03-10').from).toBe('2026-03-03');
  });
});
