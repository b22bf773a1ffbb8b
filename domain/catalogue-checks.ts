
/**
 * The checks every product of a bound store passes before it is listed or updated on Kuaishou
 * (docs/rules.md §5.3). Pure: the sync activity runs them on the products a page changed and
 * records each failure with its class, a reason and how to fix it.
 */

/** What the checks read of a partner's product (platform/partners/types.ts CheckedProduct has it all). */
export interface CheckedProduct {
  title: string;
  category: string;
  presale: boolean;
  presaleLabel: string | null;
  promoTags: Array<{ tag: string; official: boolean }>;
  attributes: Record<string, string>;
  /** The first is the main image. */
  images: Array<{ width: number; height: number; watermark: boolean; text: boolean }>;
  qualityReport: string | null;
  filingNumber: string | null;
}

export type CatalogueSyncKind = 'base' | 'inventory' | 'promo';
export const CATALOGUE_SYNC_KINDS: readonly CatalogueSyncKind[] = ['base', 'inventory', 'promo'];

export type SpecialClass = 'beauty' | 'food' | 'cosmetics' | 'none';
export const SPECIAL_CLASSES: readonly SpecialClass[] = ['beauty', 'food', 'cosmetics', 'none'];

export type CheckClass =
  | 'category_unmapped'
  | 'attributes_missing'
  | 'main_image_too_small'
  | 'first_image_watermark'
  | 'first_image_text'
  | 'quality_report_missing'
  | 'filing_number_missing'
  | 'presale_label_missing';

export const CHECK_CLASSES: readonly CheckClass[] = [
  'category_unmapped',
  'attributes_missing',
  'main_image_too_small',
  'first_image_watermark',
  'first_image_text',
  'quality_report_missing',
  'filing_number_missing',
  'presale_label_missing',
];

export interface CheckFailure {
  class: CheckClass;
  reason: string;
  fix: string;
}

/** The mapping in effect for the product's partner category (its latest version); null: unmapped. */
export interface CategoryMappingRule {
  ksCategory: string;
  requiredAttributes: string[];
  specialClass: SpecialClass;
}

/** The main image's least size [src]: 800×800 pixels. */
export const MIN_MAIN_IMAGE_PX = 800;
/**
 * The deposit labels a pre-sale item carries [src] (订金, 淘宝预售). [default]: the label counts
 * when the partner's pre-sale label or the title contains one of them.
 */
export const PRESALE_LABELS: readonly string[] = ['订金', '淘宝预售'];
/** Special classes that need a quality-inspection report [src]. */
const NEEDS_QUALITY_REPORT: readonly SpecialClass[] = ['beauty', 'food'];

const present = (s: string | null | undefined): boolean => typeof s === 'string' && s.trim() !== '';

/** The checks a run of each kind applies: a run checks only what it writes (docs/rules.md §5.3). */
const BASE_CHECKS = ['category', 'attributes', 'images', 'special', 'presale'] as const;
const CHECKS_OF_KIND: Record<CatalogueSyncKind, readonly (typeof BASE_CHECKS)[number][]> = {
  base: BASE_CHECKS,
  inventory: ['presale'],
  promo: [],
};

/**
 * The failures of one product. `kind` picks the checks (a product new to merchant-ops is
 * checked as in a base run, whatever the kind: all of it is written).
 */
export function checkProduct(product: CheckedProduct, mapping: CategoryMappingRule | null, kind: CatalogueSyncKind): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const checks = CHECKS_OF_KIND[kind];
  if (checks.includes('category') && !mapping) {
    failures.push({
      class: 'category_unmapped',
      reason: `partner category ${product.category} has no Kuaishou category`,
      fix: 'ops map the category (POST /v1/category-mappings); the next base sync lists the product',
    });
  }
  if (checks.includes('attributes') && mapping) {
    const missing = mapping.requiredAttributes.filter((name) => !present(product.attributes[name]));
    if (missing.length > 0) {
      failures.push({
        class: 'attributes_missing',
        reason: `required attributes missing: ${missing.join(', ')}`,
        fix: `fill ${missing.join(', ')} on the partner`,
      });
    }
  }
  if (checks.includes('images')) failures.push(...imageFailures(product));
  if (checks.includes('special') && mapping) {
    if (NEEDS_QUALITY_REPORT.includes(mapping.specialClass) && !present(product.qualityReport)) {
      failures.push({
        class: 'quality_report_missing',
        reason: `${mapping.specialClass} products need a quality-inspection report`,
        fix: "upload the quality-inspection report's number on the partner",
      });
    }
    if (mapping.specialClass === 'cosmetics' && !present(product.filingNumber)) {
      failures.push({ class: 'filing_number_missing', reason: 'cosmetics need a filing number (备案号)', fix: 'add the filing number on the partner' });
    }
  }
  if (checks.includes('presale') && product.presale && !hasPresaleLabel(product)) {
    failures.push({
      class: 'presale_label_missing',
      reason: 'pre-sale item without a deposit label',
      fix: `label the item ${PRESALE_LABELS.map((l) => `"${l}"`).join(' or ')} in its pre-sale label or title`,
    });
  }
  return failures;
}

function imageFailures(product: CheckedProduct): CheckFailure[] {
  const main = product.images[0];
  if (!main) {
    return [{ class: 'main_image_too_small', reason: 'no main image', fix: `add a main image of at least ${MIN_MAIN_IMAGE_PX}×${MIN_MAIN_IMAGE_PX}` }];
  }
  const failures: CheckFailure[] = [];
  if (main.width < MIN_MAIN_IMAGE_PX || main.height < MIN_MAIN_IMAGE_PX) {
    failures.push({
      class: 'main_image_too_small',
      reason: `main image is ${main.width}×${main.height}`,
      fix: `replace the main image with one of at least ${MIN_MAIN_IMAGE_PX}×${MIN_MAIN_IMAGE_PX}`,
    });
  }
  if (main.watermark) failures.push({ class: 'first_image_watermark', reason: 'the first image carries a watermark', fix: 'replace the first image with one without a watermark' });
  if (main.text) failures.push({ class: 'first_image_text', reason: 'the first image carries text', fix: 'replace the first image with one without text laid over it' });
  return failures;
}

/** A pre-sale item's deposit label: in the partner's pre-sale label or in the title. */
export function hasPresaleLabel(product: Pick<CheckedProduct, 'presaleLabel' | 'title'>): boolean {
  return PRESALE_LABELS.some((label) => (product.presaleLabel ?? '').includes(label) || product.title.includes(label));
}

/**
 * Only the partner's official promotion tags go to Kuaishou [src]. An unofficial tag is
 * dropped and counted, not a failure: the product is still listed.
 */
export function officialPromoTags(tags: CheckedProduct['promoTags']): { kept: string[]; dropped: number } {
  const kept = [...new Set(tags.filter((t) => t.official).map((t) => t.tag))].sort();
  return { kept, dropped: tags.filter((t) => !t.official).length };
}

/** Failures counted by class, classes in catalogue order. */
export function countByClass(failures: ReadonlyArray<Pick<CheckFailure, 'class'>>): Partial<Record<CheckClass, number>> {
  const counts: Partial<Record<CheckClass, number>> = {};
  for (const c of CHECK_CLASSES) {
    const n = failures.filter((f) => f.class === c).length;
    if (n > 0) counts[c] = n;
  }
  return counts;
}
