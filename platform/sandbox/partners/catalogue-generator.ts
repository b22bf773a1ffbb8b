import type { PartnerImage, PartnerProduct } from '../../partners/types';

/**
 * Deterministic partner catalogues for the sandbox fixture and the sync benchmark: the same
 * store, count, seed and rates always give the same products. Built in one loop over one
 * random source, with attribute sets and tag lists shared from small frozen pools, so a
 * million products take seconds and no per-product closures.
 */

/** Fractions of eligible products that carry each defect; each defaults to 0. */
export interface CatalogueDefectRates {
  /** A partner category the mapping table does not know. */
  unmappedCategory: number;
  /** One of the category's required attributes left out. */
  missingAttribute: number;
  /** Main image below 800×800. */
  smallMainImage: number;
  /** Watermark or text on the first image. */
  watermarkOrText: number;
  /** Beauty and food only: no quality-inspection report. */
  missingQualityReport: number;
  /** Cosmetics only: no filing number (备案号). */
  missingFilingNumber: number;
  /** Pre-sale items only: no deposit label. */
  missingPresaleLabel: number;
  /** A promotion tag that is not the partner's own. */
  unofficialPromoTag: number;
  /** An absolute term of the advertising law in the title or the description. */
  bannedWord: number;
  /** channelPriceFen more than 10% away from priceFen. */
  priceGap: number;
}

export type CatalogueDefect = keyof CatalogueDefectRates;

export const CATALOGUE_DEFECTS: readonly CatalogueDefect[] = [
  'unmappedCategory',
  'missingAttribute',
  'smallMainImage',
  'watermarkOrText',
  'missingQualityReport',
  'missingFilingNumber',
  'missingPresaleLabel',
  'unofficialPromoTag',
  'bannedWord',
  'priceGap',
];

export interface GenerateProductsInput {
  storeId: string;
  count: number;
  seed: number | string;
  rates?: Partial<CatalogueDefectRates>;
  /** Share of pre-sale items; 0.05 unless given. */
  presaleRate?: number;
  /** updatedAt of every generated product; a fixed instant unless given, so output stays deterministic. */
  updatedAt?: string;
}

export interface MutateProductsInput {
  seed: number | string;
  /** Share of products whose price moves. */
  priceChangeRate?: number;
  /** How far a moved price goes, in percent, up or down at random. */
  priceChangePercent?: number;
  /** Share of products that get a banned word in the title or description. */
  bannedWordRate?: number;
  /** updatedAt of the changed products. */
  updatedAt?: string;
}

/** The partner categories the generator uses and the attributes each one requires. */
export const CATALOGUE_CATEGORIES = {
  beauty: ['品牌', '净含量', '适用肤质'],
  food: ['品牌', '净含量', '保质期', '生产许可证编号'],
  cosmetics: ['品牌', '净含量', '功效'],
  apparel: ['品牌', '尺码', '颜色', '材质'],
  digital: ['品牌', '型号', '颜色'],
} as const satisfies Record<string, readonly string[]>;

export type CatalogueCategory = keyof typeof CATALOGUE_CATEGORIES;

/** Categories no mapping table knows: what the unmappedCategory defect uses. */
export const UNMAPPED_CATEGORIES: readonly string[] = ['antiques', 'live-plants', 'collectible-coins'];

/** Beauty and food need a quality-inspection report; cosmetics a filing number. */
export const QUALITY_REPORT_CATEGORIES: readonly string[] = ['beauty', 'food'];
export const FILING_NUMBER_CATEGORIES: readonly string[] = ['cosmetics'];

/** Absolute terms (advertising law art. 9) the banned-word defect writes; normal text never contains them. */
export const GENERATED_BANNED_WORDS: readonly string[] = ['最好', '第一', '国家级', '最佳', '顶级', '极品'];

export const OFFICIAL_PROMO_TAGS: readonly string[] = ['百亿补贴', '聚划算', '天天特价', '限时折扣'];
export const UNOFFICIAL_PROMO_TAGS: readonly string[] = ['店长推荐', '爆款直降', '全网低价', '清仓甩卖'];

export const PRESALE_LABELS: readonly string[] = ['订金', '淘宝预售'];

const CATEGORIES = Object.keys(CATALOGUE_CATEGORIES) as CatalogueCategory[];
const DEFAULT_UPDATED_AT = '2026-11-01T00:00:00.000Z';
const MIN_MAIN_IMAGE = 800;

// Vocabularies chosen so that no combination spells a banned word.
const BRANDS = ['花西子', '三只松鼠', '良品铺子', '李宁', '波司登', '小米', '华为', '百雀羚', '珀莱雅', '安踏', '自然堂'];
const NOUNS: Record<CatalogueCategory, readonly string[]> = {
  beauty: ['补水面膜', '洁面乳', '精华液', '眼霜', '防晒乳'],
  food: ['坚果礼盒', '牛肉干', '手工挂面', '红枣', '绿茶'],
  cosmetics: ['口红', '粉底液', '眼影盘', '腮红', '睫毛膏'],
  apparel: ['羽绒服', '卫衣', '运动裤', '衬衫', '连衣裙'],
  digital: ['蓝牙耳机', '充电宝', '智能手表', '机械键盘', '数据线'],
};
const ADJECTIVES = ['新款', '经典', '轻薄', '家用', '便携', '春季', '秋冬', '限定', '升级版', '热销'];
const DESCRIPTIONS = ['品质可靠，做工细致', '精选原料，放心选购', '适合日常使用', '包装简洁，送礼自用皆宜', '支持七天无理由退换'];
const PRICE_BANDS_FEN: Record<CatalogueCategory, [number, number]> = {
  beauty: [3_900, 39_900],
  food: [990, 19_900],
  cosmetics: [5_900, 49_900],
  apparel: [4_900, 129_900],
  digital: [2_900, 299_900],
};
const ATTRIBUTE_VALUES: Record<string, readonly string[]> = {
  品牌: BRANDS,
  净含量: ['30ml', '50ml', '100g', '250g', '500g'],
  适用肤质: ['干性', '油性', '混合性', '敏感肌'],
  保质期: ['6个月', '12个月', '18个月'],
  生产许可证编号: ['SC10133010200123', 'SC11233010500456', 'SC12033018200789'],
  功效: ['保湿', '遮瑕', '持久', '提亮'],
  尺码: ['S', 'M', 'L', 'XL'],
  颜色: ['黑色', '白色', '米色', '蓝色'],
  材质: ['棉', '涤纶', '羊毛'],
  型号: ['A1', 'X2', 'Pro 3', 'Lite'],
};
const ATTRIBUTE_POOL_SIZE = 16;

/** mulberry32: small, fast, good enough for fixtures; one instance per call, no closures per product. */
class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  between(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
  chance(rate: number): boolean {
    return rate > 0 && this.next() < rate;
  }
}

function seedOf(...parts: Array<string | number>): number {
  // FNV-1a over the parts: the same store and seed always start the same sequence.
  let hash = 0x811c9dc5;
  const text = parts.join('\u0000');
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Complete attribute sets per category, and each with one required attribute dropped; frozen and shared. */
interface AttributePools {
  complete: Record<CatalogueCategory, ReadonlyArray<Readonly<Record<string, string>>>>;
  missingOne: Record<CatalogueCategory, ReadonlyArray<Readonly<Record<string, string>>>>;
}

function attributePools(random: Random): AttributePools {
  const complete = {} as AttributePools['complete'];
  const missingOne = {} as AttributePools['missingOne'];
  for (const category of CATEGORIES) {
    const required = CATALOGUE_CATEGORIES[category];
    const sets: Array<Readonly<Record<string, string>>> = [];
    const missing: Array<Readonly<Record<string, string>>> = [];
    for (let i = 0; i < ATTRIBUTE_POOL_SIZE; i++) {
      const set: Record<string, string> = {};
      for (const name of required) set[name] = random.pick(ATTRIBUTE_VALUES[name]);
      set['产地'] = random.pick(['浙江', '广东', '上海', '福建']);
      sets.push(Object.freeze(set));
      const dropped = { ...set };
      delete dropped[required[i % required.length]];
      missing.push(Object.freeze(dropped));
    }
    complete[category] = sets;
    missingOne[category] = missing;
  }
  return { complete, missingOne };
}

const NO_TAGS: ReadonlyArray<{ tag: string; official: boolean }> = Object.freeze([]);
const OFFICIAL_TAG_LISTS = OFFICIAL_PROMO_TAGS.map((tag) => Object.freeze([Object.freeze({ tag, official: true })]));
const WITH_UNOFFICIAL_TAG_LISTS = UNOFFICIAL_PROMO_TAGS.map((tag, i) =>
  Object.freeze([Object.freeze({ tag: OFFICIAL_PROMO_TAGS[i % OFFICIAL_PROMO_TAGS.length], official: true }), Object.freeze({ tag, official: false })]),
);

/** Product ids sort in generation order: `<storeId>-p0000001`. */
export function generatedProductId(storeId: string, index: number): string {
  return `${storeId}-p${String(index + 1).padStart(7, '0')}`;
}

export function generateProducts(input: GenerateProductsInput): PartnerProduct[] {
  const { storeId, count } = input;
  if (!Number.isInteger(count) || count < 0) throw new Error(`count must be a non-negative integer, got ${count}`);
  const rates = resolvedRates(input.rates);
  const presaleRate = input.presaleRate ?? 0.05;
  const updatedAt = input.updatedAt ?? DEFAULT_UPDATED_AT;
  const random = new Random(seedOf(input.seed, storeId));
  const pools = attributePools(random);
  const products = new Array<PartnerProduct>(count);

  for (let i = 0; i < count; i++) {
    const productId = generatedProductId(storeId, i);
    const kind = CATEGORIES[random.below(CATEGORIES.length)];
    const category = random.chance(rates.unmappedCategory) ? random.pick(UNMAPPED_CATEGORIES) : kind;
    const attributes = random.chance(rates.missingAttribute) ? random.pick(pools.missingOne[kind]) : random.pick(pools.complete[kind]);
    const brand = attributes['品牌'] ?? random.pick(BRANDS);
    let title = `${brand}${random.pick(ADJECTIVES)}${random.pick(NOUNS[kind])}`;
    let description = random.pick(DESCRIPTIONS);
    if (random.chance(rates.bannedWord)) {
      const word = random.pick(GENERATED_BANNED_WORDS);
      if (random.below(2) === 0) title = `${word}${title}`;
      else description = `${description}，${word}好用`;
    }

    const [low, high] = PRICE_BANDS_FEN[kind];
    const priceFen = random.between(low, high);
    const channelPriceFen = random.chance(rates.priceGap) ? gappedPrice(priceFen, random) : Math.round((priceFen * random.between(920, 1000)) / 1000);

    const presale = random.chance(presaleRate);
    const presaleLabel = presale && !random.chance(rates.missingPresaleLabel) ? random.pick(PRESALE_LABELS) : null;
    const promoTags = random.chance(rates.unofficialPromoTag)
      ? random.pick(WITH_UNOFFICIAL_TAG_LISTS)
      : random.below(3) === 0
        ? random.pick(OFFICIAL_TAG_LISTS)
        : NO_TAGS;

    const needsReport = QUALITY_REPORT_CATEGORIES.includes(kind);
    const needsFiling = FILING_NUMBER_CATEGORIES.includes(kind);
    const qualityReport = needsReport && !random.chance(rates.missingQualityReport) ? `QR${String(random.below(100_000_000)).padStart(8, '0')}` : null;
    const filingNumber = needsFiling && !random.chance(rates.missingFilingNumber) ? `浙G妆网备字2026${String(random.below(1_000_000)).padStart(6, '0')}` : null;

    products[i] = {
      productId,
      title,
      description,
      category,
      priceFen,
      channelPriceFen,
      inventory: presale ? 0 : random.below(5_000),
      presale,
      presaleLabel,
      promoTags: promoTags as PartnerProduct['promoTags'],
      attributes: attributes as PartnerProduct['attributes'],
      images: imagesOf(productId, random, rates),
      qualityReport,
      filingNumber,
      detailUrl: `https://item.partner.example/${encodeURIComponent(storeId)}/${productId}`,
      updatedAt,
    };
  }
  return products;
}

/**
 * A second round: some prices move by `priceChangePercent` (up or down), some texts gain a
 * banned word. Changed products are new objects with the new `updatedAt`; the others are the
 * same objects as before, so a round over a million products costs little memory.
 */
export function mutate(products: readonly PartnerProduct[], input: MutateProductsInput): PartnerProduct[] {
  const random = new Random(seedOf(input.seed, 'mutate', products.length));
  const priceChangeRate = input.priceChangeRate ?? 0;
  const percent = input.priceChangePercent ?? 0;
  const bannedWordRate = input.bannedWordRate ?? 0;
  const updatedAt = input.updatedAt ?? '2026-11-02T00:00:00.000Z';
  const out = new Array<PartnerProduct>(products.length);
  for (let i = 0; i < products.length; i++) {
    const product = products[i];
    const movePrice = random.chance(priceChangeRate);
    const addWord = random.chance(bannedWordRate);
    if (!movePrice && !addWord) {
      out[i] = product;
      continue;
    }
    const changed = { ...product, updatedAt };
    if (movePrice) {
      const factor = 1 + (random.below(2) === 0 ? percent : -percent) / 100;
      changed.priceFen = Math.max(1, Math.round(product.priceFen * factor));
      changed.channelPriceFen = Math.max(1, Math.round(product.channelPriceFen * factor));
    }
    if (addWord) {
      const word = random.pick(GENERATED_BANNED_WORDS);
      if (random.below(2) === 0) changed.title = `${word}${product.title}`;
      else changed.description = `${product.description}，${word}好用`;
    }
    out[i] = changed;
  }
  return out;
}

function resolvedRates(rates: Partial<CatalogueDefectRates> | undefined): CatalogueDefectRates {
  const resolved = {} as CatalogueDefectRates;
  for (const defect of CATALOGUE_DEFECTS) {
    const rate = rates?.[defect] ?? 0;
    if (!(rate >= 0 && rate <= 1)) throw new Error(`rate ${defect} must be within 0..1, got ${rate}`);
    resolved[defect] = rate;
  }
  return resolved;
}

// More than 10% away: 12%–25% below or above the store's price.
function gappedPrice(priceFen: number, random: Random): number {
  const gap = random.between(120, 250) / 1000;
  return Math.max(1, Math.round(priceFen * (random.below(2) === 0 ? 1 - gap : 1 + gap)));
}

function imagesOf(productId: string, random: Random, rates: CatalogueDefectRates): PartnerImage[] {
  const small = random.chance(rates.smallMainImage);
  const side = small ? random.between(300, MIN_MAIN_IMAGE - 1) : random.pick([800, 1000, 1200, 1600]);
  const marked = random.chance(rates.watermarkOrText);
  const watermark = marked && random.below(2) === 0;
  const images: PartnerImage[] = [{ url: `https://img.partner.example/${productId}/0.jpg`, width: side, height: side, watermark, text: marked && !watermark }];
  const extra = 1 + random.below(3);
  // Detail images often carry text; the rules look at the first image only.
  for (let n = 1; n <= extra; n++) images.push({ url: `https://img.partner.example/${productId}/${n}.jpg`, width: 800, height: 1200, watermark: false, text: random.below(2) === 0 });
  return images;
}
