import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes every merchant-ops workflow carries, so ops can filter in
 * the Web UI and with `temporal workflow list --query "MerchantId='m-1'"`.
 * The worker registers them at start (worker/search-attributes.ts); the dev stack
 * also passes them to `temporal server start-dev`.
 */
export const MERCHANT_ID = defineSearchAttributeKey('MerchantId', SearchAttributeType.KEYWORD);
export const PROCESS_TYPE = defineSearchAttributeKey('ProcessType', SearchAttributeType.KEYWORD);
export const STATUS = defineSearchAttributeKey('Status', SearchAttributeType.KEYWORD);
export const OVERDUE = defineSearchAttributeKey('Overdue', SearchAttributeType.BOOL);
/** The pending deadline was counted on the provisional calendar (a year without official data). */
export const PROVISIONAL_DEADLINE = defineSearchAttributeKey('ProvisionalDeadline', SearchAttributeType.BOOL);

export const CUSTOM_SEARCH_ATTRIBUTES = [MERCHANT_ID, PROCESS_TYPE, STATUS, OVERDUE, PROVISIONAL_DEADLINE] as const;
