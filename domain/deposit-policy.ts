/**
 * Deposit policy (保证金, docs/rules.md §2): how much a shop must keep on deposit, the
 * enforcement ladder when the balance falls short, and the after-sales window that holds
 * back a closing shop's refund. Numbers are in fen (1 CNY = 100 fen), safe integers.
 *
 * Every number is configurable (DEPOSIT_POLICY_JSON, partial JSON over the defaults), since
 * most are [default]s the sources leave open. Pure: zod only, no Node built-ins.
 */
import { z } from 'zod';

// The steps and restrictions are data-free (domain/deposit-steps.ts), so workflow code imports
// them without zod.
import { LADDER_STEPS, type LadderStep } from './deposit-steps';
export { LADDER_STEPS, RESTRICTIONS, type LadderStep, type Restriction } from './deposit-steps';

export type ShopType = 'individual' | 'enterprise';

export interface DepositPolicy {
  baseFen: Record<ShopType, number>;
  /** No base deposit may be set below this. */
  minimumBaseFen: number;
  /** Categories that each add specialCategoryExtraFen when the shop sells them. */
  specialCategories: string[];
  specialCategoryExtraFen: number;
  /** By last natural month's GMV: ascending by fromFen, the first from 0. */
  gmvTiers: Array<{ fromFen: number; extraFen: number }>;
  /** Promotion deposit (推广保证金): the least that must stay on it. */
  promotionMinimumFen: number;
  /** Each step comes into force afterDays calendar days after the shortfall episode starts. */
  ladder: Array<{ step: LadderStep; afterDays: number }>;
  /** Calendar days after receipt during which a finished order can still come back. */
  afterSales: { returnDays: number; disputeDays: number };
}

const CNY = 100;

export const DEFAULT_DEPOSIT_POLICY: DepositPolicy = {
  // [default] 500 CNY individual, 1,000 CNY enterprise; [src] "from 1000 CNY, lowered in
  // 2020 to a minimum of 500 CNY".
  baseFen: { individual: 500 * CNY, enterprise: 1_000 * CNY },
  // [src] the 2020 minimum, 500 CNY.
  minimumBaseFen: 500 * CNY,
  // [src] some categories need a special-category deposit; [default] which ones and +2,000 CNY each.
  specialCategories: ['beauty', 'food'],
  specialCategoryExtraFen: 2_000 * CNY,
  // [src] re-assessed from last natural month's sales; [default] the tiers: under
  // 100,000 CNY +0, 100,000–999,999 CNY +2,000, from 1,000,000 CNY +10,000.
  gmvTiers: [
    { fromFen: 0, extraFen: 0 },
    { fromFen: 100_000 * CNY, extraFen: 2_000 * CNY },
    { fromFen: 1_000_000 * CNY, extraFen: 10_000 * CNY },
  ],
  // [src] promotion deposit, minimum 500 CNY.
  promotionMinimumFen: 500 * CNY,
  // [src] the measures; [default] their order and grace periods.
  ladder: [
    { step: 'notify', afterDays: 0 },
    { step: 'transfer_proceeds', afterDays: 0 },
    { step: 'close_cart', afterDays: 3 },
    { step: 'stop_listing', afterDays: 7 },
    { step: 'stop_sales', afterDays: 10 },
    { step: 'restrict_withdrawals', afterDays: 15 },
  ],
  // [src] 七天无理由退换货 (7 days after receipt); [default] 15 more days for disputes.
  afterSales: { returnDays: 7, disputeDays: 15 },
};

// zod 4: int() already refuses anything outside the safe-integer range.
const fen = z.int().nonnegative();
const days = z.int().nonnegative();

const ladderEntry = z.object({ step: z.enum(LADDER_STEPS), afterDays: days }).strict();

export const depositPolicySchema: z.ZodType<DepositPolicy> = z
  .object({
    baseFen: z.object({ individual: fen, enterprise: fen }).strict(),
    minimumBaseFen: fen,
    specialCategories: z.array(z.string().trim().min(1, 'must not be blank')),
    specialCategoryExtraFen: fen,
    gmvTiers: z.array(z.object({ fromFen: fen, extraFen: fen }).strict()).min(1),
    promotionMinimumFen: fen,
    ladder: z.array(ladderEntry),
    afterSales: z.object({ returnDays: days, disputeDays: days }).strict(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });

    for (const type of ['individual', 'enterprise'] as const) {
      if (p.baseFen[type] < p.minimumBaseFen) {
        issue(['baseFen', type], `must be at least minimumBaseFen (${p.minimumBaseFen})`);
      }
    }

    p.specialCategories.forEach((category, i) => {
      if (p.specialCategories.indexOf(category) !== i) {
        issue(['specialCategories', i], `${category} is listed more than once`);
      }
    });

    // Refinements run alongside non-aborting issues such as min(1), so the list may be empty.
    if (p.gmvTiers.length > 0 && p.gmvTiers[0].fromFen !== 0) issue(['gmvTiers', 0, 'fromFen'], 'the first tier must start at 0');
    p.gmvTiers.forEach((tier, i) => {
      if (i > 0 && tier.fromFen <= p.gmvTiers[i - 1].fromFen) {
        issue(['gmvTiers', i, 'fromFen'], 'tiers must be strictly ascending by fromFen');
      }
    });

    const seen = new Set<LadderStep>();
    p.ladder.forEach((entry, i) => {
      if (seen.has(entry.step)) issue(['ladder', i, 'step'], `${entry.step} is listed more than once`);
      seen.add(entry.step);
    });
    // A later step never comes into force before an earlier one (the array order is free).
    const inLadderOrder = [...p.ladder].sort((a, b) => LADDER_STEPS.indexOf(a.step) - LADDER_STEPS.indexOf(b.step));
    inLadderOrder.forEach((entry, i) => {
      const previous = inLadderOrder[i - 1];
      if (previous && entry.afterDays < previous.afterDays) {
        issue(
          ['ladder', p.ladder.indexOf(entry), 'afterDays'],
          `${entry.step} must not come before ${previous.step} (${previous.afterDays} days)`,
        );
      }
    });
  });

/**
 * The policy from DEPOSIT_POLICY_JSON: a partial JSON object whose top-level keys replace
 * those of DEFAULT_DEPOSIT_POLICY (a nested object such as baseFen is replaced whole).
 * Throws an Error listing every bad field; unknown keys are refused, since a misspelt key
 * would otherwise leave a default silently in force.
 */
export function parseDepositPolicy(json: string): DepositPolicy {
  let partial: unknown;
  try {
    partial = JSON.parse(json);
  } catch (error) {
    throw new Error(`invalid deposit policy: not valid JSON (${(error as Error).message})`);
  }
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) {
    throw new Error('invalid deposit policy: expected a JSON object');
  }
  const parsed = depositPolicySchema.safeParse({ ...DEFAULT_DEPOSIT_POLICY, ...partial });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid deposit policy:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
