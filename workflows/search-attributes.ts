import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes every merchant-ops workflow carries, so ops can filter in
 * the Web UI and with `temporal workflow list --query "MerchantId='m-1'"`.
 * The worker registers them at start (worker/search-attributes.ts); the dev stack
 * also passes them to `temporal server start-dev`.
 */
export const MERCHANT_ID = defineSearchAttributeKey('MerchantId', SearchAttributeType.KEYWORD);
export const PROCESS_TYPE = defineSearchAttributeKey('ProcessType', SearchAttributeType.KEYWORD);
/**
 * Where the process stands in business terms (`shortfall`, `in_review`, `closed`), set through
 * workflows/business-status.ts only. Not `Status`: the Web UI lists a custom attribute of that
 * name in place of Temporal's own execution status, so neither could be read beside the
 * other. `ExecutionStatus` (Running, Completed, Failed…) stays Temporal's.
 *
 * Runs recorded while the key was `Status` replay under this one: the SDK's replay compares an
 * upsert's command type, not the attributes it sets (test/replay/histories hold such runs).
 */
export const BUSINESS_STATUS = defineSearchAttributeKey('BusinessStatus', SearchAttributeType.KEYWORD);
export const OVERDUE = defineSearchAttributeKey('Overdue', SearchAttributeType.BOOL);
/** The pending deadline was counted on the provisional calendar (a year without official data). */
export const PROVISIONAL_DEADLINE = defineSearchAttributeKey('ProvisionalDeadline', SearchAttributeType.BOOL);

export const CUSTOM_SEARCH_ATTRIBUTES = [MERCHANT_ID, PROCESS_TYPE, BUSINESS_STATUS, OVERDUE, PROVISIONAL_DEADLINE] as const;
