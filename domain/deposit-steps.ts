// The deposit ladder's names (docs/rules.md §2), apart from the policy's numbers and schema
// (domain/deposit-policy.ts) so workflow code can import them without zod.

/**
 * The enforcement ladder, in the order it escalates. [src] lists what the platform may do
 * when the balance is short; the order is [default]. restrict_withdrawals also stands for
 * "restrict or close other functions" ([src] items 4 and 5 come into force together).
 */
export const LADDER_STEPS = [
  'notify',
  'transfer_proceeds',
  'close_cart',
  'stop_listing',
  'stop_sales',
  'restrict_withdrawals',
] as const;
export type LadderStep = (typeof LADDER_STEPS)[number];

/** The ladder steps that take something away from the shop (lifted by a full top-up). */
export const RESTRICTIONS = ['close_cart', 'stop_listing', 'stop_sales', 'restrict_withdrawals'] as const;
export type Restriction = (typeof RESTRICTIONS)[number];
