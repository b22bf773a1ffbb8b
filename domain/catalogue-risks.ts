import { epochDayOf, isoDateOfEpochDay, requireIsoDate } from './civil-date';

/**
 * The risk checks over a bound store's catalogue (docs/rules.md §5.3). Prices are integer fen
 * and every comparison is made in integers: a percentage threshold is exact, so 10% is not a
 * gap while 10.01% is, and a 15% move is not a fluctuation while 15.01% is.
 */

export const RISK_KINDS = ['price_gap', 'price_fluctuation', 'banned_words'] as const;
export type RiskKind = (typeof RISK_KINDS)[number];

/** A gap strictly above this share of the partner's price flags the product. [source S2] */
export const PRICE_GAP_PERCENT = 10;
/** A move strictly above this share of the reference opens a price violation. [source S1] */
export const PRICE_FLUCTUATION_PERCENT = 15;
/** The reference is taken over this many Shanghai days before the scan day. [default] */
export const REFERENCE_WINDOW_DAYS = 7;

/**
 * The Kuaishou channel price is more than 10% away from the partner's own price, up or down,
 * relative to the partner's price: |channel − partner| / partner > 10%. A free partner price
 * makes any paid channel price a gap (and a free one none).
 */
export function priceGap(channelFen: number, partnerFen: number): boolean {
  const diff = Math.abs(channelFen - partnerFen);
  return diff * 100 > PRICE_GAP_PERCENT * partnerFen;
}

/**
 * The reference a day's channel price is judged against: the median of the daily channel
 * prices observed on the REFERENCE_WINDOW_DAYS Shanghai days before the scan day (one price a
 * day, the day's last). Kept doubled so an even count's median (the mean of the two middle
 * prices) stays an integer; undefined when no day of the window was observed.
 */
export function referenceTwiceFen(dailyPricesFen: readonly number[]): number | undefined {
  if (dailyPricesFen.length === 0) return undefined;
  const sorted = [...dailyPricesFen].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? 2 * sorted[mid]! : sorted[mid - 1]! + sorted[mid]!;
}

/** The scan day's channel price moved more than ±15% against the (doubled) reference. */
export function priceFluctuates(channelFen: number, referenceTwice: number): boolean {
  const diffTwice = Math.abs(2 * channelFen - referenceTwice);
  return diffTwice * 100 > PRICE_FLUCTUATION_PERCENT * referenceTwice;
}

/** The first and last day of the reference window before `day` (YYYY-MM-DD, inclusive). */
export function referenceWindow(day: string): { from: string; to: string } {
  const epoch = epochDayOf(requireIsoDate(day));
  return { from: isoDateOfEpochDay(epoch - REFERENCE_WINDOW_DAYS), to: isoDateOfEpochDay(epoch - 1) };
}

/** A recorded change of a product's channel price (the change log of observations). */
export interface PriceObservation {
  day: string;
  channelPriceFen: number;
}

/** Days a fluctuation finding stood on: from its day up to, not including, `until` (the day it was fixed or closed; null while open). */
export interface StoodSpan {
  from: string;
  until: string | null;
}

/**
 * The daily channel prices of the window's days, in day order: a day's price is the latest
 * observation at or before it (the log records changes only, so an unchanged price is carried
 * forward); a day before the product's first observation has no price, and a day a
 * fluctuation finding stood on is left out (a moved price never becomes its own reference).
 * `observations` must hold the window's rows and the latest one before it.
 */
export function dailyPricesInWindow(observations: readonly PriceObservation[], window: { from: string; to: string }, stood: readonly StoodSpan[]): number[] {
  const sorted = [...observations].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  const prices: number[] = [];
  let next = 0;
  let price: number | undefined;
  for (let epoch = epochDayOf(requireIsoDate(window.from)); epoch <= epochDayOf(requireIsoDate(window.to)); epoch++) {
    const day = isoDateOfEpochDay(epoch);
    while (next < sorted.length && sorted[next]!.day <= day) price = sorted[next++]!.channelPriceFen;
    if (price === undefined) continue;
    if (stood.some((s) => s.from <= day && (s.until === null || day < s.until))) continue;
    prices.push(price);
  }
  return prices;
}

/**
 * How far back a price change keeps a product judged: a product whose latest change is older
 * than the window's first day shows one price on every day of the window and today, so it
 * cannot fluctuate. One day of margin. [default]
 */
export const changedSinceDay = (day: string): string => isoDateOfEpochDay(epochDayOf(requireIsoDate(day)) - REFERENCE_WINDOW_DAYS - 1);

/** The fields a product's text is scanned in. */
export const SCANNED_FIELDS = ['title', 'description'] as const;
export type ScannedField = (typeof SCANNED_FIELDS)[number];

export interface BannedWordHit {
  word: string;
  fields: ScannedField[];
}

/**
 * The traditional forms of the characters of the listed words, folded to the simplified ones
 * the list is written in (絕對 → 绝对, 國家級 → 国家级). A small table of the characters the
 * absolute terms use, not a full traditional–simplified conversion. [default]
 */
const TRADITIONAL_TO_SIMPLIFIED: Readonly<Record<string, string>> = {
  絕: '绝', 對: '对', 國: '国', 級: '级', 頂: '顶', 極: '极', 選: '选', 獨: '独', 萬: '万', 網: '网',
  價: '价', 個: '个', 進: '进', 優: '优', 強: '强', 寶: '宝', 貨: '货', 準: '准', 權: '权',
  質: '质', 獎: '奖', 專: '专', 銷: '销', 賣: '卖', 領: '领', 導: '导', 號: '号', 純: '纯', 業: '业',
  驗: '验', 證: '证', 無: '无', 敵: '敌', 統: '统', 際: '际', 禮: '礼', 僅: '仅', 與: '与', 鑽: '钻',
};
const TRADITIONAL = new RegExp(`[${Object.keys(TRADITIONAL_TO_SIMPLIFIED).join('')}]`, 'gu');
/** Characters that do not show (zero-width space, word joiner, BOM, soft hyphen, …) and blanks. */
const INVISIBLE_OR_BLANK = /[\p{Default_Ignorable_Code_Point}\s]/gu;

/**
 * Text as it is compared, the same for a product's text and the listed words: NFKC folds
 * full-width letters, digits and signs (１００％ → 100%, ＢＥＳＴ → BEST); then the characters
 * that do not show and every blank are removed, so 国 家 级, 第\u200B一 and 1 0 0 % cannot slip
 * a word past the scan (Chinese has no spaces between words to lose); then lower case and the
 * traditional forms of the listed words' characters.
 */
export const foldForMatching = (text: string): string =>
  text.normalize('NFKC').replace(INVISIBLE_OR_BLANK, '').toLowerCase().replace(TRADITIONAL, (c) => TRADITIONAL_TO_SIMPLIFIED[c]!);

/** The list as it is matched and stored: each word folded, once, in the list's order; empty ones dropped. */
export function foldWords(words: readonly string[]): string[] {
  return [...new Set(words.map(foldForMatching))].filter((w) => w.length > 0);
}

/** The banned-word list holds at most this many (folded) words. [default] */
export const BANNED_WORD_LIMIT = 5_000;

/**
 * Each banned word found in the product's title or description, with the fields it is in, in
 * the list's order. The words are the folded list (foldWords, folded once per scan). A word is
 * found as a substring: absolute terms are short and Chinese has no word boundaries, which is
 * why the list holds phrases (最佳, 最好) and never a bare character (最) that matches everything.
 */
export function findBannedWords(text: Record<ScannedField, string>, foldedWords: readonly string[]): BannedWordHit[] {
  const folded = Object.fromEntries(SCANNED_FIELDS.map((f) => [f, foldForMatching(text[f])])) as Record<ScannedField, string>;
  const hits: BannedWordHit[] = [];
  for (const word of foldedWords) {
    if (word.length === 0) continue;
    const fields = SCANNED_FIELDS.filter((f) => folded[f].includes(word));
    if (fields.length > 0) hits.push({ word, fields });
  }
  return hits;
}

/** The finding's deterministic key: one finding, and one case, per product, kind and Shanghai day. */
export const findingKey = (bindingId: string, productId: string, kind: RiskKind, day: string): string => `risk:${bindingId}:${productId}:${kind}:${day}`;

/** A banned word as ops may add it: 1–20 characters, not only blanks or invisible characters, one line. */
export function bannedWordProblem(word: string): string | undefined {
  if (foldForMatching(word).length === 0) return 'is only whitespace or invisible characters';
  if ([...word].length > 20) return 'is longer than 20 characters';
  if (/[\r\n\t]/.test(word)) return 'spans more than one line';
  return undefined;
}
